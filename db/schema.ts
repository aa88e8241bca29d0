// The database schema. After editing it, run `npm run db:generate` to write a
// migration into db/migrations/ and commit both; boot and `npm run setup` apply it.
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { DEFAULT_ROLE, ROLES } from '../server/auth/roles.ts';
import { createId } from './ids.ts';

const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });
// Set by the app rather than SQLite, so code that injects a clock (tests) controls them.
const createdAt = () =>
  timestamp('created_at')
    .notNull()
    .$defaultFn(() => new Date());

export const users = sqliteTable('users', {
  id: text('id').primaryKey().$defaultFn(createId),
  /** Trimmed and lower-cased before it is stored or looked up. */
  email: text('email').notNull().unique(),
  /** An argon2id PHC string, never the password. */
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ROLES }).notNull().default(DEFAULT_ROLE),
  /** Set when the owner proved they read this address (a link from it); null cannot sign in. */
  emailVerifiedAt: timestamp('email_verified_at'),
  /**
   * Set by an admin (admin.setDisabled): every session ended with it, and sign-in is refused
   * exactly like a wrong password until it is cleared.
   */
  disabledAt: timestamp('disabled_at'),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at')
    .notNull()
    .$defaultFn(() => new Date())
    .$onUpdateFn(() => new Date()),
});

/** Why a session ended; kept with the session for the user's and the auditor's sake. */
export const REVOCATION_REASONS = [
  'logout',
  'revoked',
  'password_changed',
  'reuse_detected',
  /** The browser that held it signed in again (its cookies now belong to the new session). */
  'signed_in_again',
  'account_deleted',
  /** An admin disabled the account (admin.setDisabled): every session ended with it. */
  'account_disabled',
] as const;

/** A session is one refresh-token family: every token rotated from one sign-in. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at').notNull(),
    /** Slides forward on every refresh (REFRESH_TOKEN_TTL). */
    idleExpiresAt: timestamp('idle_expires_at').notNull(),
    /** Fixed at sign-in (SESSION_MAX_AGE); no refresh extends it. */
    expiresAt: timestamp('expires_at').notNull(),
    revokedAt: timestamp('revoked_at'),
    revokedReason: text('revoked_reason', { enum: REVOCATION_REASONS }),
    userAgent: text('user_agent'),
    /** When this session last proved the password (sign-in, re-authentication): step-up checks it. */
    authenticatedAt: timestamp('authenticated_at'),
    /**
     * Key that derives each refresh token from its predecessor (HMAC), so a refresh whose
     * response was lost can be answered with the same successor. Useless without a token.
     */
    rotationKey: text('rotation_key'),
  },
  (t) => [
    index('sessions_user_id_idx').on(t.userId),
    // Boot loads the recently revoked sessions into memory.
    index('sessions_revoked_at_idx').on(t.revokedAt),
  ],
);

export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    /** SHA-256 of the token (base64url). The token itself is never stored. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at').notNull(),
    /** Set when the token is rotated; presenting it again is reuse. */
    usedAt: timestamp('used_at'),
    /** The token it was rotated into. */
    replacedById: text('replaced_by_id'),
    /** Times it came back within REFRESH_REUSE_GRACE after its rotation (bounded). */
    graceUses: integer('grace_uses').notNull().default(0),
  },
  (t) => [index('refresh_tokens_session_id_idx').on(t.sessionId)],
);

/** What the security audit log records; `detail` says more (a reason, a role), never a secret. */
export const AUDIT_EVENT_TYPES = [
  'sign_up',
  'login',
  'refresh_reuse_detected',
  'refresh_grace_used',
  'session_revoked',
  'password_changed',
  'role_changed',
  'rate_limited',
  'sign_up_requested',
  'password_reset_requested',
  'password_reset',
  'email_change_requested',
  'email_changed',
  'account_deleted',
  'reauthenticated',
  /** A link was refused: unknown, used, expired or for another purpose (detail says which). */
  'email_token_refused',
  'mail_sent',
  'mail_failed',
  'mail_expired',
  /** A native client exchanged its token for one service's (detail: the service). */
  'token_exchanged',
  /** An admin disabled or re-enabled an account (detail: by whom). */
  'user_disabled',
  'user_enabled',
  /** A second factor was turned on (detail: which). */
  'second_factor_enabled',
  /** Turned off, by the owner or an admin (detail: which, and by whom). */
  'second_factor_disabled',
  /** A right password of an account with a second factor: the sign-in's second step began. */
  'second_factor_required',
  /** A second-factor proof, right or wrong (detail: which, and for what: sign-in, reauth, reset). */
  'second_factor_used',
  'recovery_codes_generated',
] as const;

