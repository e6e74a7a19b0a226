import { z } from 'zod';
import { dataOf, ErrorResponse, idempotencyKeyHeader, notFound, ok, registerApiPath } from '../openapi.js';
import { idParam, siteIdField } from '../validation.js';
import { EmailSchema } from './contacts.schema.js';

/** The most emails one `POST /send/batch` takes. */
export const SEND_BATCH_MAX = 100;
/** Per address field; Resend's own limit. */
const MAX_RECIPIENTS = 50;
const MAX_BODY_CHARS = 1_000_000;

/** Headers the message itself sets: overriding them through `headers` would forge or break it. */
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'reply-to',
  'sender',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
]);
// RFC 5322 field name: printable ASCII except the colon.
const HEADER_NAME = /^[!-9;-~]{1,100}$/;

const Address = EmailSchema.meta({ example: 'ada@example.com', description: 'Trimmed and lowercased.' });

/** One address or a list, always a list afterwards. */
const AddressList = z
  .union([Address, z.array(Address)])
  .transform((v) => [...new Set(Array.isArray(v) ? v : [v])])
  .pipe(z.array(z.string()).max(MAX_RECIPIENTS, { error: `at most ${MAX_RECIPIENTS} addresses` }))
  .meta({ description: `One address or up to ${MAX_RECIPIENTS}.` });

const Headers = z
  .record(
    z.string().regex(HEADER_NAME, { error: 'header names are printable ASCII without spaces or colons' }),
    z.string().max(2000).regex(/^[^\r\n]*$/, { error: 'header values must be one line' }),
  )
  .check((ctx) => {
    const names = Object.keys(ctx.value);
    if (names.length > 50) ctx.issues.push({ code: 'custom', input: ctx.value, message: 'at most 50 headers' });
    for (const name of names) {
      if (RESERVED_HEADERS.has(name.toLowerCase())) {
        ctx.issues.push({ code: 'custom', input: name, path: [name], message: `${name} is set from the send itself; use the matching field` });
      }
    }
  })
  .meta({ description: 'Extra message headers, e.g. `{"X-Entity-Ref-ID": "123"}`.', example: { 'X-Entity-Ref-ID': 'order-1234' } });

/** One transactional email as the client describes it. */
export const TransactionalEmail = z
  .object({
    to: Address.optional().meta({ description: 'Recipient address. Give `to` or `contactId`; a known contact with this email is linked.' }),
    contactId: idParam.optional().meta({ description: 'Recipient contact of this site; its email is the address.' }),
    subject: z.string().trim().min(1, { error: 'subject must not be empty' }).max(998).optional().meta({ description: 'Liquid; with `html`.' }),
    html: z.string().min(1, { error: 'html must not be empty' }).max(MAX_BODY_CHARS).optional().meta({ description: 'Liquid; with `subject`.' }),
    text: z.string().max(MAX_BODY_CHARS).optional().meta({ description: 'Liquid; derived from the HTML when absent.' }),
    templateId: idParam.optional().meta({ description: 'A template of this site instead of `subject` + `html`.' }),
    variables: z
      .record(z.string().max(100), z.unknown())
      .optional()
      .meta({ description: 'Per-send Liquid variables; they win over contact fields of the same name.', example: { resetUrl: 'https://app.example.com/reset/abc' } }),
    sendingConfigId: idParam.meta({ description: 'The sending config (provider and sender) to send through.' }),
    replyTo: Address.optional().meta({ description: 'Overrides the sending config’s reply-to.' }),
    cc: AddressList.optional(),
    bcc: AddressList.optional(),
    headers: Headers.optional(),
  })
  .strict()
  .check((ctx) => {
    const v = ctx.value;
    const issue = (path: string, message: string) => ctx.issues.push({ code: 'custom', input: v, path: [path], message });
    if (v.to === undefined && v.contactId === undefined) issue('to', 'give the recipient as `to` (an email) or `contactId`');
    if (v.to !== undefined && v.contactId !== undefined) issue('contactId', 'give either `to` or `contactId`, not both');
    const inline = v.subject !== undefined || v.html !== undefined || v.text !== undefined;
    if (v.templateId !== undefined && inline) {
      issue('templateId', 'give either `templateId` or inline content (`subject` + `html`), not both');
    } else if (v.templateId === undefined) {
      if (!inline) issue('html', 'give the content as `subject` + `html` (and optionally `text`), or a `templateId`');
      else {
        if (v.subject === undefined) issue('subject', 'subject is required with inline content');
        if (v.html === undefined) issue('html', 'html is required with inline content');
      }
    }
  })
  .meta({ id: 'TransactionalEmail' });
