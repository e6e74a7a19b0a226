import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/*
 * Provider credentials at rest: AES-256-GCM under a key derived from TIDINGS_SECRET.
 * Token format: `v1:<iv>:<tag>:<ciphertext>`, each part base64url. The version prefix lets a later
 * format (another KDF, key rotation) coexist with rows written by this one.
 */

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** HKDF "info" binds the derived key to this one use, so the same secret can also sign links safely. */
const KEY_INFO = 'tidings/secret-box/v1';
const KEY_SALT = 'tidings';

export type SecretBoxErrorCode = 'malformed' | 'unsupported_version' | 'decrypt_failed';

/** A token that cannot be opened: not ours, from a newer version, tampered with, or another secret. */
export class SecretBoxError extends Error {
  constructor(
    readonly code: SecretBoxErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export interface SecretBox {
  /** Encrypts a JSON-serializable value. `context` (e.g. `site:3`) must be given again to decrypt. */
  encrypt(value: unknown, context?: string): string;
  decrypt<T = unknown>(token: string, context?: string): T;
}

/** Derives the 256-bit key once; a SecretBox is cheap to keep for the life of the process. */
export function createSecretBox(secret: string): SecretBox {
  if (secret.length < 32) throw new Error('TIDINGS_SECRET must be at least 32 characters');
  // HKDF, not scrypt: TIDINGS_SECRET is a high-entropy random value, not a human password.
  const key = Buffer.from(hkdfSync('sha256', secret, KEY_SALT, KEY_INFO, 32));

  return {
    encrypt(value, context = '') {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(`${VERSION}|${context}`));
      const plaintext = Buffer.from(JSON.stringify(value), 'utf8');
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join(':');
    },

    decrypt<T>(token: string, context = ''): T {
      const parts = token.split(':');
      if (parts.length !== 4) throw new SecretBoxError('malformed', 'Encrypted value is not in the v1:<iv>:<tag>:<data> format');
      const [version, ivPart, tagPart, dataPart] = parts as [string, string, string, string];
      if (version !== VERSION) throw new SecretBoxError('unsupported_version', `Unsupported encryption format ${version}`);
      const iv = Buffer.from(ivPart, 'base64url');
      const tag = Buffer.from(tagPart, 'base64url');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
        throw new SecretBoxError('malformed', 'Encrypted value has a bad IV or tag length');
      }
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${VERSION}|${context}`));
      decipher.setAuthTag(tag);
      let plaintext: Buffer;
      try {
        plaintext = Buffer.concat([decipher.update(Buffer.from(dataPart, 'base64url')), decipher.final()]);
      } catch {
        throw new SecretBoxError(
          'decrypt_failed',
          'Could not decrypt credentials: TIDINGS_SECRET differs from the one they were saved with, or the data was altered',
        );
      }
      return JSON.parse(plaintext.toString('utf8')) as T;
    },
  };
}

const FULLY_HIDDEN = /pass|secret|private/i;
const PARTLY_SHOWN = /key|token/i;

/**
 * Credentials safe to show in API output: passwords become `********`, API keys keep their prefix and
 * last four characters (`re_****abcd`) so a user can tell keys apart, other fields (host, port, user)
 * stay readable. Unknown providers get every string hidden.
 */
export function maskCredentials(provider: string, credentials: Record<string, unknown>): Record<string, unknown> {
  const known = provider === 'resend' || provider === 'smtp' || provider === 'log';
  const masked: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(credentials)) {
    if (typeof value !== 'string') masked[field] = value;
    else if (!known || FULLY_HIDDEN.test(field)) masked[field] = '********';
    else if (PARTLY_SHOWN.test(field)) masked[field] = maskKey(value);
    else masked[field] = value;
  }
  return masked;
}

/** `re_123456789abcd` → `re_****abcd`; short keys show nothing, since four characters would be most of them. */
export function maskKey(key: string): string {
  const prefix = /^[a-z]{1,8}_/i.exec(key)?.[0] ?? '';
  const rest = key.slice(prefix.length);
  if (rest.length < 12) return `${prefix}****`;
  return `${prefix}****${rest.slice(-4)}`;
}
