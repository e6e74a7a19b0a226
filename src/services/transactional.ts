import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { AppError } from '../errors.js';
import type { DbOrTx } from '../db/client.js';
import { findRecipientContact } from '../db/repositories/contacts.js';
import { getSendingConfig } from '../db/repositories/sending-configs.js';
import { IDEMPOTENCY_KEY_TTL_MS } from '../db/repositories/idempotency.js';
import { findSendByKey, insertSend, listQueuedTransactionalBefore, markSendFailed, reserveSendIds, type SendRow, type SendStatus } from '../db/repositories/sends.js';
import { isSuppressed, suppressedEmails } from '../db/repositories/suppressions.js';
import { assertTemplateCompiles, getTemplate } from '../db/repositories/templates.js';
import { workflowIds } from '../domain/ids.js';
import { composeSendContent, type SendContent } from '../mail/compose.js';
import { TemplateRenderError, type TemplateContact, type TemplateSource } from '../mail/render.js';
import { TASK_QUEUES } from '../temporal/task-queues.js';
import type { transactionalSendWorkflow } from '../../workflows/transactional.js';
import { TRANSACTIONAL_WORKFLOW, transactionalSearchAttributes } from '../../workflows/transactional.contract.js';
import { mapLimit } from '../concurrency.js';

/** One email as `POST /send` describes it, validated (src/api/routes/transactional.schema.ts). */
export interface TransactionalEmailInput {
  to?: string;
  contactId?: number;
  subject?: string;
  html?: string;
  text?: string;
  templateId?: number;
  variables?: Record<string, unknown>;
  sendingConfigId: number;
  replyTo?: string;
  cc?: string[];
  bcc?: string[];
  headers?: Record<string, string>;
}

export interface TransactionalDeps {
  db: DbOrTx;
  temporal: Client;
  /** Ask for eager workflow start (see AppDeps.eagerStart): a worker of this process runs the send at once. */
  eagerStart?: boolean;
}

export interface QueuedSend {
  sendId: number;
  status: SendStatus;
}

export type BatchItemResult = QueuedSend | { error: { code: string; message: string } };

/** Contact statuses that block every email: the address bounced or its owner complained. */
const BLOCKED_STATUSES = new Set(['bounced', 'complained']);

/** How long starting a delivery workflow may take before the request gives up with a 503. */
const START_DEADLINE_MS = 5_000;

/** How many emails of one batch are prepared at once; more would only queue on the database pool. */
const BATCH_CONCURRENCY = 8;

function render(source: TemplateSource, contact: TemplateContact, variables: Record<string, unknown> | undefined): SendContent {
  // Syntax errors become 400 `template_syntax` with field, line and column.
  assertTemplateCompiles(source);
  try {
    return composeSendContent(source, { contact, variables: variables ?? {} });
  } catch (err) {
    if (!(err instanceof TemplateRenderError)) throw err;
    throw new AppError('template_render_failed', 'invalid', `The email could not be rendered: ${err.message}`, [
      { path: err.field, message: err.reason },
    ]);
  }
}

/**
 * The provider-facing idempotency key, unique across sites: derived from the client's Idempotency-Key
 * when given (so a retried request finds the same row and the provider deduplicates the same email),
 * else random (every request is a new email).
 */
function idempotencyKeyFor(siteId: number, clientKey: string | undefined): string {
  return clientKey === undefined ? `transactional:${randomUUID()}` : `transactional:${siteId}:${clientKey}`;
}

type SendHead = Pick<SendRow, 'id' | 'siteId' | 'contactId' | 'toEmail' | 'status'>;

/**
 * Checks one email against the site's state (sending config, template, contact, suppression), renders
 * it and records it as a queued send. Throws AppError for what the client must fix. A retry with the
 * same idempotency key returns the row the first request recorded.
 */
