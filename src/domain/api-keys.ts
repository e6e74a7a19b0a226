import { createHash, randomBytes } from 'node:crypto';

/** Every key starts with this; the API rejects anything else before touching the database. */
export const API_KEY_PREFIX = 'tk_live_';
/** Characters of the key kept readable for listing (`tk_live_` plus four). */
export const API_KEY_VISIBLE_CHARS = 12;

export interface GeneratedApiKey {
  /** The plaintext key: shown to the user once, never stored. */
  key: string;
  prefix: string;
  hash: string;
}

/** A new key: `tk_live_` + 32 url-safe random characters (192 bits), its visible prefix and hash. */
export function generateApiKey(): GeneratedApiKey {
  const key = `${API_KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
  return { key, prefix: apiKeyPrefix(key), hash: hashApiKey(key) };
}

/**
 * SHA-256 hex of the key. A fast unsalted hash is right here: keys are 192-bit random, so there is
 * nothing to brute-force, and lookup by hash must be a single indexed equality.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export const apiKeyPrefix = (key: string) => key.slice(0, API_KEY_VISIBLE_CHARS);
