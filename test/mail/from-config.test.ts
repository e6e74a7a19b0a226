import { describe, expect, it } from 'vitest';
import { createMailers } from '../../src/mail/from-config.js';
import type { Mailer } from '../../src/mail/mailer.js';

const logConfig = (id: number, updatedAt: Date) => ({ config: { id, provider: 'log' as const, updatedAt }, credentials: {} });

describe('mailers per sending config', () => {
  it('reuses one mailer per config until the config is edited, then retires the old one', async () => {
    const mailers = createMailers({ retireAfterMs: 10 });
    const v1 = new Date('2025-01-01T00:00:00Z');
    const first = mailers.forConfig(logConfig(1, v1));
    expect(mailers.forConfig(logConfig(1, new Date(v1)))).toBe(first);
    expect(mailers.forConfig(logConfig(2, v1))).not.toBe(first);

    let closed = false;
    const close = first.close.bind(first);
    (first as { close: Mailer['close'] }).close = async () => {
      closed = true;
      await close();
    };
    const edited = mailers.forConfig(logConfig(1, new Date('2025-01-02T00:00:00Z')));
    expect(edited).not.toBe(first);
    // A read that raced the edit still gets the newer mailer, not a third one.
    expect(mailers.forConfig(logConfig(1, v1))).toBe(edited);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(true);
    await mailers.close();
  });

  it('builds the mailer of the config’s provider', async () => {
    const mailers = createMailers({ resendBaseUrl: 'http://127.0.0.1:1' });
    const resend = mailers.forConfig({ config: { id: 7, provider: 'resend', updatedAt: new Date() }, credentials: { apiKey: 're_123' } });
    const smtp = mailers.forConfig({ config: { id: 8, provider: 'smtp', updatedAt: new Date() }, credentials: { host: '127.0.0.1', port: 2525 } });
    expect([resend.provider, smtp.provider]).toEqual(['resend', 'smtp']);
    await mailers.close();
  });
});
