// Encryption for the few secrets the database must keep readable (a TOTP secret has to be
// read to compute codes, so it cannot be hashed): AES-256-GCM under ENCRYPTION_KEY, which
// lives in the environment, not the database. A stolen database or backup alone then
// holds no usable second factor (docs/decisions/013-second-factors.md).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** A key of its own for each use of ENCRYPTION_KEY (HKDF-SHA-256): a use added later gets another. */
const deriveKey = (encryptionKey: Buffer, purpose: 'secret-box') =>
  Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), purpose, 32));

/**
 * `context` binds a ciphertext to its row (say `totp:<user id>`): moved to another row,
 * it no longer decrypts.
 *
 * @example
 * const box = createSecretBox(config.encryptionKey)
 * const stored = box.seal(secret, `totp:${userId}`) // 'v1.<iv>.<ciphertext and tag>'
 * box.open(stored, `totp:${userId}`) // => secret
 */
export function createSecretBox(encryptionKey: Buffer) {
  const key = deriveKey(encryptionKey, 'secret-box');
  return {
    seal(plaintext: Uint8Array, context: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context));
      const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
    },

    /** The plaintext, or null when the value was sealed under another key or context, or altered. */
    open(stored: string, context: string): Uint8Array | null {
      const [version, iv, sealed] = stored.split('.');
      if (version !== VERSION || !iv || !sealed) return null;
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length < 16) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]);
      } catch {
        return null;
      }
    },
  };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