async function recordSend(db: DbOrTx, siteId: number, email: TransactionalEmailInput, clientKey: string | undefined): Promise<SendHead> {
  const idempotencyKey = idempotencyKeyFor(siteId, clientKey);
  if (clientKey !== undefined) {
    // A retry (say after a 503) answers with what the first request recorded, whatever changed since.
    const earlier = await findSendByKey(db, idempotencyKey);
    if (earlier) return earlier;
  }
  // Independent reads in parallel: one round trip of latency instead of five. The id is taken from the
  // sequence up front so the row carries its workflow id from the start; a refused email leaves a gap.
  // cc and bcc reach people too: a suppressed copy address refuses the email like a suppressed `to`.
  const copies = [...(email.cc ?? []).map((a, i) => ({ path: `cc.${i}`, address: a })), ...(email.bcc ?? []).map((a, i) => ({ path: `bcc.${i}`, address: a }))];
  const [config, template, contact, suppressed, id] = await Promise.all([
    getSendingConfig(db, siteId, email.sendingConfigId),
    email.templateId === undefined ? undefined : getTemplate(db, siteId, email.templateId),
    email.contactId !== undefined
      ? findRecipientContact(db, siteId, { id: email.contactId })
      : findRecipientContact(db, siteId, { email: email.to! }),
    suppressedEmails(db, siteId, [...(email.to === undefined ? [] : [email.to]), ...copies.map((c) => c.address)]),
    reserveSendIds(db, 1).then(([reserved]) => reserved!),
  ]);
  if (!config) {
    throw new AppError('sending_config_not_found', 'not_found', `Sending config ${email.sendingConfigId} not found`, [
      { path: 'sendingConfigId', message: 'no sending config with this id in this site' },
    ]);
  }
  if (template === null) {
    throw new AppError('template_not_found', 'not_found', `Template ${email.templateId} not found`, [
      { path: 'templateId', message: 'no template with this id in this site' },
    ]);
  }
  if (email.contactId !== undefined && !contact) {
    throw new AppError('contact_not_found', 'not_found', `Contact ${email.contactId} not found`, [
      { path: 'contactId', message: 'no contact with this id in this site' },
    ]);
  }
  const to = contact?.email ?? email.to!;

  // Unsubscribing stops marketing, not receipts or password resets; a bounce or complaint stops everything.
  if (contact && BLOCKED_STATUSES.has(contact.status)) {
    throw new AppError('recipient_suppressed', 'unprocessable', `Contact ${contact.id} (${to}) is ${contact.status}; nothing was sent`);
  }
  if (email.to !== undefined ? suppressed.has(to.trim().toLowerCase()) : await isSuppressed(db, siteId, to)) {
    throw new AppError('recipient_suppressed', 'unprocessable', `${to} is on the suppression list; nothing was sent`);
  }
  const blockedCopies = copies.filter((c) => suppressed.has(c.address.trim().toLowerCase()));
  if (blockedCopies.length > 0) {
    throw new AppError(
      'recipient_suppressed',
      'unprocessable',
      `${blockedCopies.map((c) => c.address).join(', ')} ${blockedCopies.length === 1 ? 'is' : 'are'} on the suppression list; nothing was sent`,
      blockedCopies.map((c) => ({ path: c.path, message: 'on the suppression list' })),
    );
  }

  const source: TemplateSource = template ?? { subject: email.subject!, html: email.html!, text: email.text ?? null };
  const { id: _id, status: _status, ...fields } = contact ?? { id: 0, status: '', email: to };
  const rendered = render(source, fields, email.variables);

  const { send } = await insertSend(db, {
    id,
    siteId,
    kind: 'transactional',
    contactId: contact?.id ?? null,
    toEmail: to,
    cc: email.cc ?? null,
    bcc: email.bcc ?? null,
    replyTo: email.replyTo ?? null,
    headers: email.headers ?? null,
    ...rendered,
    sendingConfigId: config.id,
    templateId: template?.id ?? null,
    status: 'queued',
    idempotencyKey,
    workflowId: workflowIds.transactional(id),
  });
  return send;
}

/**
 * Starts delivery. USE_EXISTING makes a retried request that finds the workflow running attach to it
 * instead of starting a second one; a settled send is not started again.
 */
