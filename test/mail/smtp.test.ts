import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mailer, OutgoingEmail } from '../../src/mail/mailer.js';
import { classifySmtpError, createSmtpMailer, messageIdFor, type SmtpMailerOptions } from '../../src/mail/smtp.js';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../helpers/smtp-sink.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Mailers first: the sink's close waits for pooled connections to go away.
  while (cleanups.length) await cleanups.pop()!();
});

async function sink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const s = await startSmtpSink(options);
  cleanups.push(() => s.close());
  return s;
}

function mailer(target: { host: string; port: number }, options: Partial<SmtpMailerOptions> = {}): Mailer {
  const m = createSmtpMailer({ host: target.host, port: target.port, secure: false, timeoutMs: 5_000, ...options });
  cleanups.push(() => m.close());
  return m;
}

function email(n: number, overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    from: { email: 'hello@example.test', name: 'Acme' },
    to: `user${n}@example.test`,
    subject: `Hello ${n}`,
    html: `<p>Hello ${n}</p>`,
    text: `Hello ${n}`,
    idempotencyKey: `test:${n}`,
    ...overrides,
  };
}

describe('SMTP adapter: delivery', () => {
  it('delivers a message with its headers, both bodies, the idempotency header and a Message-ID from the key', async () => {
    const s = await sink();
    const outcome = await mailer(s).send({
      from: { email: 'hello@example.test', name: 'Acme, Inc.' },
      to: 'ada@example.test',
      cc: ['cc@example.test'],
      bcc: ['bcc@example.test'],
      replyTo: 'support@example.test',
      subject: 'Welcome, Ada',
      html: '<h1>Hi Ada</h1>',
      text: 'Hi Ada',
      headers: { 'List-Unsubscribe': '<https://example.test/u/1>' },
      idempotencyKey: 'transactional:42',
    });

    expect(s.messages).toHaveLength(1);
    const mail = s.messages[0]!;
    expect(mail.envelope).toEqual({
      mailFrom: 'hello@example.test',
      rcptTo: ['ada@example.test', 'cc@example.test', 'bcc@example.test'],
    });
    expect(mail.parsed.from?.value).toEqual([{ address: 'hello@example.test', name: 'Acme, Inc.' }]);
    expect(mail.parsed.subject).toBe('Welcome, Ada');
    expect(mail.parsed.html).toBe('<h1>Hi Ada</h1>');
    expect(mail.parsed.text?.trim()).toBe('Hi Ada');
    expect(mail.header('to')).toContain('ada@example.test');
    expect(mail.header('cc')).toContain('cc@example.test');
    expect(mail.header('bcc')).toBeUndefined();
    expect(mail.header('reply-to')).toContain('support@example.test');
    expect(mail.raw).toMatch(/^List-Unsubscribe: <https:\/\/example\.test\/u\/1>\r?$/m);
    expect(mail.header('x-tidings-idempotency-key')).toBe('transactional:42');
    expect(mail.parsed.messageId).toBe(messageIdFor('transactional:42', 'hello@example.test'));
    expect(mail.parsed.messageId).toMatch(/^<[0-9a-f]{40}@example\.test>$/);
    expect(outcome).toEqual({ kind: 'sent', providerMessageId: mail.parsed.messageId });
  });

  it('gives a retried message the same Message-ID and a different send a different one', async () => {
    const s = await sink();
    const m = mailer(s);
    await m.send(email(1));
    await m.send(email(1));
    await m.send(email(2));

    const ids = s.messages.map((mail) => mail.parsed.messageId);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('logs in with the configured user and password', async () => {
    const s = await sink({ auth: { user: 'mailer', pass: 's3cret' } });
    const outcome = await mailer(s, { user: 'mailer', pass: 's3cret' }).send(email(1));

    expect(outcome).toMatchObject({ kind: 'sent' });
    expect(s.logins).toEqual([{ user: 'mailer', pass: 's3cret' }]);
    expect(s.messages).toHaveLength(1);
  });

  it('sends a batch one message at a time over the pool, outcomes in input order', async () => {
    const s = await sink();
    const m = mailer(s, { maxConnections: 3 });
    const messages = Array.from({ length: 7 }, (_, i) => email(i));
    const outcomes = await m.sendBatch(messages);

    expect(m.capabilities.batch).toBe(false);
    expect(s.messages).toHaveLength(7);
    expect(outcomes).toEqual(messages.map((msg) => ({ kind: 'sent', providerMessageId: messageIdFor(msg.idempotencyKey, msg.from.email) })));
    expect(new Set(s.messages.map((mail) => mail.envelope.rcptTo[0]))).toEqual(new Set(messages.map((msg) => msg.to)));
  });

  it('keeps its pooled connections across batches: never more than the pool size', async () => {
    const s = await sink();
    const m = mailer(s, { maxConnections: 2 });
    for (let batch = 0; batch < 3; batch++) {
      await m.sendBatch(Array.from({ length: 80 }, (_, i) => email(batch * 100 + i)));
    }

    expect(s.messages).toHaveLength(240);
    // nodemailer's own default would have opened a new connection every 100 messages.
    expect(s.connections()).toBeLessThanOrEqual(2);
  });

  it('replaces a pooled connection the server closed while it was idle, without losing the next message', async () => {
    // A server that hangs up a little after each message, as real ones do after their idle timeout.
    let connections = 0;
    let delivered = 0;
    const server = createServer((socket) => {
      connections += 1;
      let inData = false;
      socket.write('220 test ESMTP\r\n');
      socket.on('data', (chunk) => {
        for (const line of chunk.toString('latin1').split('\r\n')) {
          if (inData) {
            if (line === '.') {
              inData = false;
              delivered += 1;
              socket.write('250 queued\r\n');
              setTimeout(() => socket.end('421 idle timeout\r\n'), 20);
            }
          } else if (/^EHLO/i.test(line)) socket.write('250-test\r\n250 8BITMIME\r\n');
          else if (/^DATA/i.test(line)) {
            inData = true;
            socket.write('354 go\r\n');
          } else if (line) socket.write('250 ok\r\n');
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const m = mailer({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }, { maxConnections: 1 });

    expect(await m.send(email(1))).toMatchObject({ kind: 'sent' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await m.send(email(2))).toMatchObject({ kind: 'sent' });
    expect(delivered).toBe(2);
    expect(connections).toBe(2);
  });

  it('encodes non-ASCII names, subjects and bodies, and long lines, so a mail client reads them back exactly', async () => {
    const s = await sink();
    const longLine = `<p>${'x'.repeat(1200)}</p>`;
    await mailer(s).send(
      email(1, {
        from: { email: 'hello@example.test', name: 'Zoë at Café Ünïcode' },
        subject: 'Des nouvelles pour Zoë — numéro 1 ✉️ with a subject long enough to be folded over several lines',
        html: `<p>Grüße, Zoë</p>\n${longLine}\n<p>.leading dot</p>`,
        text: 'Grüße, Zoë\n.leading dot\nend',
      }),
    );

    const mail = s.messages[0]!;
    expect(mail.parsed.from?.value).toEqual([{ address: 'hello@example.test', name: 'Zoë at Café Ünïcode' }]);
    expect(mail.parsed.subject).toBe('Des nouvelles pour Zoë — numéro 1 ✉️ with a subject long enough to be folded over several lines');
    expect(mail.parsed.html).toBe(`<p>Grüße, Zoë</p>\n${longLine}\n<p>.leading dot</p>`);
    expect(mail.parsed.text?.replace(/\r\n/g, '\n').trim()).toBe('Grüße, Zoë\n.leading dot\nend');
    // No line of the message is longer than SMTP allows.
    expect(mail.raw.split('\r\n').every((line) => line.length <= 998)).toBe(true);
  });
});

describe('SMTP adapter: error mapping', () => {
  it('reports a recipient refused with 550 as invalid_recipient and delivers nothing', async () => {
    const s = await sink({
      rcptReply: (address) => (address === 'gone@example.test' ? { code: 550, message: '5.1.1 No such user' } : undefined),
    });
    const outcome = await mailer(s).send(email(1, { to: 'gone@example.test' }));

    expect(outcome).toMatchObject({ kind: 'invalid_recipient' });
    expect((outcome as { message: string }).message).toContain('550 5.1.1 No such user');
    expect(s.messages).toHaveLength(0);
  });

  it('reports a refused primary recipient as invalid_recipient even when a cc was accepted', async () => {
    const s = await sink({
      rcptReply: (address) => (address === 'gone@example.test' ? { code: 550, message: '5.1.1 No such user' } : undefined),
    });
    const outcome = await mailer(s).send(email(1, { to: 'gone@example.test', cc: ['cc@example.test'] }));

    expect(outcome).toMatchObject({ kind: 'invalid_recipient' });
    expect(s.messages.map((mail) => mail.envelope.rcptTo)).toEqual([['cc@example.test']]);
  });

  it('reports a login refused with 535 as auth_failed', async () => {
    const s = await sink({ failAuth: true });
    const outcome = await mailer(s, { user: 'mailer', pass: 'wrong' }).send(email(1));

    expect(outcome).toMatchObject({ kind: 'auth_failed' });
    expect((outcome as { message: string }).message).toContain('535');
    expect(s.messages).toHaveLength(0);
  });

  it('reports a 421 rate-limit reply as rate_limited with the delay the server names', async () => {
    const s = await sink({ dataReply: () => ({ code: 421, message: '4.7.0 Rate limit exceeded, try again in 30 seconds' }) });
    expect(await mailer(s).send(email(1))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 30_000 });
  });

  it('reports a 451 without rate wording as transient', async () => {
    const s = await sink({ dataReply: () => ({ code: 451, message: '4.3.0 Local error in processing' }) });
    expect(await mailer(s).send(email(1))).toMatchObject({ kind: 'transient' });
  });

  it('reports content refused with 554 after DATA as rejected', async () => {
    const s = await sink({ dataReply: () => ({ code: 554, message: '5.7.1 Message rejected as spam' }) });
    expect(await mailer(s).send(email(1))).toMatchObject({ kind: 'rejected' });
  });

  it('reports a server that is not listening as transient', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    expect(await mailer({ host: '127.0.0.1', port }).send(email(1))).toMatchObject({ kind: 'transient' });
  });

  it('maps the SMTP reply codes of each command to the outcome a retry policy needs', () => {
    const reply = (responseCode: number, command: string, response: string) => ({ code: 'EENVELOPE', responseCode, command, response });
    expect(classifySmtpError(reply(553, 'RCPT TO', '553 5.1.3 Bad recipient address syntax')).kind).toBe('invalid_recipient');
    expect(classifySmtpError(reply(551, 'RCPT TO', '551 User not local')).kind).toBe('invalid_recipient');
    expect(classifySmtpError(reply(501, 'RCPT TO', '501 5.1.3 Bad address')).kind).toBe('invalid_recipient');
    expect(classifySmtpError(reply(530, 'MAIL FROM', '530 5.7.0 Authentication required')).kind).toBe('auth_failed');
    expect(classifySmtpError(reply(450, 'RCPT TO', '450 4.2.1 Too many messages, slow down')).kind).toBe('rate_limited');
    expect(classifySmtpError(reply(452, 'RCPT TO', '452 4.5.3 Too many recipients')).kind).toBe('transient');
    expect(classifySmtpError(reply(503, 'DATA', '503 5.5.1 Bad sequence of commands')).kind).toBe('transient');
    expect(classifySmtpError(reply(550, 'MAIL FROM', '550 5.7.1 Sender not allowed')).kind).toBe('rejected');
    expect(classifySmtpError({ code: 'ETIMEDOUT', message: 'Greeting never received' }).kind).toBe('transient');
  });
});

describe('SMTP adapter: verify', () => {
  it('verifies a reachable server and a good login', async () => {
    const s = await sink({ auth: { user: 'mailer', pass: 's3cret' } });
    expect(await mailer(s, { user: 'mailer', pass: 's3cret' }).verify()).toMatchObject({ ok: true });
  });

  it('fails verification when the login is refused', async () => {
    const s = await sink({ failAuth: true });
    const result = await mailer(s, { user: 'mailer', pass: 'wrong' }).verify();
    expect(result.ok).toBe(false);
    expect(result.message).toContain('SMTP login failed');
  });
});
