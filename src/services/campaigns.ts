import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { AppError, type ErrorDetail } from '../errors.js';
import type { DbOrTx } from '../db/client.js';
import {
  audienceCondition,
  countAudience,
  deleteDraftCampaign,
  getCampaign,
  insertCampaign,
  recipientStatusCounts,
  resetFailedRecipients,
  updateCampaignIf,
  type CampaignRow,
  type CampaignStatus,
  type NewCampaign,
} from '../db/repositories/campaigns.js';
import { assertListsOfSite } from '../db/repositories/lists.js';
import { getSendingConfig } from '../db/repositories/sending-configs.js';
import { assertTemplateCompiles, getTemplate } from '../db/repositories/templates.js';
import type { CampaignAudience } from '../db/schema.js';
import { idsOfSite } from '../db/repositories/sites.js';
import { campaignSegmentSql } from '../db/segments.js';
import { queueTransactionalSend, type QueuedSend } from './transactional.js';
import { workflowIds } from '../domain/ids.js';
import { CAMPAIGN_MAX_BATCH_SIZE } from '../mail/providers.js';
import { TASK_QUEUES } from '../temporal/task-queues.js';
import type { campaignWorkflow } from '../../workflows/campaign.js';
import {
  CAMPAIGN_WORKFLOW,
  campaignSearchAttributes,
  cancelSignal,
  pauseSignal,
  rescheduleSignal,
  resumeSignal,
  type CampaignState,
} from '../../workflows/campaign.contract.js';

export interface CampaignsDeps {
  db: DbOrTx;
  temporal: Client;
}

/** The body of `POST /campaigns` (validated by src/api/routes/campaigns.schema.ts). */
export interface CampaignInput {
  name: string;
  subject?: string;
  html?: string;
  text?: string | null;
  templateId?: number | null;
  listId?: number;
  tagId?: number;
  segmentId?: number;
  audience?: CampaignAudience;
  sendingConfigId: number;
  scheduledAt?: string | null;
  batchSize?: number;
  maxPerSecond?: number | null;
}

export type CampaignPatch = Partial<CampaignInput>;

/** Statuses in which the content, audience and throttle may still change. */
const EDITABLE: CampaignStatus[] = ['draft', 'scheduled'];

/** The audience of a body: the shorthands `listId`, `tagId`, `segmentId` merged into `audience`. */
function audienceOf(input: CampaignPatch): CampaignAudience | undefined {
  if (input.audience === undefined && input.listId === undefined && input.tagId === undefined && input.segmentId === undefined) return undefined;
  const a = input.audience ?? {};
  const merge = (ids: number[] | undefined, one: number | undefined) => {
    const all = [...new Set([...(ids ?? []), ...(one === undefined ? [] : [one])])];
    return all.length ? all : undefined;
  };
  const out: CampaignAudience = {};
  const listIds = merge(a.listIds, input.listId);
  const tagIds = merge(a.tagIds, input.tagId);
  const segmentIds = merge(a.segmentIds, input.segmentId);
  const excludeListIds = merge(a.excludeListIds, undefined);
  const excludeSegmentIds = merge(a.excludeSegmentIds, undefined);
  if (listIds) out.listIds = listIds;
  if (tagIds) out.tagIds = tagIds;
  if (segmentIds) out.segmentIds = segmentIds;
  if (excludeListIds) out.excludeListIds = excludeListIds;
  if (excludeSegmentIds) out.excludeSegmentIds = excludeSegmentIds;
  return out;
}

async function assertIdsOfSite(db: DbOrTx, siteId: number, table: 'tags' | 'segments', ids: number[] | undefined, what: string, path: string) {
  const unique = [...new Set(ids ?? [])];
  if (!unique.length) return;
  const found = new Set(await idsOfSite(db, siteId, table, unique));
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) {
    throw new AppError(
      `${what}_not_found`,
      'not_found',
      `${what[0]!.toUpperCase()}${what.slice(1)}${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found`,
      missing.map((id) => ({ path, message: `${what} ${id} does not exist in this site` })),
    );
  }
}

