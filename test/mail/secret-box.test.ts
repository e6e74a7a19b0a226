import { describe, expect, it } from 'vitest';
import { createSecretBox, maskCredentials, SecretBoxError } from '../../src/crypto/secret-box.js';

const secret = 'a'.repeat(16) + 'correct-horse-battery-staple-0123';
const otherSecret = 'b'.repeat(16) + 'correct-horse-battery-staple-0123';
const credentials = { host: 'smtp.example.test', port: 587, secure: false, user: 'mailer', pass: 'p@ss: wörd' };

function errorOf(fn: () => unknown): SecretBoxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SecretBoxError) return err;
    throw err;
  }
  throw new Error('expected a SecretBoxError');
}

/** Flips one bit of one base64url part of the token. */
function tamper(token: string, part: number): string {
  const parts = token.split(':');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join(':');
}

describe('secret box', () => {
  it('decrypts what it encrypted', () => {
    const box = createSecretBox(secret);
    expect(box.decrypt(box.encrypt(credentials))).toEqual(credentials);
  });

  it('writes v1:<iv>:<tag>:<ciphertext> in base64url with a fresh IV every time', () => {
    const box = createSecretBox(secret);
    const a = box.encrypt(credentials);
    const b = box.encrypt(credentials);
    expect(a).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('p@ss');
  });

  it('opens a token with a new box over the same secret, as after a restart', () => {
    expect(createSecretBox(secret).decrypt(createSecretBox(secret).encrypt(credentials))).toEqual(credentials);
  });

  it('detects tampering with the IV, the tag or the ciphertext', () => {
    const box = createSecretBox(secret);
    const token = box.encrypt(credentials);
    for (const part of [1, 2, 3]) {
      expect(errorOf(() => box.decrypt(tamper(token, part))).code).toBe('decrypt_failed');
    }
  });

  it('refuses to open a token under a different TIDINGS_SECRET', () => {
    const token = createSecretBox(secret).encrypt(credentials);
    const err = errorOf(() => createSecretBox(otherSecret).decrypt(token));
    expect(err.code).toBe('decrypt_failed');
    expect(err.message).toContain('TIDINGS_SECRET');
  });

  it('refuses a token moved to another context', () => {
    const box = createSecretBox(secret);
    const token = box.encrypt(credentials, 'site:1');
    expect(box.decrypt(token, 'site:1')).toEqual(credentials);
    expect(errorOf(() => box.decrypt(token, 'site:2')).code).toBe('decrypt_failed');
  });

  it('names malformed and future-version tokens', () => {
    const box = createSecretBox(secret);
    expect(errorOf(() => box.decrypt('not a token')).code).toBe('malformed');
    expect(errorOf(() => box.decrypt(box.encrypt(1).replace(/^v1:/, 'v9:'))).code).toBe('unsupported_version');
    expect(errorOf(() => box.decrypt('v1:AAAA:BBBB:CCCC')).code).toBe('malformed');
  });

  it('refuses a secret shorter than 32 characters', () => {
    expect(() => createSecretBox('short')).toThrow(/at least 32/);
  });
});

describe('credential masking', () => {
  it('shows a Resend key only by its prefix and last four characters', () => {
    expect(maskCredentials('resend', { apiKey: 're_123456789_abcdefghijklmnopqrstuvwxyz' })).toEqual({ apiKey: 're_****wxyz' });
  });

  it('hides a short key entirely', () => {
    expect(maskCredentials('resend', { apiKey: 're_abc123' })).toEqual({ apiKey: 're_****' });
  });

  it('hides SMTP passwords and keeps host, port, secure and user readable', () => {
    expect(maskCredentials('smtp', credentials)).toEqual({ ...credentials, pass: '********' });
  });

  it('hides every string of a provider it does not know', () => {
    expect(maskCredentials('mystery', { region: 'eu', token: 'abc' })).toEqual({ region: '********', token: '********' });
  });
});