async function startDelivery({ temporal, eagerStart }: Pick<TransactionalDeps, 'temporal' | 'eagerStart'>, send: SendHead): Promise<void> {
  if (send.status !== 'queued') return;
  // Bounded, so a Temporal outage is a prompt 503 instead of a request hanging in gRPC retries. A start
  // that did reach the server before the deadline is harmless: the retry attaches to it.
  await temporal.withDeadline(Date.now() + START_DEADLINE_MS, () => temporal.workflow.start<typeof transactionalSendWorkflow>(TRANSACTIONAL_WORKFLOW, {
    taskQueue: TASK_QUEUES.transactional,
    workflowId: workflowIds.transactional(send.id),
    workflowIdConflictPolicy: 'USE_EXISTING',
    // The server may still refuse (no local worker slot): then the task goes through the queue as usual.
    ...(eagerStart ? { requestEagerStart: true } : {}),
    args: [{ sendId: send.id }],
    typedSearchAttributes: transactionalSearchAttributes(send),
  }));
}

/**
 * `POST /send`: records one transactional email and starts its delivery workflow. If Temporal cannot
 * be reached the row stays queued and the error propagates (503); a retry with the same
 * Idempotency-Key then finds the row and starts its workflow.
 */
export async function queueTransactionalSend(
  deps: TransactionalDeps,
  siteId: number,
  email: TransactionalEmailInput,
  opts: { idempotencyKey?: string } = {},
): Promise<QueuedSend> {
  const send = await recordSend(deps.db, siteId, email, opts.idempotencyKey);
  await startDelivery(deps, send);
  return { sendId: send.id, status: send.status };
}

/**
 * `POST /send/batch`: each email as by {@link queueTransactionalSend}; an email the site's state
 * refuses (an AppError: unknown contact, suppressed…) becomes an `error` entry at its position while
 * the others go out. Anything else (database or Temporal down) fails the request at once: no further
 * email is recorded or started after the first failure (see mapLimit). Rows already recorded stay
 * queued; a retry with the same Idempotency-Key picks them up, and those never retried are failed
 * once the key has expired (failStrandedSends).
 */
export async function queueTransactionalBatch(
  deps: TransactionalDeps,
  siteId: number,
  emails: TransactionalEmailInput[],
  opts: { idempotencyKey?: string } = {},
): Promise<BatchItemResult[]> {
  const recorded = await mapLimit(emails, BATCH_CONCURRENCY, async (email, index) => {
    const key = opts.idempotencyKey === undefined ? undefined : `${opts.idempotencyKey}:${index}`;
    try {
      return { send: await recordSend(deps.db, siteId, email, key) };
    } catch (err) {
      if (err instanceof AppError) return { refused: { error: { code: err.code, message: err.message } } };
      throw err;
    }
  });
  return mapLimit(recorded, BATCH_CONCURRENCY, async (item): Promise<BatchItemResult> => {
    if (!item.send) return item.refused;
    await startDelivery(deps, item.send);
    return { sendId: item.send.id, status: item.send.status };
  });
}

/** Why {@link failStrandedSends} fails a send: the send log shows it to whoever looks for the email. */
export const STRANDED_SEND_ERROR =
  'not sent: the request that recorded this email failed (HTTP 5xx) and was not retried with the same Idempotency-Key before the key expired';

/**
 * Fails transactional sends recorded by a request that then failed (Temporal unreachable, a batch
 * stopped by an error) and was never retried: still `queued` after the Idempotency-Key lifetime, and
 * no delivery workflow exists for them. A send whose workflow does exist is only waiting for a worker
 * and is left alone. Returns how many were failed; at most `limit` per call (the caller runs it again).
 */
export async function failStrandedSends(
  deps: Pick<TransactionalDeps, 'db' | 'temporal'>,
  opts: { olderThanMs?: number; limit?: number; now?: Date } = {},
): Promise<number> {
  const before = new Date((opts.now ?? new Date()).getTime() - (opts.olderThanMs ?? IDEMPOTENCY_KEY_TTL_MS));
  const candidates = await listQueuedTransactionalBefore(deps.db, before, opts.limit ?? 500);
  const failed = await mapLimit(candidates, 8, async ({ id }) => {
    try {
      await deps.temporal.workflow.getHandle(workflowIds.transactional(id)).describe();
      return false;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    return (await markSendFailed(deps.db, id, STRANDED_SEND_ERROR)) !== null;
  });
  return failed.filter(Boolean).length;
}
