// The second factors an account has, and the rules for accepting them: an authenticator
// app (TOTP), passkeys (checked in passkeys.ts) and recovery codes, which exist while the
// account has another factor. Framework-free; prove.ts adds limits, audit and mail.
import { and, count, eq, isNotNull, isNull, lt, or } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { RECOVERY_CODE_COUNT, generateRecoveryCode, hashRecoveryCode } from './recovery-codes.ts';
import { createSecretBox } from './secret-box.ts';
import { generateTotpSecret, matchingStep } from './totp.ts';

/** `unreadable`: the secret was sealed under another ENCRYPTION_KEY (see decision 013). */
export type TotpCheck = 'ok' | 'wrong_code' | 'replayed' | 'not_enabled' | 'unreadable';
export type TotpConfirmation =
  { ok: true; recoveryCodes: string[] | null } | { ok: false; reason: 'wrong_code' | 'not_started' | 'unreadable' };

/**
 * @example
 * const factors = createSecondFactors(db, config.encryptionKey)
 * const secret = await factors.beginTotp(userId, now) // show it (totp.ts enrolmentOf)
 * await factors.confirmTotp(userId, '123456', now)  // => { recoveryCodes: [...] } on first enrolment
 * await factors.checkTotp(userId, '654321', now)    // => 'ok' | 'wrong_code' | 'replayed' | 'not_enabled'
 */
