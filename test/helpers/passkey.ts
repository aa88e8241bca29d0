// A software passkey authenticator for HTTP tests: it answers the server's options as a
// browser and a platform authenticator would (ES256 keys, attestation "none"), and can be
// told to misbehave (no user verification, a wrong origin, a counter that does not move).
// The browser tests use Chromium's own virtual authenticator instead (test/e2e/passkeys.spec.ts).
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';
import { testConfig } from './config.ts';
import type { CallResult, TestClient } from './client.ts';

export interface Credential {
  id: Uint8Array<ArrayBuffer>;
  privateKey: KeyObject;
  cosePublicKey: Uint8Array;
  userHandle: string;
  counter: number;
}

/** Changes to one ceremony, to attack the server with. */
export interface Misbehaviour {
  /** Leave the user-verified flag off (a key without its PIN). */
  noUserVerification?: boolean;
  /** Sign for another origin (a phishing site relaying the ceremony). */
  origin?: string;
  /** Report this counter instead of the next one. */
  counter?: number;
  /** Sign another challenge than the options'. */
  challenge?: string;
  /** create(): attest a credential ID this many bytes long (16 by default). */
  credentialIdBytes?: number;
  /** create(): name another credential ID in the response than the one attested. */
  responseId?: string;
  /** create(): register this existing credential again (its key pair and ID). */
  reuse?: Credential;
  /** create(): the transports the browser reports. */
  transports?: string[];
  /** get(): answer with this user handle instead of the credential's. */
  userHandle?: string;
}

const FLAG = { userPresent: 0x01, userVerified: 0x04, attestedData: 0x40 };

const u32 = (n: number) => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n);
  return bytes;
};
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const sha256 = (data: Uint8Array | string) => new Uint8Array(createHash('sha256').update(data).digest());

/** A new ES256 key pair (P-256), as the authenticator would make for `userHandle`. */
function newCredential(userHandle: string, idBytes = 16): Credential {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const cosePublicKey = isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, isoBase64URL.toBuffer(jwk.x!)],
      [-3, isoBase64URL.toBuffer(jwk.y!)],
    ]),
  );
  return { id: new Uint8Array(randomBytes(idBytes)), privateKey, cosePublicKey, userHandle, counter: 0 };
}

export function createSoftAuthenticator(origin: string) {
  const credentials: Credential[] = [];

  const clientData = (type: string, challenge: string, misbehaviour: Misbehaviour) =>
    new Uint8Array(
      Buffer.from(
        JSON.stringify({
          type,
          challenge: misbehaviour.challenge ?? challenge,
          origin: misbehaviour.origin ?? origin,
          crossOrigin: false,
        }),
      ),
    );

  const authData = (rpId: string, counter: number, misbehaviour: Misbehaviour, attested?: Uint8Array) =>
    concat(
      sha256(rpId),
      new Uint8Array([
        FLAG.userPresent |
          (misbehaviour.noUserVerification ? 0 : FLAG.userVerified) |
          (attested ? FLAG.attestedData : 0),
      ]),
      u32(counter),
      attested ?? new Uint8Array(),
    );

  return {
    credentials,

    /** navigator.credentials.create(): a new key pair, a discoverable credential for `options.user`. */
    create(options: PublicKeyCredentialCreationOptionsJSON, misbehaviour: Misbehaviour = {}): RegistrationResponseJSON {
      const credential = misbehaviour.reuse ?? newCredential(options.user.id, misbehaviour.credentialIdBytes);
      if (!misbehaviour.reuse) credentials.push(credential);
      const { id, cosePublicKey } = credential;
      const length = new Uint8Array([id.length >> 8, id.length & 0xff]);
      const attested = concat(new Uint8Array(16), length, id, cosePublicKey);
      const attestationObject = isoCBOR.encode(
        new Map<string, string | Map<string, never> | Uint8Array>([
          ['fmt', 'none'],
          ['attStmt', new Map<string, never>()],
          ['authData', authData(options.rp.id!, misbehaviour.counter ?? 0, misbehaviour, attested)],
        ]),
      );
      const idText = misbehaviour.responseId ?? isoBase64URL.fromBuffer(id);
      return {
        id: idText,
        rawId: idText,
        type: 'public-key',
        response: {
          clientDataJSON: isoBase64URL.fromBuffer(clientData('webauthn.create', options.challenge, misbehaviour)),
          attestationObject: isoBase64URL.fromBuffer(attestationObject),
          transports: misbehaviour.transports ?? ['internal'],
        },
        clientExtensionResults: {},
      };
    },

    /** navigator.credentials.get(): signs with `credential` (the last one made, by default). */
    get(
      options: PublicKeyCredentialRequestOptionsJSON,
      misbehaviour: Misbehaviour = {},
      credential: Credential | undefined = credentials.at(-1),
    ): AuthenticationResponseJSON {
      if (!credential) throw new Error('softAuthenticator.get: no credential; create() one first');
      credential.counter += 1;
      const data = authData(options.rpId!, misbehaviour.counter ?? credential.counter, misbehaviour);
      const client = clientData('webauthn.get', options.challenge, misbehaviour);
      const signature = sign('sha256', concat(data, sha256(client)), credential.privateKey);
      const idText = isoBase64URL.fromBuffer(credential.id);
      return {
        id: idText,
        rawId: idText,
        type: 'public-key',
        response: {
          clientDataJSON: isoBase64URL.fromBuffer(client),
          authenticatorData: isoBase64URL.fromBuffer(data),
          signature: isoBase64URL.fromBuffer(new Uint8Array(signature)),
          userHandle: misbehaviour.userHandle ?? credential.userHandle,
        },
        clientExtensionResults: {},
      };
    },
  };
}
export type SoftAuthenticator = ReturnType<typeof createSoftAuthenticator>;

/** Registers a passkey of `authenticator` for the signed-in `client`, as the Security page does. */
export async function registerPasskey(
  client: TestClient,
  authenticator: SoftAuthenticator = createSoftAuthenticator(testConfig().appOrigin),
  name = 'Laptop',
  misbehaviour?: Misbehaviour,
): Promise<CallResult<{ id: string; recoveryCodes: string[] | null }>> {
  const options = await client.mutate<PublicKeyCredentialCreationOptionsJSON>('passkey.registrationOptions');
  // Refused (no recent proof): that answer, which carries no data.
  if (options.status !== 200) return { ...options, body: { error: options.body.error } };
  return client.mutate('passkey.register', {
    response: authenticator.create(options.body.result!.data, misbehaviour),
    name,
  });
}