/** Checks that everything a campaign names belongs to the site and that its content parses. */
async function validateRefs(db: DbOrTx, siteId: number, c: NewCampaign): Promise<void> {
  const audience = c.audience;
  const includes = (audience.listIds?.length ?? 0) + (audience.tagIds?.length ?? 0) + (audience.segmentIds?.length ?? 0);
  if (includes === 0) {
    throw AppError.validation('A campaign needs an audience', [
      { path: 'audience', message: 'give listId, tagId, segmentId or audience.{listIds, tagIds, segmentIds}' },
    ]);
  }
  if (!(await getSendingConfig(db, siteId, c.sendingConfigId))) {
    throw new AppError('sending_config_not_found', 'not_found', `Sending config ${c.sendingConfigId} not found`, [
      { path: 'sendingConfigId', message: 'no sending config with this id in this site' },
    ]);
  }
  await assertListsOfSite(db, siteId, [...(audience.listIds ?? []), ...(audience.excludeListIds ?? [])]);
  await assertIdsOfSite(db, siteId, 'tags', audience.tagIds, 'tag', 'audience.tagIds');
  await assertIdsOfSite(db, siteId, 'segments', [...(audience.segmentIds ?? []), ...(audience.excludeSegmentIds ?? [])], 'segment', 'audience.segmentIds');
  let subject = c.subject ?? null;
  let html = c.html ?? null;
  if (c.templateId != null) {
    const template = await getTemplate(db, siteId, c.templateId);
    if (!template) {
      throw new AppError('template_not_found', 'not_found', `Template ${c.templateId} not found`, [{ path: 'templateId', message: 'no template with this id in this site' }]);
    }
    subject ??= template.subject;
    html = template.html;
  }
  if (subject === null || html === null) {
    const details: ErrorDetail[] = [];
    if (subject === null) details.push({ path: 'subject', message: 'subject is required without templateId' });
    if (html === null) details.push({ path: 'html', message: 'html is required without templateId' });
    throw AppError.validation('A campaign needs subject and html, or a templateId', details);
  }
  assertTemplateCompiles({ subject, html, text: c.templateId != null ? null : (c.text ?? null) });
}

function conflict(row: CampaignRow, action: string, allowed: CampaignStatus[]): AppError {
  return new AppError(
    'invalid_state',
    'conflict',
    `Campaign ${row.id} is ${row.status}; it can be ${action} only when ${allowed.join(' or ')}`,
  );
}

async function mustGet(db: DbOrTx, siteId: number, id: number): Promise<CampaignRow> {
  const row = await getCampaign(db, siteId, id);
  if (!row) throw AppError.notFound('Campaign', id);
  return row;
}

/**
 * A compare-and-set transition: the row must be in one of `from`; otherwise 404 (absent) or 409
 * naming the current status and the allowed ones.
 */
async function transition(db: DbOrTx, siteId: number, id: number, from: CampaignStatus[], set: Partial<NewCampaign>, action: string): Promise<CampaignRow> {
  const row = await updateCampaignIf(db, siteId, id, from, set);
  if (row) return row;
  throw conflict(await mustGet(db, siteId, id), action, from);
}

function startOptions(row: CampaignRow) {
  return {
    taskQueue: TASK_QUEUES.main,
    workflowId: workflowIds.campaign(row.id),
    typedSearchAttributes: campaignSearchAttributes({ siteId: row.siteId, campaignId: row.id }),
  };
}

async function startWorkflow(temporal: Client, row: CampaignRow, scheduledAt: Date): Promise<void> {
  await temporal.workflow.start<typeof campaignWorkflow>(CAMPAIGN_WORKFLOW, {
    ...startOptions(row),
    args: [{ campaignId: row.id, siteId: row.siteId, scheduledAt: scheduledAt.toISOString() }],
  });
}

/** How long a signal to a campaign's workflow may take before the API answers 503 (Temporal down). */
const SIGNAL_DEADLINE_MS = 5_000;