/** The security audit trail: who did what, from where, and whether it worked. Never passwords or tokens. */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    // Sequential on purpose: events are paged in order and never exposed as user ids.
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: timestamp('at').notNull(),
    type: text('type', { enum: AUDIT_EVENT_TYPES }).notNull(),
    outcome: text('outcome', { enum: ['success', 'failure'] }).notNull(),
    // Kept when the user is deleted: the trail outlives the account.
    userId: text('user_id').references(() => users.id, { onDelete: 'set null' }),
    /** No foreign key: sessions are pruned, their events are not. */
    sessionId: text('session_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    detail: text('detail'),
  },
  (t) => [index('audit_events_at_idx').on(t.at), index('audit_events_user_id_idx').on(t.userId)],
);

export type User = typeof users.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type RefreshToken = typeof refreshTokens.$inferSelect;

/** What a link sent by e-mail may do; a token is good for exactly one purpose. */
export const EMAIL_TOKEN_PURPOSES = ['sign_up', 'password_reset', 'email_change'] as const;

/**
 * Single-use tokens sent in links (the Copenhagen Book's design): only their SHA-256 is
 * stored, each is bound to its purpose, its address and (but for sign-up) its user.
 */
export const emailTokens = sqliteTable(
  'email_tokens',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    tokenHash: text('token_hash').notNull().unique(),
    purpose: text('purpose', { enum: EMAIL_TOKEN_PURPOSES }).notNull(),
    /** Null for sign-up: no account exists until the link is used. */
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    /** The address the link was sent to (for an e-mail change, the new one). */
    email: text('email').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
  },
  (t) => [index('email_tokens_user_id_idx').on(t.userId), index('email_tokens_email_idx').on(t.email)],
);

/**
 * Mail waiting to be sent, written in the same transaction as the token it carries, so a
 * crash loses nothing. A worker sends it with retries; once sent or expired the row is
 * deleted, so no usable token stays here.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    /** Which template (server/mail/templates.ts): the audit log names it, never the body. */
    kind: text('kind').notNull(),
    /** Whom it concerns, for the audit log. No foreign key: a goodbye mail outlives its account. */
    userId: text('user_id'),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    createdAt: createdAt(),
    /** Not sent by then (its link has expired): dropped. */
    expiresAt: timestamp('expires_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** When a worker may try (again); a worker that takes the row moves it ahead (a lease). */
    nextAttemptAt: timestamp('next_attempt_at').notNull(),
    lastError: text('last_error'),
  },
  (t) => [index('outbox_next_attempt_at_idx').on(t.nextAttemptAt)],
);

/** Development only: what the dev mailbox "sent", for the SPA's /dev/mailbox page. */
export const devMailbox = sqliteTable('dev_mailbox', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  to: text('to').notNull(),
  subject: text('subject').notNull(),
  text: text('text').notNull(),
  html: text('html').notNull(),
  sentAt: timestamp('sent_at').notNull(),
});

/**
 * The example resource (server/routers/note.ts): rows a user owns, gated by the `note:*`
 * permissions. Delete it with its router, page and tests, then `npm run db:generate`.
 */
export const notes = sqliteTable(
  'notes',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    body: text('body').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (t) => [index('notes_owner_id_updated_at_idx').on(t.ownerId, t.updatedAt)],
);

/**
 * What every process must refuse at once (server/auth/revocations.ts): a session that
 * ended, or a user whose role changed (tokens with the old role must be refreshed).
 * Written in the transaction that makes the change; each process reads the rows after the
 * last it saw (told by PostgreSQL's NOTIFY, or polling on SQLite). Kept one access-token
 * lifetime: older tokens have expired anyway.
 */
