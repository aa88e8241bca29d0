// The PostgreSQL twin of db/schema.ts: the same tables, columns, keys and indexes, read
// by the same queries (db/client.ts), so what each column means is said there, once.
// Change both files together, then `npm run db:generate` (it writes both migrations);
// test/db/schema-drift.test.ts fails if they disagree.
import { bigint, index, integer, pgTable, text, timestamp as pgTimestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { DEFAULT_ROLE, ROLES } from '../server/auth/roles.ts';
import { createId } from './ids.ts';
import { AUDIT_EVENT_TYPES, EMAIL_TOKEN_PURPOSES, REVOCATION_REASONS } from './schema.ts';

// Milliseconds, as SQLite's integers hold them, so a Date comes back exactly as written.
const timestamp = (name: string) => pgTimestamp(name, { withTimezone: true, precision: 3, mode: 'date' });
const createdAt = () =>
  timestamp('created_at')
    .notNull()
    .$defaultFn(() => new Date());

export const users = pgTable('users', {
  id: text('id').primaryKey().$defaultFn(createId),
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ROLES }).notNull().default(DEFAULT_ROLE),
  emailVerifiedAt: timestamp('email_verified_at'),
  disabledAt: timestamp('disabled_at'),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at')
    .notNull()
    .$defaultFn(() => new Date())
    .$onUpdateFn(() => new Date()),
});

export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at').notNull(),
    idleExpiresAt: timestamp('idle_expires_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    revokedAt: timestamp('revoked_at'),
    revokedReason: text('revoked_reason', { enum: REVOCATION_REASONS }),
    userAgent: text('user_agent'),
    authenticatedAt: timestamp('authenticated_at'),
    rotationKey: text('rotation_key'),
  },
  (t) => [index('sessions_user_id_idx').on(t.userId), index('sessions_revoked_at_idx').on(t.revokedAt)],
);

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
    replacedById: text('replaced_by_id'),
    graceUses: integer('grace_uses').notNull().default(0),
  },
  (t) => [index('refresh_tokens_session_id_idx').on(t.sessionId)],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp('at').notNull(),
    type: text('type', { enum: AUDIT_EVENT_TYPES }).notNull(),
    outcome: text('outcome', { enum: ['success', 'failure'] }).notNull(),
    userId: text('user_id').references(() => users.id, { onDelete: 'set null' }),
    sessionId: text('session_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    detail: text('detail'),
  },
  (t) => [index('audit_events_at_idx').on(t.at), index('audit_events_user_id_idx').on(t.userId)],
);

export const emailTokens = pgTable(
  'email_tokens',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    tokenHash: text('token_hash').notNull().unique(),
    purpose: text('purpose', { enum: EMAIL_TOKEN_PURPOSES }).notNull(),
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
  },
  (t) => [index('email_tokens_user_id_idx').on(t.userId), index('email_tokens_email_idx').on(t.email)],
);

export const outbox = pgTable(
  'outbox',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    kind: text('kind').notNull(),
    userId: text('user_id'),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at').notNull(),
    lastError: text('last_error'),
  },
  (t) => [index('outbox_next_attempt_at_idx').on(t.nextAttemptAt)],
);

export const devMailbox = pgTable('dev_mailbox', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  to: text('to').notNull(),
  subject: text('subject').notNull(),
  text: text('text').notNull(),
  html: text('html').notNull(),
  sentAt: timestamp('sent_at').notNull(),
});

export const notes = pgTable(
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

export const revocationFeed = pgTable(
  'revocation_feed',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp('at').notNull(),
    sessionId: text('session_id'),
    userId: text('user_id'),
    role: text('role', { enum: ROLES }),
  },
  (t) => [index('revocation_feed_at_idx').on(t.at)],
);

export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    points: integer('points').notNull().default(0),
    expire: timestamp('expire'),
  },
  (t) => [index('rate_limits_expire_idx').on(t.expire)],
);

export const totpCredentials = pgTable('totp_credentials', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  sealedSecret: text('sealed_secret').notNull(),
  createdAt: createdAt(),
  confirmedAt: timestamp('confirmed_at'),
  lastUsedStep: integer('last_used_step'),
});

export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    createdAt: createdAt(),
    usedAt: timestamp('used_at'),
  },
  (t) => [uniqueIndex('recovery_codes_user_id_code_hash_idx').on(t.userId, t.codeHash)],
);

export const signInChallenges = pgTable(
  'sign_in_challenges',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    tokenHash: text('token_hash').notNull().unique(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    passwordHash: text('password_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (t) => [index('sign_in_challenges_user_id_idx').on(t.userId)],
);

export const passkeys = pgTable(
  'passkeys',
  {
    id: text('id').primaryKey().$defaultFn(createId),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    credentialId: text('credential_id').notNull().unique(),
    publicKey: text('public_key').notNull(),
    counter: bigint('counter', { mode: 'number' }).notNull().default(0),
    transports: text('transports').notNull().default(''),
    name: text('name').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at'),
  },
  (t) => [index('passkeys_user_id_idx').on(t.userId)],
);

export const webauthnChallenges = pgTable(
  'webauthn_challenges',
  {
    challengeHash: text('challenge_hash').primaryKey(),
    purpose: text('purpose', { enum: ['registration', 'authentication'] }).notNull(),
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (t) => [index('webauthn_challenges_expires_at_idx').on(t.expiresAt)],
);