/** Signals the campaign's workflow; one that already ended has nothing left to stop. */
async function signal(temporal: Client, id: number, send: (h: ReturnType<Client['workflow']['getHandle']>) => Promise<void>): Promise<void> {
  try {
    await temporal.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () => send(temporal.workflow.getHandle(workflowIds.campaign(id))));
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/**
 * A status change the workflow must hear about: the row moves first (so the workflow, which re-reads
 * it before every batch, and concurrent requests see it), then the signal goes out. When the signal
 * cannot be delivered (Temporal unavailable) the row is put back as it was and the error propagates
 * (503), so the state never claims what the workflow was not told and a retry of the request works.
 */
async function transitionAndSignal(
  { db, temporal }: CampaignsDeps,
  current: CampaignRow,
  from: CampaignStatus[],
  set: Partial<NewCampaign>,
  action: string,
  send: (h: ReturnType<Client['workflow']['getHandle']>) => Promise<void>,
): Promise<CampaignRow> {
  const row = await transition(db, current.siteId, current.id, from, set, action);
  try {
    await signal(temporal, current.id, send);
  } catch (err) {
    await updateCampaignIf(db, current.siteId, current.id, [row.status], {
      status: current.status,
      pausedReason: current.pausedReason,
      completedAt: current.completedAt,
    });
    throw err;
  }
  return row;
}

export async function createCampaign({ db, temporal }: CampaignsDeps, siteId: number, input: CampaignInput): Promise<CampaignRow> {
  const row: NewCampaign = {
    siteId,
    name: input.name,
    subject: input.subject ?? null,
    html: input.html ?? null,
    text: input.text ?? null,
    templateId: input.templateId ?? null,
    sendingConfigId: input.sendingConfigId,
    audience: audienceOf(input) ?? {},
    batchSize: input.batchSize ?? CAMPAIGN_MAX_BATCH_SIZE,
    maxPerSecond: input.maxPerSecond ?? null,
    status: 'draft',
  };
  await validateRefs(db, siteId, row);
  const created = await insertCampaign(db, row);
  if (!input.scheduledAt) return created;
  return scheduleCampaign({ db, temporal }, siteId, created.id, input.scheduledAt);
}

/** Edits content, audience or throttle while draft or scheduled (409 after); a new `scheduledAt` reschedules. */
export async function updateCampaign({ db, temporal }: CampaignsDeps, siteId: number, id: number, patch: CampaignPatch): Promise<CampaignRow> {
  const current = await mustGet(db, siteId, id);
  if (!EDITABLE.includes(current.status)) throw conflict(current, 'edited', EDITABLE);
  const set: Partial<NewCampaign> = {};
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.subject !== undefined) set.subject = patch.subject;
  if (patch.html !== undefined) set.html = patch.html;
  if (patch.text !== undefined) set.text = patch.text;
  if (patch.templateId !== undefined) set.templateId = patch.templateId;
  if (patch.sendingConfigId !== undefined) set.sendingConfigId = patch.sendingConfigId;
  if (patch.batchSize !== undefined) set.batchSize = patch.batchSize;
  if (patch.maxPerSecond !== undefined) set.maxPerSecond = patch.maxPerSecond;
  const audience = audienceOf(patch);
  if (audience) set.audience = audience;
  await validateRefs(db, siteId, { ...current, ...set });
  let row = await transition(db, siteId, id, [current.status], set, 'edited');
  if (patch.scheduledAt) {
    row = await scheduleCampaign({ db, temporal }, siteId, id, patch.scheduledAt);
  } else if (patch.scheduledAt === null && row.status === 'scheduled') {
    throw AppError.validation('A scheduled campaign keeps a time', [{ path: 'scheduledAt', message: 'cancel the campaign to stop it, or give a new time' }]);
  }
  return row;
}

export async function deleteCampaign({ db }: CampaignsDeps, siteId: number, id: number): Promise<void> {
  if (await deleteDraftCampaign(db, siteId, id)) return;
  const row = await mustGet(db, siteId, id);
  throw new AppError('invalid_state', 'conflict', `Campaign ${row.id} is ${row.status}; only a draft can be deleted (cancel it instead)`);
}

/**
 * Schedules a draft (starting its workflow, which waits durably) or moves a scheduled campaign to a
 * new time (signalling the waiting workflow). A time in the past means now.
 */
export async function scheduleCampaign({ db, temporal }: CampaignsDeps, siteId: number, id: number, scheduledAt: string): Promise<CampaignRow> {
  const at = new Date(scheduledAt);
  const current = await mustGet(db, siteId, id);
  if (current.status === 'scheduled') {
    const row = await transition(db, siteId, id, ['scheduled'], { scheduledAt: at }, 'rescheduled');
    await signal(temporal, id, (h) => h.signal(rescheduleSignal, { scheduledAt: at.toISOString() }));
    return row;
  }
  const row = await transition(db, siteId, id, ['draft'], { status: 'scheduled', scheduledAt: at, workflowId: workflowIds.campaign(id) }, 'scheduled');
  try {
    await startWorkflow(temporal, row, at);
  } catch (err) {
    // Without a workflow the campaign would never send: put it back to draft so a retry can start it.
    await updateCampaignIf(db, siteId, id, ['scheduled'], { status: 'draft', scheduledAt: current.scheduledAt, workflowId: current.workflowId });
    throw err;
  }
  return row;
}

/** `POST /campaigns/:id/send`: schedule (or reschedule) for now. */
export async function sendCampaignNow(deps: CampaignsDeps, siteId: number, id: number): Promise<CampaignRow> {
  const current = await mustGet(deps.db, siteId, id);
  if (!EDITABLE.includes(current.status)) throw conflict(current, 'sent now', EDITABLE);
  return scheduleCampaign(deps, siteId, id, new Date().toISOString());
}