export const revocationFeed = sqliteTable(
  'revocation_feed',
  {
    // Sequential on purpose: a process asks for the rows after the last one it applied.
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: timestamp('at').notNull(),
    /** A session that ended (any reason): its access tokens are refused. */
    sessionId: text('session_id'),
    /** With `role`: the user's new role; tokens carrying another are refused. */
    userId: text('user_id'),
    role: text('role', { enum: ROLES }),
  },
  (t) => [index('revocation_feed_at_idx').on(t.at)],
);

/**
 * Attempt counters shared by every process (rate-limiter-flexible's RateLimiterDrizzle),
 * used on PostgreSQL; one SQLite process counts in memory (server/auth/rate-limits.ts).
 */
export const rateLimits = sqliteTable(
  'rate_limits',
  {
    /** `<limit name>:<address, account or session>`. */
    key: text('key').primaryKey(),
    points: integer('points').notNull().default(0),
    /** When the window ends and the count starts again. */
    expire: timestamp('expire'),
  },
  (t) => [index('rate_limits_expire_idx').on(t.expire)],
);

// --- Second factors (server/auth/second-factor/). To remove them, delete these tables
// with that folder and run `npm run db:generate`.

/** An authenticator app's secret (RFC 6238), one per user. */
export const totpCredentials = sqliteTable('totp_credentials', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** Sealed with ENCRYPTION_KEY and bound to the user (secret-box.ts): a database copy alone cannot compute codes. */
  sealedSecret: text('sealed_secret').notNull(),
  createdAt: createdAt(),
  /** Null until a first correct code proves the app holds the secret: only then is it a factor. */
  confirmedAt: timestamp('confirmed_at'),
  /** The time step of the last accepted code: no code of it or an earlier step counts again. */
  lastUsedStep: integer('last_used_step'),
});

/** Single-use codes for a lost authenticator; only their hash is stored. */
export const recoveryCodes = sqliteTable(
  'recovery_codes',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** SHA-256 of the code (normalized: recovery-codes.ts); 124 random bits need no salt. */
    codeHash: text('code_hash').notNull(),
    createdAt: createdAt(),
    usedAt: timestamp('used_at'),
  },
  (t) => [uniqueIndex('recovery_codes_user_id_code_hash_idx').on(t.userId, t.codeHash)],
);

/**
 * The step between a correct password and a session, for an account with a second factor:
 * single use, short-lived, bound to the account. Its token travels in an HttpOnly cookie
 * (or a native client's body); only its SHA-256 is stored.
 */
export const signInChallenges = sqliteTable(
  'sign_in_challenges',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    tokenHash: text('token_hash').notNull().unique(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The password hash the first step checked: a password changed meanwhile voids the challenge. */
    passwordHash: text('password_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (t) => [index('sign_in_challenges_user_id_idx').on(t.userId)],
);

/**
 * A passkey (WebAuthn credential) of a user: a second factor, and a sign-in without the
 * password. Only its public key is stored: a database copy cannot sign with it.
 */
export const passkeys = sqliteTable(
  'passkeys',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The authenticator's credential ID, base64url: how an assertion names its passkey. */
    credentialId: text('credential_id').notNull().unique(),
    /** COSE public key, base64url. */
    publicKey: text('public_key').notNull(),
    /** The signature counter last seen: an assertion must raise it (0 forever: the authenticator keeps none). */
    counter: integer('counter').notNull().default(0),
    /** How the browser may reach the authenticator (`internal,hybrid`), a hint for the next ceremony. */
    transports: text('transports').notNull().default(''),
    /** The owner's label ("Phone", "YubiKey"): the list shows it. */
    name: text('name').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at'),
  },
  (t) => [index('passkeys_user_id_idx').on(t.userId)],
);

/**
 * A WebAuthn challenge the server issued and not yet seen back: single use, short-lived,
 * stored as SHA-256 so any instance can check the answer. `userId`: the account a
 * registration is for (null for a sign-in, where the passkey names its account).
 */
export const webauthnChallenges = sqliteTable(
  'webauthn_challenges',
  {
    challengeHash: text('challenge_hash').primaryKey(),
    purpose: text('purpose', { enum: ['registration', 'authentication'] }).notNull(),
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (t) => [index('webauthn_challenges_expires_at_idx').on(t.expiresAt)],
);
