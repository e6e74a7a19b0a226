import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/*
 * Resend webhook fixtures signed the way Svix signs them: `svix-id`, `svix-timestamp` (Unix seconds)
 * and `svix-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` under the endpoint's
 * `whsec_<base64>` secret, computed by the standardwebhooks library (the scheme Svix implements).
 */

/** A fresh signing secret in Resend's format. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export interface SignedWebhook {
  body: string;
  headers: Record<string, string>;
}

/**
 * Signs `payload` (an object is JSON-encoded; a string is sent as is, for malformed bodies) under
 * `secret`, as of `at` (default now) with message id `msgId` (default a fresh `msg_…`).
 */
export function signWebhook(secret: string, payload: unknown, opts: { msgId?: string; at?: Date } = {}): SignedWebhook {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const msgId = opts.msgId ?? `msg_${randomUUID().replaceAll('-', '')}`;
  const at = opts.at ?? new Date();
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'svix-id': msgId,
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': new Webhook(secret).sign(msgId, at, body),
    },
  };
}

type Extra = Record<string, unknown>;

/**
 * A Resend email event as Resend posts it (`{type, created_at, data: {email_id, from, to, subject,
 * created_at, ...}}`), for the email with Resend id `emailId`; `data` adds event fields such as
 * `bounce` or `click`.
 */
export function resendEvent(type: string, emailId: string, data: Extra = {}, createdAt = new Date()): Extra {
  return {
    type,
    created_at: createdAt.toISOString(),
    data: {
      broadcast_id: null,
      created_at: createdAt.toISOString(),
      email_id: emailId,
      from: 'Acme <hello@acme.test>',
      to: ['someone@example.com'],
      subject: 'Hello',
      ...data,
    },
  };
}

export const resendBounce = (emailId: string, type: 'Permanent' | 'Transient' | 'Undetermined' = 'Permanent') =>
  resendEvent('email.bounced', emailId, {
    bounce: {
      message: type === 'Permanent' ? "The recipient's email address does not exist." : 'The mailbox is full.',
      subType: type === 'Permanent' ? 'General' : 'MailboxFull',
      type,
    },
  });

export const resendClick = (emailId: string, link: string) =>
  resendEvent('email.clicked', emailId, {
    click: { ipAddress: '203.0.113.7', link, timestamp: new Date().toISOString(), userAgent: 'Mozilla/5.0' },
  });