export async function pauseCampaign(deps: CampaignsDeps, siteId: number, id: number): Promise<CampaignRow> {
  const current = await mustGet(deps.db, siteId, id);
  return transitionAndSignal(deps, current, ['sending'], { status: 'paused', pausedReason: 'paused by request' }, 'paused', (h) =>
    h.signal(pauseSignal, { reason: 'paused by request' }),
  );
}

export async function resumeCampaign(deps: CampaignsDeps, siteId: number, id: number): Promise<CampaignRow> {
  const current = await mustGet(deps.db, siteId, id);
  return transitionAndSignal(deps, current, ['paused'], { status: 'sending', pausedReason: null }, 'resumed', (h) => h.signal(resumeSignal));
}

export async function cancelCampaign(deps: CampaignsDeps, siteId: number, id: number): Promise<CampaignRow> {
  const current = await mustGet(deps.db, siteId, id);
  const from: CampaignStatus[] = ['draft', 'scheduled', 'sending', 'paused'];
  const set = { status: 'cancelled' as const, completedAt: new Date() };
  // A draft has no workflow yet. Otherwise the workflow settles every pending recipient as skipped and ends.
  if (current.status === 'draft') return transition(deps.db, siteId, id, from, set, 'cancelled');
  return transitionAndSignal(deps, current, from, set, 'cancelled', (h) => h.signal(cancelSignal));
}

/**
 * `POST /campaigns/:id/retry-failed`: the failed recipients of a finished campaign go back to pending
 * under their next attempt number (a fresh idempotency key) and a new run of the campaign workflow
 * sends to them, and only them: the audience is not frozen again.
 */
export async function retryFailedRecipients({ db, temporal }: CampaignsDeps, siteId: number, id: number): Promise<{ campaign: CampaignRow; retrying: number }> {
  const finished: CampaignStatus[] = ['sent', 'failed'];
  const result = await resetFailedRecipients(db, siteId, id, finished);
  if (!result) throw conflict(await mustGet(db, siteId, id), 'retried', finished);
  if (result.reset === 0) return { campaign: result.campaign, retrying: 0 };
  const state: CampaignState = {
    phase: 'sending',
    cursor: 0,
    paused: false,
    window: { attempted: 0, failed: 0 },
    totals: { sent: 0, failed: 0, suppressed: 0, skipped: 0 },
  };
  await temporal.workflow.start<typeof campaignWorkflow>(CAMPAIGN_WORKFLOW, {
    ...startOptions(result.campaign),
    // The previous run has finished (its last step set the status); a run still closing is replaced.
    workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    args: [{ campaignId: id, siteId, state }],
  });
  return { campaign: result.campaign, retrying: result.reset };
}

const rate = (n: number, of: number) => (of > 0 ? Math.round((n / of) * 10_000) / 10_000 : 0);

