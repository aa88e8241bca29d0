// Passkeys (WebAuthn, through @simplewebauthn/server): registering one to an account, and
// checking an assertion, as a second factor or as a sign-in of its own. Framework-free;
// prove.ts and the routers add limits, audit and mail. Decision 014 says why each rule.
import { createHash } from 'node:crypto';
import {
  type AuthenticationExtensionsClientOutputs,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
  type WebAuthnCredential,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { decodeClientDataJSON, isoBase64URL, isoUint8Array } from '@simplewebauthn/server/helpers';
import { and, asc, count, eq, gt, isNull, lt } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../../db/client.ts';

/** Long enough to find the phone or the key; short enough that a stored challenge does not linger. */
export const WEBAUTHN_CHALLENGE_TTL_SECONDS = 300;
/** A user's passkeys: enough for every device, few enough to list on one page. */
export const MAX_PASSKEYS = 20;
/** WebAuthn §6.1: a credential ID is at most 1023 bytes. */
const MAX_CREDENTIAL_ID_BYTES = 1023;
/**
 * EdDSA, ES256, RS256: what every authenticator offers. Pinned, so an upgrade of the
 * library or of Node (which may add post-quantum ML-DSA) cannot make one instance accept
 * passkeys another cannot verify.
 */
const ALGORITHMS = [-8, -7, -257];
/** The transports WebAuthn names; a browser's newer ones are dropped, not refused. */
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

const base64url = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[\w-]*$/, 'Expected base64url');

/** Extension outputs: none is asked for, so none is read; only its shape is checked. */
const clientExtensionResults = z
  .custom<AuthenticationExtensionsClientOutputs>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'Expected an object',
  )
  .default({});

/** What @simplewebauthn/browser's startAuthentication returns; sizes bounded, unknown fields dropped. */
export const authenticationResponseInput = z.object({
  id: base64url(1400).min(1),
  rawId: base64url(1400).min(1),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url(4096),
    authenticatorData: base64url(4096),
    signature: base64url(2048),
    userHandle: base64url(512).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults,
});

/** What startRegistration returns. */
export const registrationResponseInput = z.object({
  id: base64url(1400).min(1),
  rawId: base64url(1400).min(1),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url(4096),
    attestationObject: base64url(16_384),
    transports: z
      .array(z.string().max(32))
      .max(8)
      .optional()
      .transform((transports) => transports?.filter((transport) => TRANSPORTS.has(transport))),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults,
});

export const passkeyNameInput = z
  .string()
  .trim()
  .min(1, 'Give the passkey a name')
  .max(64)
  // It goes into mails and the list: one line of visible text.
  .regex(/^[^\p{Cc}]*$/u, 'A passkey name is one line of text');

export type PasskeyFailure =
  /** No challenge of ours, or it expired or was used: start the ceremony again. */
  | 'expired_challenge'
  /** No passkey with this credential ID is registered (here, or to this account). */
  | 'unknown_passkey'
  /** Signature, origin, RP ID, user verification or counter wrong, or the response malformed. */
  | 'not_verified';
/** `userId`, on a failure: the account of a registered passkey that did not verify (for its audit trail). */
export type PasskeyCheck =
  | { ok: true; userId: string; passkeyId: string; name: string }
  | { ok: false; reason: PasskeyFailure; userId?: string };
export type RegistrationCheck = { ok: true; credential: WebAuthnCredential } | { ok: false; reason: PasskeyFailure };

const hashChallenge = (challenge: string) => createHash('sha256').update(challenge).digest('base64url');

/**
 * @example
 * const passkeys = createPasskeys(db, { origin: 'https://app.example.com', rpName: 'Example' })
 * const options = await passkeys.registrationOptions(user, now)   // to startRegistration()
 * await passkeys.register(user.id, response, 'Phone', now)          // => { ok: true, ... }
 * const request = await passkeys.authenticationOptions(now)        // to startAuthentication()
 * await passkeys.authenticate(assertion, now)                      // => { ok: true, userId, ... }
 */
