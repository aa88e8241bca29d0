// The keys behind access tokens: one HMAC secret (HS256, the default), or an Ed25519
// (EdDSA) or P-256 (ES256) private key whose public half other services fetch from
// /.well-known/jwks.json, so they can verify tokens without being able to mint them.
// After `setup --rotate` the previous key verifies (never signs) for one more TTL.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type CryptoKey, type JWK, calculateJwkThumbprint, importJWK } from 'jose';

export const ALGORITHMS = ['HS256', 'EdDSA', 'ES256'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
export type AsymmetricAlgorithm = Exclude<Algorithm, 'HS256'>;

/** The one key type and curve each asymmetric algorithm takes. */
const CURVES = {
  EdDSA: { keyType: 'ed25519', namedCurve: undefined, name: 'an Ed25519' },
  ES256: { keyType: 'ec', namedCurve: 'prime256v1', name: 'a P-256' },
} as const;

const curveOf = (key: KeyObject) =>
  key.asymmetricKeyType === 'ed25519'
    ? 'Ed25519'
    : key.asymmetricKeyType === 'ec'
      ? `EC ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve'}`
      : (key.asymmetricKeyType ?? 'unknown');

/**
 * Reads a base64url DER key (PKCS#8 for a private key, SPKI for a public one) and checks
 * it fits `alg`; returns the key, or the reason it is unusable.
 *
 * @example
 * readKey('EdDSA', process.env.JWT_PRIVATE_KEY, 'private') // => { key } | { problem: 'is an EC prime256v1 key…' }
 */
export function readKey(
  alg: AsymmetricAlgorithm,
  text: string,
  kind: 'private' | 'public',
): { key: KeyObject } | { problem: string } {
  const format = kind === 'private' ? 'PKCS#8' : 'SPKI';
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return { problem: `must be a base64url ${format} DER key (no PEM armour).` };
  let key: KeyObject;
  try {
    const der = Buffer.from(text, 'base64url');
    key =
      kind === 'private'
        ? createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
        : createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return { problem: `is not a ${format} ${kind} key (base64url DER).` };
  }
  const want = CURVES[alg];
  if (key.asymmetricKeyType !== want.keyType || key.asymmetricKeyDetails?.namedCurve !== want.namedCurve) {
    return { problem: `is an ${curveOf(key)} key, but JWT_ALG=${alg} needs ${want.name} key.` };
  }
  return { key };
}

/** A fresh key pair for `alg`, as setup writes it: base64url PKCS#8 (private) and SPKI (public). */
export function generateKeyPair(alg: AsymmetricAlgorithm) {
  const pair = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey: pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url'),
    publicKey: pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64url'),
  };
}

/** The public half of a private key, base64url SPKI: what `setup --rotate` keeps publishing. */
export const publicKeyOf = (privateKey: KeyObject) =>
  createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('base64url');

export interface KeyConfig {
  alg: Algorithm;
  secret?: string;
  previousSecret?: string;
  privateKey?: KeyObject;
  previousPublicKey?: KeyObject;
  /** The previous key verifies nothing from this time on (fixed by `setup --rotate`). */
  previousUntil?: Date;
  accessTokenTtl: number;
}

export interface VerificationKey {
  key: CryptoKey;
  /** Epoch seconds: tokens this key "issued" later were minted by someone else (see below). */
  signedBefore: number;
}

export interface SigningKeys {
  alg: Algorithm;
  signing: { kid: string; key: CryptoKey };
  verifying: Map<string, VerificationKey>;
  /** The public keys verifiers may fetch at `now`: none with HS256. */
  publicJwks(now: Date): JWK[];
}

/** An HMAC key's public, stable name: it lets verification pick the key without trying each. */
export const hmacKeyId = (secret: string) =>
  createHash('sha256').update(`kid:${secret}`).digest('base64url').slice(0, 16);

const importHmac = (secret: string) =>
  crypto.subtle.importKey('raw', Buffer.from(secret, 'base64url'), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);

/** Only what a verifier needs: never `d`, whatever Node's export adds. */
function publicJwk(key: KeyObject): JWK {
  const { kty, crv, x, y } = key.export({ format: 'jwk' });
  return y === undefined ? { kty, crv, x } : { kty, crv, x, y };
}

/**
 * Imports the configured keys once, at boot.
 *
 * @example
 * const keys = await loadSigningKeys({ alg: 'EdDSA', privateKey, accessTokenTtl: 900 })
 * keys.publicJwks(new Date()) // => [{ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' }]
 */
export async function loadSigningKeys(config: KeyConfig): Promise<SigningKeys> {
  // The previous key verifies only tokens issued before the rotation (`setup --rotate`
  // recorded UNTIL = rotation + TTL), so all of them are dead by UNTIL, whatever the
  // number of restarts. A token it "issued" later was minted by someone holding it.
  const previousSignedBefore = config.previousUntil
    ? Math.floor(config.previousUntil.getTime() / 1000) - config.accessTokenTtl
    : Number.NEGATIVE_INFINITY;
  const verifying = new Map<string, VerificationKey>();

  if (config.alg === 'HS256') {
    if (!config.secret) throw new Error('HS256 needs JWT_SECRET');
    const kid = hmacKeyId(config.secret);
    const key = await importHmac(config.secret);
    verifying.set(kid, { key, signedBefore: Number.POSITIVE_INFINITY });
    if (config.previousSecret) {
      verifying.set(hmacKeyId(config.previousSecret), {
        key: await importHmac(config.previousSecret),
        signedBefore: previousSignedBefore,
      });
    }
    return { alg: 'HS256', signing: { kid, key }, verifying, publicJwks: () => [] };
  }

  const alg = config.alg;
  if (!config.privateKey) throw new Error(`${alg} needs JWT_PRIVATE_KEY`);
  const published: { jwk: JWK; until: number }[] = [];
  const addPublic = async (key: KeyObject, signedBefore: number, until: number) => {
    const jwk = publicJwk(key);
    const kid = await calculateJwkThumbprint(jwk);
    verifying.set(kid, { key: (await importJWK(jwk, alg)) as CryptoKey, signedBefore });
    published.push({ jwk: { ...jwk, kid, alg, use: 'sig' }, until });
    return kid;
  };
  const kid = await addPublic(createPublicKey(config.privateKey), Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  if (config.previousPublicKey) {
    await addPublic(config.previousPublicKey, previousSignedBefore, config.previousUntil?.getTime() ?? 0);
  }
  const signingKey = (await importJWK(config.privateKey.export({ format: 'jwk' }) as JWK, alg)) as CryptoKey;
  return {
    alg,
    signing: { kid, key: signingKey },
    verifying,
    publicJwks: (now) => published.filter(({ until }) => until > now.getTime()).map(({ jwk }) => jwk),
  };
}
