import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/*
 * Compact signed tokens for links (unsubscribe, tracking): `<payload>.<signature>`, both base64url,
 * where payload is JSON and signature is HMAC-SHA256 over the encoded payload. Not encrypted: the
 * payload is readable, only tamper-proof, so it must hold ids, never secrets.
 */

const SIGNATURE_BYTES = 32;

export interface Signer {
  sign(payload: unknown): string;
  /** The payload when the token is intact and was signed by this secret and purpose; otherwise null. */
  verify<T = unknown>(token: string): T | null;
}

/**
 * A signer for one purpose. Each purpose gets its own HKDF-derived key, so a token minted for one use
 * (say tracking) can never be replayed as another (unsubscribe), and none of them reveal the secret
 * that also encrypts credentials.
 */
export function createSigner(secret: string, purpose: string): Signer {
  if (secret.length < 32) throw new Error('TIDINGS_SECRET must be at least 32 characters');
  if (!purpose) throw new Error('A signer needs a purpose');
  const key = Buffer.from(hkdfSync('sha256', secret, 'tidings', `tidings/signing/${purpose}`, 32));
  const mac = (data: string) => createHmac('sha256', key).update(data).digest();

  return {
    sign(payload) {
      const data = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
      return `${data}.${mac(data).toString('base64url')}`;
    },

    verify<T>(token: string): T | null {
      const dot = token.indexOf('.');
      if (dot <= 0 || dot !== token.lastIndexOf('.')) return null;
      const data = token.slice(0, dot);
      const signature = token.slice(dot + 1);
      const given = Buffer.from(signature, 'base64url');
      // timingSafeEqual throws on unequal lengths; check first so a short signature is just invalid.
      // The re-encoding check refuses variants that decode leniently to the same bytes: one token, one form.
      if (given.length !== SIGNATURE_BYTES || given.toString('base64url') !== signature) return null;
      if (!timingSafeEqual(given, mac(data))) return null;
      try {
        return JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as T;
      } catch {
        return null;
      }
    },
  };
}