export function createPasskeys(db: Db, { origin, rpName }: { origin: string; rpName: string }) {
  const { passkeys, webauthnChallenges } = db.tables;
  // The RP ID is the app's host name: passkeys made here work on no other site (APP_ORIGIN).
  const rpID = new URL(origin).hostname;

  async function storeChallenge(
    challenge: string,
    purpose: 'registration' | 'authentication',
    userId: string | null,
    now: Date,
  ) {
    const expiresAt = new Date(now.getTime() + WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000);
    await db.insert(webauthnChallenges).values({ challengeHash: hashChallenge(challenge), purpose, userId, expiresAt });
  }

  /**
   * The challenge the response signed, used up in the statement that checks it is ours,
   * live and for this ceremony (and account): returned once, null ever after, on any instance.
   */
  async function consumeChallenge(
    clientDataJSON: string,
    purpose: 'registration' | 'authentication',
    userId: string | null,
    now: Date,
  ): Promise<string | null> {
    let challenge: string;
    try {
      challenge = decodeClientDataJSON(clientDataJSON).challenge;
      if (typeof challenge !== 'string') return null;
    } catch {
      return null;
    }
    // A challenge answered for another ceremony or account is left alone: its owner may still use it.
    const deleted = await db
      .delete(webauthnChallenges)
      .where(
        and(
          eq(webauthnChallenges.challengeHash, hashChallenge(challenge)),
          gt(webauthnChallenges.expiresAt, now),
          eq(webauthnChallenges.purpose, purpose),
          userId === null ? isNull(webauthnChallenges.userId) : eq(webauthnChallenges.userId, userId),
        ),
      )
      .returning({ challengeHash: webauthnChallenges.challengeHash });
    return deleted.length > 0 ? challenge : null;
  }

  const transportsOf = (row: { transports: string }) =>
    row.transports ? (row.transports.split(',') as AuthenticatorTransport[]) : undefined;

  const countOf = async (userId: string) =>
    (await db.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId)))[0]?.n ?? 0;

  return {
    countOf,

    /** Options for navigator.credentials.create(); the challenge is bound to `user`. */
    async registrationOptions(user: { id: string; email: string }, now: Date) {
      const existing = await db
        .select({ credentialId: passkeys.credentialId, transports: passkeys.transports })
        .from(passkeys)
        .where(eq(passkeys.userId, user.id));
      const options = await generateRegistrationOptions({
        rpName,
        rpID,
        userName: user.email,
        // The account's random id: a user handle must not be an e-mail address (WebAuthn §14.6.1).
        userID: isoUint8Array.fromUTF8String(user.id),
        timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
        attestationType: 'none',
        // The same authenticator twice would be one factor counted as two.
        excludeCredentials: existing.map((row) => ({ id: row.credentialId, transports: transportsOf(row) })),
        // Discoverable, so it can sign in without an e-mail; verified (PIN, biometrics), so it alone is enough.
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        supportedAlgorithmIDs: ALGORITHMS,
      });
      await storeChallenge(options.challenge, 'registration', user.id, now);
      return options;
    },

    /**
     * Checks a registration response for `userId`: our live challenge for this account (used
     * up first), this origin and RP ID, user verification, and a credential ID that is the
     * one the authenticator attested. Stores nothing (`store` does).
     */
    async verifyRegistration(
      userId: string,
      response: RegistrationResponseJSON,
      now: Date,
    ): Promise<RegistrationCheck> {
      const challenge = await consumeChallenge(response.response.clientDataJSON, 'registration', userId, now);
      if (!challenge) return { ok: false, reason: 'expired_challenge' };
      // Malformed input makes the library throw: to the caller, that is a response not verified.
      const verification = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        requireUserVerification: true,
        supportedAlgorithmIDs: ALGORITHMS,
      }).catch(() => null);
      if (!verification?.verified) return { ok: false, reason: 'not_verified' };
      const { credential } = verification.registrationInfo;
      // The library takes `id` from the response and the key from the attested data: they must agree.
      if (credential.id !== response.id || isoBase64URL.toBuffer(credential.id).length > MAX_CREDENTIAL_ID_BYTES) {
        return { ok: false, reason: 'not_verified' };
      }
      return { ok: true, credential };
    },

    /** Stores a verified passkey, unless the user has MAX_PASSKEYS or it is registered already. */
    async store(
      userId: string,
      credential: WebAuthnCredential,
      name: string,
      now: Date,
    ): Promise<{ id: string } | 'too_many' | 'already_registered'> {
      if ((await countOf(userId)) >= MAX_PASSKEYS) return 'too_many';
      const [row] = await db
        .insert(passkeys)
        .values({
          userId,
          credentialId: credential.id,
          publicKey: isoBase64URL.fromBuffer(credential.publicKey),
          counter: credential.counter,
          transports: (credential.transports ?? []).join(','),
          name,
          createdAt: now,
        })
        .onConflictDoNothing()
        .returning({ id: passkeys.id });
      return row ?? 'already_registered';
    },

    /**
     * Options for navigator.credentials.get(), with no credentials listed: the authenticator
     * offers its passkeys for this site, and the one chosen names its account. The same
     * options serve a sign-in, a second step and a step-up; `authenticate` checks the owner.
     */
    async authenticationOptions(now: Date) {
      const options = await generateAuthenticationOptions({
        rpID,
        timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
        userVerification: 'required',
      });
      await storeChallenge(options.challenge, 'authentication', null, now);
      return options;
    },

    /**
     * Checks an assertion: our live challenge (used up first, so every attempt costs one),
     * a registered passkey (of `expectedUserId` when given), its signature, this origin and
     * RP ID, user verification, and a counter that went up. Records the new counter,
     * refusing a second use of one value.
     */
    async authenticate(
      response: AuthenticationResponseJSON,
      now: Date,
      expectedUserId?: string,
    ): Promise<PasskeyCheck> {
      const challenge = await consumeChallenge(response.response.clientDataJSON, 'authentication', null, now);
      if (!challenge) return { ok: false, reason: 'expired_challenge' };
      const [row] = await db.select().from(passkeys).where(eq(passkeys.credentialId, response.id));
      if (!row || (expectedUserId !== undefined && row.userId !== expectedUserId)) {
        return { ok: false, reason: 'unknown_passkey' };
      }
      const failed = { ok: false, reason: 'not_verified', userId: row.userId } as const;
      // A discoverable credential says whose it is: it must be the account it was registered to.
      const userHandle = response.response.userHandle;
      if (userHandle !== undefined && userHandle !== isoBase64URL.fromUTF8String(row.userId)) return failed;
      const verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: {
          id: row.credentialId,
          publicKey: isoBase64URL.toBuffer(row.publicKey),
          counter: row.counter,
          transports: transportsOf(row),
        },
        requireUserVerification: true,
      }).catch(() => null);
      if (!verification?.verified) return failed;
      // Compare-and-set: of two assertions carrying one counter value (a cloned key), one counts.
      const [updated] = await db
        .update(passkeys)
        .set({ counter: verification.authenticationInfo.newCounter, lastUsedAt: now })
        .where(and(eq(passkeys.id, row.id), eq(passkeys.counter, row.counter)))
        .returning({ id: passkeys.id });
      if (!updated) return failed;
      return { ok: true, userId: row.userId, passkeyId: row.id, name: row.name };
    },

    /** The user's passkeys for the settings page; never their keys. */
    list: (userId: string) =>
      db
        .select({
          id: passkeys.id,
          name: passkeys.name,
          createdAt: passkeys.createdAt,
          lastUsedAt: passkeys.lastUsedAt,
        })
        .from(passkeys)
        .where(eq(passkeys.userId, userId))
        .orderBy(asc(passkeys.createdAt)),

    async rename(userId: string, id: string, name: string): Promise<boolean> {
      const renamed = await db
        .update(passkeys)
        .set({ name })
        .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
        .returning({ id: passkeys.id });
      return renamed.length > 0;
    },

    async prune(now: Date): Promise<number> {
      const deleted = await db
        .delete(webauthnChallenges)
        .where(lt(webauthnChallenges.expiresAt, now))
        .returning({ challengeHash: webauthnChallenges.challengeHash });
      return deleted.length;
    },
  };
}

export type Passkeys = ReturnType<typeof createPasskeys>;
