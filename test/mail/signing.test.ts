import { describe, expect, it } from 'vitest';
import { createSigner } from '../../src/crypto/signing.js';

const secret = 'signing-secret-for-tests-0123456789abcdef';

describe('signed tokens', () => {
  it('returns the payload of a token it signed', () => {
    const signer = createSigner(secret, 'unsubscribe');
    const token = signer.sign({ siteId: 1, contactId: 42 });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(signer.verify(token)).toEqual({ siteId: 1, contactId: 42 });
  });

  it('rejects a token whose payload was changed', () => {
    const signer = createSigner(secret, 'unsubscribe');
    const [, signature] = signer.sign({ contactId: 42 }).split('.');
    const forged = `${Buffer.from(JSON.stringify({ contactId: 43 })).toString('base64url')}.${signature}`;
    expect(signer.verify(forged)).toBeNull();
  });

  it('rejects a token whose signature was changed or cut short', () => {
    const signer = createSigner(secret, 'unsubscribe');
    const token = signer.sign({ contactId: 42 });
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(signer.verify(token.slice(0, -1) + last)).toBeNull();
    expect(signer.verify(token.slice(0, -5))).toBeNull();
  });

  it('rejects a token signed for another purpose or under another secret', () => {
    const token = createSigner(secret, 'tracking').sign({ contactId: 42 });
    expect(createSigner(secret, 'unsubscribe').verify(token)).toBeNull();
    expect(createSigner(`${secret}-rotated`, 'tracking').verify(token)).toBeNull();
    expect(createSigner(secret, 'tracking').verify(token)).toEqual({ contactId: 42 });
  });

  it('rejects strings that are not tokens', () => {
    const signer = createSigner(secret, 'unsubscribe');
    for (const junk of ['', '.', 'abc', 'a.b.c', '.sig', `${'x'.repeat(10)}.${'y'.repeat(43)}`]) {
      expect(signer.verify(junk)).toBeNull();
    }
  });
});
