import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { LoggedEmail } from '../../src/mail/log.js';
import { createMailer, listProviders, parseCredentials, secretFieldsOf } from '../../src/mail/providers.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

let fake: FakeResend;
let sink: SmtpSink;
beforeAll(async () => {
  fake = await startFakeResend();
  sink = await startSmtpSink();
});
afterAll(async () => {
  await fake.close();
  await sink.close();
});

const message = {
  from: { email: 'hello@example.test', name: 'Acme' },
  to: 'ada@example.test',
  subject: 'Hi',
  html: '<p>Hi</p>',
  text: 'Hi',
  idempotencyKey: 'providers:1',
};

describe('provider registry', () => {
  it('lists resend, smtp and log with their capabilities and credential fields', () => {
    const providers = listProviders();
    expect(providers.map((p) => [p.name, p.capabilities])).toEqual([
      ['resend', { batch: true, maxBatchSize: 100, webhooks: true }],
      ['smtp', { batch: false, maxBatchSize: 1, webhooks: false }],
      ['log', { batch: true, maxBatchSize: 100, webhooks: false }],
    ]);
    const fields = Object.fromEntries(providers.map((p) => [p.name, p.credentialFields.map((f) => [f.name, f.type, f.required, f.secret])]));
    expect(fields).toEqual({
      resend: [['apiKey', 'string', true, true]],
      smtp: [
        ['host', 'string', true, false],
        ['port', 'integer', false, false],
        ['secure', 'boolean', false, false],
        ['user', 'string', false, false],
        ['pass', 'string', false, true],
        ['maxConnections', 'integer', false, false],
      ],
      log: [],
    });
    expect(secretFieldsOf('smtp')).toEqual(['pass']);
  });

  it('fills SMTP defaults and refuses unknown or missing credential fields', () => {
    expect(parseCredentials('smtp', { host: 'mail.example.test' })).toEqual({ host: 'mail.example.test', port: 587, secure: false, maxConnections: 5 });
    expect(() => parseCredentials('resend', {})).toThrow(ZodError);
    expect(() => parseCredentials('smtp', { host: 'x', port: 'twenty-five' })).toThrow(ZodError);
    expect(() => parseCredentials('log', { apiKey: 'x' })).toThrow(ZodError);
  });

  it('builds a Resend mailer that sends through the configured API', async () => {
    const mailer = createMailer('resend', { apiKey: fake.apiKey }, { resendBaseUrl: fake.url });
    expect(await mailer.send(message)).toMatchObject({ kind: 'sent' });
    expect(fake.emails).toHaveLength(1);
  });

  it('builds an SMTP mailer that delivers to the configured server', async () => {
    const mailer = createMailer('smtp', { host: sink.host, port: sink.port, secure: false });
    try {
      expect(await mailer.send(message)).toMatchObject({ kind: 'sent' });
      expect(sink.messages).toHaveLength(1);
    } finally {
      await mailer.close();
    }
  });

  it('builds a log mailer that writes to the given sink', async () => {
    const logged: LoggedEmail[] = [];
    const mailer = createMailer('log', {}, { logSink: (e) => void logged.push(e) });
    expect(await mailer.send(message)).toMatchObject({ kind: 'sent' });
    expect(logged.map((e) => e.message.to)).toEqual(['ada@example.test']);
  });
});