export function createSecondFactors(db: Db, encryptionKey: Buffer | undefined) {
  // Without a key no secret can be sealed or opened: enrolment is refused (isAvailable).
  const box = encryptionKey ? createSecretBox(encryptionKey) : null;
  const { totpCredentials, recoveryCodes, passkeys } = db.tables;
  const context = (userId: string) => `totp:${userId}`;

  const totpRow = async (userId: string) =>
    (await db.select().from(totpCredentials).where(eq(totpCredentials.userId, userId)))[0];

  /** The stored secret, or null when ENCRYPTION_KEY changed (or went) since it was sealed. */
  const secretOf = (row: { userId: string; sealedSecret: string }) =>
    box ? box.open(row.sealedSecret, context(row.userId)) : null;

  async function unusedRecoveryCodes(userId: string) {
    const [row] = await db
      .select({ n: count() })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
    return row?.n ?? 0;
  }

  /** Replaces every recovery code of the user with ten new ones; returns them (shown once). */
  async function replaceRecoveryCodes(userId: string, now: Date): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
    await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
    await db
      .insert(recoveryCodes)
      .values(codes.map((code) => ({ userId, codeHash: hashRecoveryCode(code), createdAt: now })));
    return codes;
  }

  async function hasTotp(userId: string) {
    const [row] = await db
      .select({ userId: totpCredentials.userId })
      .from(totpCredentials)
      .where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.confirmedAt)));
    return row !== undefined;
  }

  async function hasSecondFactor(userId: string): Promise<boolean> {
    if (await hasTotp(userId)) return true;
    const [row] = await db.select({ id: passkeys.id }).from(passkeys).where(eq(passkeys.userId, userId)).limit(1);
    return row !== undefined;
  }

  /** Fresh recovery codes when the user has none unused (a first factor): no factor without a way back. */
  async function ensureRecoveryCodes(userId: string, now: Date): Promise<string[] | null> {
    return (await unusedRecoveryCodes(userId)) === 0 ? replaceRecoveryCodes(userId, now) : null;
  }

  /** The recovery codes go with the last factor: they would be a factor of their own. */
  async function dropRecoveryCodesUnlessFactorLeft(userId: string) {
    if (!(await hasSecondFactor(userId))) await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  }

  return {
    /** Whether authenticator apps can be enrolled here: ENCRYPTION_KEY is set. */
    isAvailable: box !== null,

    /** What the account has: decides whether sign-in asks for a second factor. */
    async statusOf(userId: string) {
      const [passkeyCount] = await db.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId));
      return {
        totp: await hasTotp(userId),
        passkeys: passkeyCount?.n ?? 0,
        recoveryCodesLeft: await unusedRecoveryCodes(userId),
      };
    },

    hasSecondFactor,
    ensureRecoveryCodes,

    /**
     * A new secret for an authenticator app, stored unconfirmed (it replaces an earlier
     * unconfirmed one: each new QR code voids the last). Null when TOTP is already on.
     */
    async beginTotp(userId: string, now: Date): Promise<Uint8Array | null> {
      if (!box) throw new Error('Two-step verification needs ENCRYPTION_KEY (check isAvailable first)');
      const secret = generateTotpSecret();
      const sealedSecret = box.seal(secret, context(userId));
      const [row] = await db
        .insert(totpCredentials)
        .values({ userId, sealedSecret, createdAt: now })
        .onConflictDoUpdate({
          target: totpCredentials.userId,
          set: { sealedSecret, createdAt: now, lastUsedStep: null },
          setWhere: isNull(totpCredentials.confirmedAt),
        })
        .returning({ userId: totpCredentials.userId });
      return row ? secret : null;
    },

    /**
     * The first correct code turns TOTP on. Returns fresh recovery codes when the account
     * has none left, so no account has a factor without a way back.
     */
    async confirmTotp(userId: string, code: string, now: Date): Promise<TotpConfirmation> {
      const row = await totpRow(userId);
      if (!row || row.confirmedAt) return { ok: false, reason: 'not_started' };
      const secret = secretOf(row);
      if (!secret) return { ok: false, reason: 'unreadable' };
      const step = matchingStep(secret, code, now);
      if (step === null) return { ok: false, reason: 'wrong_code' };
      // On and its recovery codes in one transaction: never a factor without a way back.
      return db.transaction(async (): Promise<TotpConfirmation> => {
        // The secret this code was made from, still unconfirmed: a newer QR code voids this one.
        const [confirmed] = await db
          .update(totpCredentials)
          .set({ confirmedAt: now, lastUsedStep: step })
          .where(
            and(
              eq(totpCredentials.userId, userId),
              eq(totpCredentials.sealedSecret, row.sealedSecret),
              isNull(totpCredentials.confirmedAt),
            ),
          )
          .returning({ userId: totpCredentials.userId });
        if (!confirmed) return { ok: false, reason: 'not_started' };
        return { ok: true, recoveryCodes: await ensureRecoveryCodes(userId, now) };
      });
    },

    /**
     * Accepts a code of the current step or one either side, once: the step is recorded in
     * the same statement that checks it is newer than the last one accepted (RFC 6238 §5.2),
     * so a code seen over someone's shoulder, or two requests racing, count once.
     */
    async checkTotp(userId: string, code: string, now: Date): Promise<TotpCheck> {
      const row = await totpRow(userId);
      if (!row?.confirmedAt) return 'not_enabled';
      const secret = secretOf(row);
      if (!secret) return 'unreadable';
      const step = matchingStep(secret, code, now);
      if (step === null) return 'wrong_code';
      const [accepted] = await db
        .update(totpCredentials)
        .set({ lastUsedStep: step })
        .where(
          and(
            eq(totpCredentials.userId, userId),
            or(isNull(totpCredentials.lastUsedStep), lt(totpCredentials.lastUsedStep, step)),
          ),
        )
        .returning({ userId: totpCredentials.userId });
      return accepted ? 'ok' : 'replayed';
    },

    /** Turns TOTP off (confirmed or not); the recovery codes go with the last factor. */
    async disableTotp(userId: string): Promise<boolean> {
      return db.transaction(async () => {
        const removed = await db
          .delete(totpCredentials)
          .where(eq(totpCredentials.userId, userId))
          .returning({ confirmedAt: totpCredentials.confirmedAt });
        await dropRecoveryCodesUnlessFactorLeft(userId);
        return removed.some((row) => row.confirmedAt !== null);
      });
    },

    /**
     * Removes one of the user's passkeys: its name, and whether it was the last factor (the
     * recovery codes went with it); null when the user has none such.
     */
    async removePasskey(userId: string, id: string): Promise<{ name: string; lastFactor: boolean } | null> {
      return db.transaction(async () => {
        const [removed] = await db
          .delete(passkeys)
          .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
          .returning({ name: passkeys.name });
        if (!removed) return null;
        await dropRecoveryCodesUnlessFactorLeft(userId);
        return { name: removed.name, lastFactor: !(await hasSecondFactor(userId)) };
      });
    },

    /** Every factor and recovery code of the user (an administrator's removal); what was there. */
    async removeAll(userId: string): Promise<{ totp: boolean; passkeys: number }> {
      return db.transaction(async () => {
        const totp = await hasTotp(userId);
        await db.delete(totpCredentials).where(eq(totpCredentials.userId, userId));
        const removed = await db.delete(passkeys).where(eq(passkeys.userId, userId)).returning({ id: passkeys.id });
        await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
        return { totp, passkeys: removed.length };
      });
    },

    /** Ten new codes; the old ones stop working. Only for an account with a factor. */
    async regenerateRecoveryCodes(userId: string, now: Date): Promise<string[] | null> {
      return db.transaction(async () => {
        if (!(await hasSecondFactor(userId))) return null;
        return replaceRecoveryCodes(userId, now);
      });
    },

    /** Uses a code up, in the statement that checks it is unused; false for a wrong or used code. */
    async useRecoveryCode(userId: string, code: string, now: Date): Promise<boolean> {
      const [used] = await db
        .update(recoveryCodes)
        .set({ usedAt: now })
        .where(
          and(
            eq(recoveryCodes.userId, userId),
            eq(recoveryCodes.codeHash, hashRecoveryCode(code)),
            isNull(recoveryCodes.usedAt),
          ),
        )
        .returning({ id: recoveryCodes.id });
      return used !== undefined;
    },

    unusedRecoveryCodes,
  };
}

export type SecondFactors = ReturnType<typeof createSecondFactors>;