/** The API shape: content, audience, status, counters, progress and rates. */
export function campaignView(row: CampaignRow) {
  const done = row.sentCount + row.failedCount + row.suppressedCount + row.skippedCount;
  const finished = row.status === 'sent' || row.status === 'failed' || row.status === 'cancelled';
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    subject: row.subject,
    html: row.html,
    text: row.text,
    templateId: row.templateId,
    sendingConfigId: row.sendingConfigId,
    audience: {
      listIds: row.audience.listIds ?? [],
      tagIds: row.audience.tagIds ?? [],
      segmentIds: row.audience.segmentIds ?? [],
      excludeListIds: row.audience.excludeListIds ?? [],
      excludeSegmentIds: row.audience.excludeSegmentIds ?? [],
    },
    batchSize: row.batchSize,
    maxPerSecond: row.maxPerSecond,
    scheduledAt: row.scheduledAt,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    pausedReason: row.pausedReason,
    workflowId: row.workflowId,
    totalRecipients: row.totalRecipients,
    sentCount: row.sentCount,
    failedCount: row.failedCount,
    suppressedCount: row.suppressedCount,
    skippedCount: row.skippedCount,
    deliveredCount: row.deliveredCount,
    openedCount: row.openedCount,
    clickedCount: row.clickedCount,
    bouncedCount: row.bouncedCount,
    complainedCount: row.complainedCount,
    unsubscribedCount: row.unsubscribedCount,
    progress: row.totalRecipients > 0 ? Math.round((1000 * done) / row.totalRecipients) / 10 : finished ? 100 : 0,
    rates: {
      delivered: rate(row.deliveredCount, row.sentCount),
      opened: rate(row.openedCount, row.sentCount),
      clicked: rate(row.clickedCount, row.sentCount),
      bounced: rate(row.bouncedCount, row.sentCount),
      complained: rate(row.complainedCount, row.sentCount),
      unsubscribed: rate(row.unsubscribedCount, row.sentCount),
      failed: rate(row.failedCount, row.sentCount + row.failedCount),
    },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** `GET /campaigns/:id/stats`: the counters plus the recipients by state and the send rate so far. */
export async function campaignStats(db: DbOrTx, siteId: number, id: number) {
  const row = await mustGet(db, siteId, id);
  const recipients = await recipientStatusCounts(db, id);
  const view = campaignView(row);
  const end = row.completedAt ?? new Date();
  const elapsedSeconds = row.startedAt ? Math.max(0, (end.getTime() - row.startedAt.getTime()) / 1000) : 0;
  return {
    id: row.id,
    status: row.status,
    pausedReason: row.pausedReason,
    totalRecipients: row.totalRecipients,
    sentCount: row.sentCount,
    failedCount: row.failedCount,
    suppressedCount: row.suppressedCount,
    skippedCount: row.skippedCount,
    deliveredCount: row.deliveredCount,
    openedCount: row.openedCount,
    clickedCount: row.clickedCount,
    bouncedCount: row.bouncedCount,
    complainedCount: row.complainedCount,
    unsubscribedCount: row.unsubscribedCount,
    progress: view.progress,
    rates: view.rates,
    recipients,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    elapsedSeconds: Math.round(elapsedSeconds * 10) / 10,
    sendRatePerSecond: elapsedSeconds > 0 ? Math.round((row.sentCount / elapsedSeconds) * 10) / 10 : 0,
  };
}

/**
 * `POST /campaigns/audience-count`: how many contacts an audience would reach if it were frozen now
 * (subscribed members of the targeted lists, tags and segments, minus the exclusions), and how many of
 * those would be recorded as suppressed. Every id must belong to the site.
 */
export async function countCampaignAudience(db: DbOrTx, siteId: number, audience: CampaignAudience): Promise<{ total: number; suppressed: number; recipients: number }> {
  await assertListsOfSite(db, siteId, [...(audience.listIds ?? []), ...(audience.excludeListIds ?? [])]);
  await assertIdsOfSite(db, siteId, 'tags', audience.tagIds, 'tag', 'audience.tagIds');
  await assertIdsOfSite(db, siteId, 'segments', [...(audience.segmentIds ?? []), ...(audience.excludeSegmentIds ?? [])], 'segment', 'audience.segmentIds');
  const [include, exclude] = await Promise.all([
    Promise.all((audience.segmentIds ?? []).map((id) => campaignSegmentSql(db, siteId, id))),
    Promise.all((audience.excludeSegmentIds ?? []).map((id) => campaignSegmentSql(db, siteId, id))),
  ]);
  const { total, suppressed } = await countAudience(db, siteId, audienceCondition(audience, { include, exclude }));
  return { total, suppressed, recipients: total - suppressed };
}

/**
 * `POST /campaigns/:id/test`: one copy of the campaign's current content to one address, through its
 * sending config, recorded and delivered as a transactional send (so it never counts in the campaign's
 * statistics). The subject is prefixed with `[Test]`; a contact with that address lends its fields.
 */
export async function sendCampaignTest(
  deps: CampaignsDeps & { eagerStart?: boolean },
  siteId: number,
  id: number,
  to: string,
): Promise<QueuedSend> {
  const row = await mustGet(deps.db, siteId, id);
  let subject = row.subject;
  let html = row.html;
  let text = row.text;
  if (row.templateId != null) {
    const template = await getTemplate(deps.db, siteId, row.templateId);
    if (!template) {
      throw new AppError('template_not_found', 'not_found', `Template ${row.templateId} not found`, [{ path: 'templateId', message: 'the campaign’s template no longer exists' }]);
    }
    subject ??= template.subject;
    html = template.html;
    text = template.text;
  }
  if (subject === null || html === null) {
    throw AppError.validation('The campaign has no content yet', [{ path: subject === null ? 'subject' : 'html', message: 'give the campaign a subject and html, or a template' }]);
  }
  return queueTransactionalSend(deps, siteId, {
    to,
    subject: `[Test] ${subject}`,
    html,
    ...(text ? { text } : {}),
    sendingConfigId: row.sendingConfigId,
  });
}