export type TransactionalEmailInput = z.output<typeof TransactionalEmail>;

/** `POST /send`: one email; a `siteId` may ride along (must be the key's). */
export const SendBody = TransactionalEmail.safeExtend({ siteId: siteIdField }).meta({ id: 'SendRequest' });

export const SendBatchBody = z
  .object({
    siteId: siteIdField,
    emails: z
      .array(TransactionalEmail)
      .min(1, { error: 'send at least one email' })
      .max(SEND_BATCH_MAX, { error: `at most ${SEND_BATCH_MAX} emails per batch; split larger sets into several requests` }),
  })
  .strict()
  .meta({ id: 'SendBatchRequest' });

export const SendQueued = z
  .object({
    sendId: z.int().meta({ description: 'Follow it with `GET /sends/{id}`.' }),
    status: z.enum(['queued', 'sent', 'delivered', 'delivery_delayed', 'bounced', 'complained', 'failed', 'suppressed']).meta({
      description: '`queued` for a new send; a retried request with the same Idempotency-Key reports the send’s current status.',
    }),
  })
  .meta({ id: 'SendQueued' });

const BatchItemError = z
  .object({ error: z.object({ code: z.string().meta({ example: 'recipient_suppressed' }), message: z.string() }) })
  .meta({ id: 'SendBatchItemError' });

const idempotencyHeader = idempotencyKeyHeader('A retry with the same key returns the first answer and sends nothing twice (the same send id).');

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Transactional'];

registerApiPath({
  method: 'post',
  path: '/api/v1/send',
  tags,
  summary: 'Send one transactional email',
  description:
    'Validates, renders (Liquid: contact fields, `variables`) and records the email, then delivers it durably on ' +
    'Temporal’s transactional queue: provider throttling and outages are retried with backoff (honouring ' +
    '`Retry-After`), a permanent refusal fails once. The outcome shows on `GET /sends/{id}`. An unsubscribed contact ' +
    'still gets transactional mail; a suppressed address or a bounced/complained contact does not (422).',
  request: { headers: idempotencyHeader, body: { content: { 'application/json': { schema: SendBody } } } },
  responses: {
    202: ok(dataOf(SendQueued), 'Accepted; delivery runs in the background.'),
    ...notFound,
    422: json(ErrorResponse, '`recipient_suppressed`: the address is suppressed or the contact bounced or complained; nothing is sent.'),
  },
});

registerApiPath({
  method: 'post',
  path: '/api/v1/send/batch',
  tags,
  summary: `Send up to ${SEND_BATCH_MAX} transactional emails`,
  description:
    'Every email is validated first: a malformed one fails the whole request with a 400 naming `emails.<i>.<field>`. ' +
    'Then each email is handled as by `POST /send`; one that the state refuses (unknown contact, template or sending ' +
    'config, suppressed recipient) gets an `error` entry at its position and the others are sent. With an ' +
    'Idempotency-Key, email `i` is keyed `<key>:<i>`.',
  request: { headers: idempotencyHeader, body: { content: { 'application/json': { schema: SendBatchBody } } } },
  responses: {
    202: ok(dataOf(z.array(z.union([SendQueued, BatchItemError]))), 'One entry per email, in request order.'),
  },
});
