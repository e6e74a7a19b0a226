import { describe, expect, it } from 'vitest';
import { createLogMailer, logMessageId, type LoggedEmail } from '../../src/mail/log.js';
import type { OutgoingEmail } from '../../src/mail/mailer.js';

function email(n: number): OutgoingEmail {
  return {
    from: { email: 'hello@example.test', name: 'Acme' },
    to: `user${n}@example.test`,
    subject: `Hello ${n}`,
    html: `<p>Hello ${n}</p>`,
    text: `Hello ${n}`,
    headers: { 'X-Campaign': '7' },
    idempotencyKey: `campaign:7:${n}`,
  };
}

describe('log provider', () => {
  it('records the full rendered message and reports it sent with a log_ id', async () => {
    const logged: LoggedEmail[] = [];
    const outcome = await createLogMailer({ sink: (e) => void logged.push(e) }).send(email(1));

    expect(outcome).toEqual({ kind: 'sent', providerMessageId: logMessageId('campaign:7:1') });
    expect(outcome).toMatchObject({ providerMessageId: expect.stringMatching(/^log_[0-9a-f]{32}$/) });
    expect(logged).toEqual([{ providerMessageId: logMessageId('campaign:7:1'), from: 'Acme <hello@example.test>', message: email(1) }]);
  });

  it('gives a retried message the same id and different messages different ids', async () => {
    const mailer = createLogMailer();
    const [a, b, c] = await mailer.sendBatch([email(1), email(1), email(2)]);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('reports a failing sink as transient so the send is retried', async () => {
    const outcome = await createLogMailer({
      sink: async () => {
        throw new Error('database is down');
      },
    }).send(email(1));
    expect(outcome).toEqual({ kind: 'transient', message: 'log sink failed: database is down' });
  });

  it('verifies without credentials', async () => {
    expect(await createLogMailer().verify()).toMatchObject({ ok: true });
  });
});
