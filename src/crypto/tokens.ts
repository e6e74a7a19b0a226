import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A 32-byte random token, base64url (43 characters): session cookies, CSRF tokens, sign-up links. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * SHA-256 hex of a token, the only form stored. Unsalted and fast is right for 256-bit random tokens
 * (nothing to brute-force), and lookup must be one indexed equality, as for API keys.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time string equality (the time does not depend on where the strings first differ). */
export function safeEqual(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so timingSafeEqual never throws and the length does not leak.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
