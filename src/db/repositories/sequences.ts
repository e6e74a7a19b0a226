import { and, asc, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import { AppError, type ErrorDetail } from '../../errors.js';
import { delayMs, maxDelayValue, type DelayUnit } from '../../domain/delays.js';
import type { EnrollmentCondition, LiveStep } from '../../domain/enrollment.js';
import type { DbOrTx } from '../client.js';
import {
  enrollments,
  sendingConfigs,
  sequenceSteps,
  sequences,
  tags,
  templates,
  type ExitOn,
  type SendWindow,
  type SequenceTrigger,
  type StepCondition,
  type sequenceStatus,
  type stepType,
} from '../schema.js';
import { assertListsOfSite } from './lists.js';
import { getSendingConfig } from './sending-configs.js';
import { assertTemplateCompiles } from './templates.js';

export type SequenceRow = typeof sequences.$inferSelect;
export type StepRow = typeof sequenceSteps.$inferSelect;
export type SequenceStatus = (typeof sequenceStatus.enumValues)[number];
export type StepType = (typeof stepType.enumValues)[number];

export interface SequenceInput {
  name: string;
  sendingConfigId: number;
  trigger?: SequenceTrigger;
  allowReenrollment?: boolean;
  sendWindow?: SendWindow | null;
  exitOn?: ExitOn;
  status?: SequenceStatus;
}

export type SequencePatch = Partial<SequenceInput>;

/** The step fields a client writes; `then`/`else` are step ids of the same sequence (null ends). */
export interface StepFields {
  type: StepType;
  delayValue: number;
  delayUnit: DelayUnit;
  subject: string | null;
  html: string | null;
  text: string | null;
  templateId: number | null;
  condition: StepCondition | null;
  then: number | null;
  else: number | null;
  event: string | null;
  timeoutValue: number | null;
  timeoutUnit: DelayUnit | null;
}

/** A step as the API shows it (`then`/`else` rather than column names). */
export interface StepView extends StepFields {
  id: number;
  sequenceId: number;
  /** 1 = first step. */
  position: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface SequenceView {
  id: number;
  name: string;
  sendingConfigId: number;
  status: SequenceStatus;
  trigger: SequenceTrigger;
  allowReenrollment: boolean;
  sendWindow: SendWindow | null;
  exitOn: ExitOn;
  createdAt: Date;
  updatedAt: Date;
  steps: StepView[];
}

export type StepInput = Partial<StepFields> & { position?: number };

const bySite = (siteId: number, id: number) => and(eq(sequences.siteId, siteId), eq(sequences.id, id))!;
const liveSteps = (sequenceId: number) => and(eq(sequenceSteps.sequenceId, sequenceId), isNull(sequenceSteps.deletedAt))!;

/** `rank` is the step's place among the live steps (1 = first); stored positions may have gaps. */
export function toStepView(row: StepRow, rank: number): StepView {
  return {
    id: row.id,
    sequenceId: row.sequenceId,
    position: rank,
    type: row.type,
    delayValue: row.delayValue,
    delayUnit: row.delayUnit,
    subject: row.subject,
    html: row.html,
    text: row.text,
    templateId: row.templateId,
    condition: row.condition,
    then: row.thenStepId,
    else: row.elseStepId,
    event: row.event,
    timeoutValue: row.timeoutValue,
    timeoutUnit: row.timeoutUnit,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toView(row: SequenceRow, steps: StepRow[]): SequenceView {
  const { siteId: _s, ...rest } = row;
  return { ...rest, steps: steps.map((s, i) => toStepView(s, i + 1)) };
}

/** The live (not deleted) steps of a sequence in order. */
export async function listSteps(db: DbOrTx, sequenceId: number): Promise<StepRow[]> {
  return db.select().from(sequenceSteps).where(liveSteps(sequenceId)).orderBy(asc(sequenceSteps.position), asc(sequenceSteps.id));
}

/** The live steps of a sequence in order, as a journey sees them at a step boundary. */
export async function listLiveSteps(db: DbOrTx, sequenceId: number): Promise<LiveStep[]> {
  return (await listSteps(db, sequenceId)).map((row) => ({
    id: row.id,
    position: row.position,
    type: row.type,
    delayMs: delayMs(Math.max(0, row.delayValue), row.delayUnit as DelayUnit),
    condition: (row.condition as EnrollmentCondition | null) ?? null,
    thenStepId: row.thenStepId,
    elseStepId: row.elseStepId,
    event: row.event,
    timeoutMs: row.timeoutValue !== null && row.timeoutUnit ? delayMs(Math.max(0, row.timeoutValue), row.timeoutUnit as DelayUnit) : null,
  }));
}

/** One step of the site by id, deleted ones included (a journey may still point at one). */
export async function getAnyStepRow(db: DbOrTx, siteId: number, stepId: number): Promise<StepRow | undefined> {
  const [row] = await db.select().from(sequenceSteps).where(and(eq(sequenceSteps.siteId, siteId), eq(sequenceSteps.id, stepId)));
  return row;
}

/** Which sending config a sequence's email goes through, and its tracking switches (null when the config is gone). */
export async function sequenceSendingOptions(
  db: DbOrTx,
  sequenceId: number,
): Promise<{ sendingConfigId: number; trackOpens: boolean | null; trackClicks: boolean | null } | undefined> {
  const [row] = await db
    .select({ sendingConfigId: sequences.sendingConfigId, trackOpens: sendingConfigs.trackOpens, trackClicks: sendingConfigs.trackClicks })
    .from(sequences)
    .leftJoin(sendingConfigs, eq(sendingConfigs.id, sequences.sendingConfigId))
    .where(eq(sequences.id, sequenceId));
  return row;
}

export async function listStepViews(db: DbOrTx, sequenceId: number): Promise<StepView[]> {
  return (await listSteps(db, sequenceId)).map((s, i) => toStepView(s, i + 1));
}

export async function getSequenceRow(db: DbOrTx, siteId: number, id: number): Promise<SequenceRow | undefined> {
  const [row] = await db.select().from(sequences).where(bySite(siteId, id));
  return row;
}

export async function getSequence(db: DbOrTx, siteId: number, id: number): Promise<SequenceView | undefined> {
  const row = await getSequenceRow(db, siteId, id);
  return row && toView(row, await listSteps(db, row.id));
}

export async function listSequences(
  db: DbOrTx,
  siteId: number,
  filters: { status?: SequenceStatus },
  page: { limit: number; offset: number },
): Promise<{ rows: SequenceView[]; total: number }> {
  const where = and(eq(sequences.siteId, siteId), filters.status ? eq(sequences.status, filters.status) : undefined);
  const [rows, [totals]] = await Promise.all([
    db.select().from(sequences).where(where).orderBy(asc(sequences.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(sequences).where(where),
  ]);
  const ids = rows.map((r) => r.id);
  const steps = ids.length
    ? await db
        .select()
        .from(sequenceSteps)
        .where(and(inArray(sequenceSteps.sequenceId, ids), isNull(sequenceSteps.deletedAt)))
        .orderBy(asc(sequenceSteps.position), asc(sequenceSteps.id))
    : [];
  return { rows: rows.map((r) => toView(r, steps.filter((s) => s.sequenceId === r.id))), total: totals?.total ?? 0 };
}

/** 404s for references to another site's (or a missing) sending config, list or tag. */
async function assertReferences(db: DbOrTx, siteId: number, input: SequencePatch): Promise<void> {
  if (input.sendingConfigId !== undefined && !(await getSendingConfig(db, siteId, input.sendingConfigId))) {
    throw new AppError('sending_config_not_found', 'not_found', `Sending config ${input.sendingConfigId} not found`, [
      { path: 'sendingConfigId', message: 'no sending config with this id in this site' },
    ]);
  }
  const trigger = input.trigger;
  if (trigger?.type === 'list_add') await assertListsOfSite(db, siteId, [trigger.listId]);
  if (trigger?.type === 'tag_add') {
    const [tag] = await db.select({ id: tags.id }).from(tags).where(and(eq(tags.siteId, siteId), eq(tags.id, trigger.tagId)));
    if (!tag) {
      throw new AppError('tag_not_found', 'not_found', `Tag ${trigger.tagId} not found`, [{ path: 'trigger.tagId', message: 'no tag with this id in this site' }]);
    }
  }
}

export async function createSequence(db: DbOrTx, siteId: number, input: SequenceInput): Promise<SequenceView> {
  await assertReferences(db, siteId, input);
  const [row] = await db
    .insert(sequences)
    .values({
      siteId,
      name: input.name,
      sendingConfigId: input.sendingConfigId,
      status: input.status ?? 'active',
      trigger: input.trigger ?? { type: 'manual' },
      allowReenrollment: input.allowReenrollment ?? false,
      sendWindow: input.sendWindow ?? null,
      exitOn: input.exitOn ?? {},
    })
    .returning();
  return toView(row!, []);
}

/** Updates the given fields; answers the row before and after (undefined: no such sequence). */
export async function updateSequence(
  db: DbOrTx,
  siteId: number,
  id: number,
  patch: SequencePatch,
): Promise<{ before: SequenceRow; after: SequenceView } | undefined> {
  const before = await getSequenceRow(db, siteId, id);
  if (!before) return undefined;
  await assertReferences(db, siteId, patch);
  const [row] = await db
    .update(sequences)
    .set({ ...patch, updatedAt: new Date() })
    .where(bySite(siteId, id))
    .returning();
  if (!row) return undefined;
  return { before, after: toView(row, await listSteps(db, id)) };
}

/**
 * A sequence that never enrolled anyone is deleted; one with enrollments is archived instead, so its
 * history, send log links and stats stay readable. Undefined: no such sequence.
 */
export async function deleteOrArchiveSequence(db: DbOrTx, siteId: number, id: number): Promise<'deleted' | 'archived' | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select({ id: sequences.id }).from(sequences).where(bySite(siteId, id)).for('update');
    if (!row) return undefined;
    const [used] = await tx.select({ id: enrollments.id }).from(enrollments).where(eq(enrollments.sequenceId, id)).limit(1);
    if (used) {
      await tx.update(sequences).set({ status: 'archived', updatedAt: new Date() }).where(eq(sequences.id, id));
      return 'archived';
    }
    await tx.delete(sequences).where(eq(sequences.id, id));
    return 'deleted';
  });
}

// ---------------------------------------------------------------------------------------------
// Steps

const EMPTY_STEP: StepFields = {
  type: 'email',
  delayValue: 0,
  delayUnit: 'minutes',
  subject: null,
  html: null,
  text: null,
  templateId: null,
  condition: null,
  then: null,
  else: null,
  event: null,
  timeoutValue: null,
  timeoutUnit: null,
};

function stepFieldsOf(row: StepRow): StepFields {
  const v = toStepView(row, 0);
  return {
    type: v.type,
    delayValue: v.delayValue,
    delayUnit: v.delayUnit,
    subject: v.subject,
    html: v.html,
    text: v.text,
    templateId: v.templateId,
    condition: v.condition,
    then: v.then,
    else: v.else,
    event: v.event,
    timeoutValue: v.timeoutValue,
    timeoutUnit: v.timeoutUnit,
  };
}

/**
 * Merges a patch into a step. Content is either inline (subject + html) or a template: giving one
 * clears the other, so switching a step to a template is a one-field PATCH.
 */
function mergeStep(current: StepFields, patch: Partial<StepFields>): StepFields {
  const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<StepFields>;
  const merged = { ...current, ...given };
  if (given.templateId != null && given.subject === undefined && given.html === undefined) {
    Object.assign(merged, { subject: null, html: null, text: null });
  }
  if ((given.subject != null || given.html != null) && given.templateId === undefined) merged.templateId = null;
  return merged;
}

/** What a step of its type needs; fields of other types are cleared so the row says one thing. */
function normalizeStep(step: StepFields): { fields: StepFields; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const need = (ok: boolean, path: string, message: string) => {
    if (!ok) problems.push({ path, message });
  };
  need(step.delayValue <= maxDelayValue(step.delayUnit), 'delayValue', `at most ${maxDelayValue(step.delayUnit)} ${step.delayUnit}`);
  const fields = { ...step };
  if (step.type === 'email') {
    if (step.templateId !== null) {
      need(step.subject === null && step.html === null, 'templateId', 'give either templateId or subject and html, not both');
    } else {
      need(!!step.subject, 'subject', 'an email step needs subject and html (or templateId)');
      need(!!step.html, 'html', 'an email step needs subject and html (or templateId)');
    }
    Object.assign(fields, { condition: null, then: null, else: null, event: null, timeoutValue: null, timeoutUnit: null });
  } else {
    Object.assign(fields, { subject: null, html: null, text: null, templateId: null });
    if (step.type === 'condition') {
      need(step.condition !== null, 'condition', 'a condition step needs a condition');
      Object.assign(fields, { event: null, timeoutValue: null, timeoutUnit: null });
    } else {
      need(!!step.event, 'event', 'a wait_for_event step needs the event name');
      need(step.timeoutValue !== null, 'timeoutValue', 'a wait_for_event step needs timeoutValue');
      need(step.timeoutUnit !== null, 'timeoutUnit', 'a wait_for_event step needs timeoutUnit');
      if (step.timeoutValue !== null && step.timeoutUnit !== null) {
        need(step.timeoutValue <= maxDelayValue(step.timeoutUnit), 'timeoutValue', `at most ${maxDelayValue(step.timeoutUnit)} ${step.timeoutUnit}`);
      }
      fields.condition = null;
    }
  }
  return { fields, problems };
}

/**
 * Checks a step against the database: its template belongs to the site, its Liquid parses (400 with
 * line and column), and every step it points at (`then`, `else`, the step an opened/clicked
 * condition looks at) is a live step of the same sequence.
 */
async function assertStepValid(db: DbOrTx, siteId: number, sequenceId: number, stepId: number | null, step: StepFields): Promise<StepFields> {
  const { fields, problems } = normalizeStep(step);
  if (problems.length) throw AppError.validation('Invalid step', problems);
  if (fields.subject !== null && fields.html !== null) {
    assertTemplateCompiles({ subject: fields.subject, html: fields.html, text: fields.text });
  }
  if (fields.templateId !== null) {
    const [t] = await db.select({ id: templates.id }).from(templates).where(and(eq(templates.siteId, siteId), eq(templates.id, fields.templateId)));
    if (!t) {
      throw new AppError('template_not_found', 'not_found', `Template ${fields.templateId} not found`, [{ path: 'templateId', message: 'no template with this id in this site' }]);
    }
  }
  const refs: [string, number][] = [];
  if (fields.then !== null) refs.push(['then', fields.then]);
  if (fields.else !== null) refs.push(['else', fields.else]);
  if (fields.condition && (fields.condition.kind === 'opened' || fields.condition.kind === 'clicked')) refs.push(['condition.stepId', fields.condition.stepId]);
  if (refs.length) {
    const found = await db
      .select({ id: sequenceSteps.id })
      .from(sequenceSteps)
      .where(and(liveSteps(sequenceId), inArray(sequenceSteps.id, refs.map(([, id]) => id))));
    const ok = new Set(found.map((f) => f.id));
    const bad: ErrorDetail[] = refs
      .filter(([path, id]) => !ok.has(id) || (id === stepId && path !== 'condition.stepId'))
      .map(([path, id]) => ({ path, message: id === stepId ? 'a step cannot point at itself' : `step ${id} is not a step of this sequence` }));
    if (bad.length) throw AppError.validation('Invalid step reference', bad);
  }
  return fields;
}

function stepColumns(fields: StepFields) {
  return {
    type: fields.type,
    delayValue: fields.delayValue,
    delayUnit: fields.delayUnit,
    subject: fields.subject,
    html: fields.html,
    text: fields.text,
    templateId: fields.templateId,
    condition: fields.condition,
    thenStepId: fields.then,
    elseStepId: fields.else,
    event: fields.event,
    timeoutValue: fields.timeoutValue,
    timeoutUnit: fields.timeoutUnit,
  };
}

/** Locks the sequence row: step positions of one sequence change one transaction at a time. */
async function lockSequence(tx: DbOrTx, siteId: number, sequenceId: number): Promise<SequenceRow> {
  const [row] = await tx.select().from(sequences).where(bySite(siteId, sequenceId)).for('update');
  if (!row) throw AppError.notFound('Sequence', sequenceId);
  return row;
}

/**
 * Adds a step at `position` (1 = first; default last), shifting later steps down. Stored positions
 * are sort keys that keep soft-deleted steps in place (so an enrollment sitting on a deleted step
 * still finds the step after it); running enrollments hold step ids and read the order at each move.
 */
export async function createStep(db: DbOrTx, siteId: number, sequenceId: number, input: StepInput): Promise<StepView> {
  return db.transaction(async (tx) => {
    await lockSequence(tx, siteId, sequenceId);
    const { position, ...patch } = input;
    const fields = await assertStepValid(tx, siteId, sequenceId, null, mergeStep(EMPTY_STEP, patch));
    const live = await listSteps(tx, sequenceId);
    const before = position !== undefined ? live[position - 1] : undefined;
    let at: number;
    if (before) {
      at = before.position;
      // Deleted steps shift too, so they stay between the same live neighbours.
      await tx
        .update(sequenceSteps)
        .set({ position: sql`${sequenceSteps.position} + 1` })
        .where(and(eq(sequenceSteps.sequenceId, sequenceId), sql`${sequenceSteps.position} >= ${at}`));
    } else {
      const [{ max } = { max: 0 }] = await tx
        .select({ max: sql<number>`coalesce(max(${sequenceSteps.position}), 0)::int` })
        .from(sequenceSteps)
        .where(eq(sequenceSteps.sequenceId, sequenceId));
      at = max + 1;
    }
    const [row] = await tx.insert(sequenceSteps).values({ siteId, sequenceId, position: at, ...stepColumns(fields) }).returning({ id: sequenceSteps.id });
    return (await getStep(tx, siteId, sequenceId, row!.id))!;
  });
}

async function getStepRow(db: DbOrTx, siteId: number, sequenceId: number, stepId: number): Promise<StepRow | undefined> {
  const [row] = await db
    .select()
    .from(sequenceSteps)
    .where(and(eq(sequenceSteps.siteId, siteId), eq(sequenceSteps.id, stepId), liveSteps(sequenceId)));
  return row;
}

export async function getStep(db: DbOrTx, siteId: number, sequenceId: number, stepId: number): Promise<StepView | undefined> {
  const steps = await listStepViews(db, sequenceId);
  const step = steps.find((s) => s.id === stepId);
  return step && (await getStepRow(db, siteId, sequenceId, stepId)) ? step : undefined;
}

/** Edits a step; content edits reach future sends (the workflow reads the step at send time). */
export async function updateStep(db: DbOrTx, siteId: number, sequenceId: number, stepId: number, input: StepInput): Promise<StepView | undefined> {
  return db.transaction(async (tx) => {
    await lockSequence(tx, siteId, sequenceId);
    const current = await getStepRow(tx, siteId, sequenceId, stepId);
    if (!current) return undefined;
    const { position, ...patch } = input;
    const fields = await assertStepValid(tx, siteId, sequenceId, stepId, mergeStep(stepFieldsOf(current), patch));
    await tx.update(sequenceSteps).set({ ...stepColumns(fields), updatedAt: new Date() }).where(eq(sequenceSteps.id, stepId));
    if (position !== undefined) {
      const order = (await listSteps(tx, sequenceId)).map((s) => s.id).filter((id) => id !== stepId);
      order.splice(Math.max(0, Math.min(position - 1, order.length)), 0, stepId);
      await writeOrder(tx, sequenceId, order);
    }
    return getStep(tx, siteId, sequenceId, stepId);
  });
}

/**
 * Soft-deletes a step: its row (and stored position) stay, so an enrollment already waiting on it
 * moves on to the next live step; branches that pointed at it are the workflow's to skip past.
 */
export async function deleteStep(db: DbOrTx, siteId: number, sequenceId: number, stepId: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockSequence(tx, siteId, sequenceId);
    const deleted = await tx
      .update(sequenceSteps)
      .set({ deletedAt: new Date(), updatedAt: new Date() })
      .where(and(eq(sequenceSteps.id, stepId), liveSteps(sequenceId)))
      .returning({ id: sequenceSteps.id });
    return deleted.length > 0;
  });
}

/**
 * Gives the live steps, in this order, the sort keys the live steps hold now (sorted), so deleted
 * steps keep their keys and nothing collides.
 */
async function writeOrder(tx: DbOrTx, sequenceId: number, stepIds: readonly number[]): Promise<void> {
  if (!stepIds.length) return;
  const keys = (await listSteps(tx, sequenceId)).map((s) => s.position).sort((a, b) => a - b);
  // Equal keys (legacy rows) would make the order ambiguous: fall back to fresh keys after the largest.
  const distinct = new Set(keys).size === keys.length;
  const [{ max } = { max: 0 }] = distinct
    ? [{ max: 0 }]
    : await tx
        .select({ max: sql<number>`coalesce(max(${sequenceSteps.position}), 0)::int` })
        .from(sequenceSteps)
        .where(eq(sequenceSteps.sequenceId, sequenceId));
  const values = sql.join(
    stepIds.map((id, i) => sql`(${id}::int, ${distinct ? keys[i]! : max + i + 1}::int)`),
    sql`, `,
  );
  await tx.execute(sql`update sequence_steps s set position = v.pos, updated_at = now() from (values ${values}) as v(id, pos) where s.id = v.id`);
}

/** Puts the live steps in the given order; `stepIds` must list each live step exactly once. */
export async function reorderSteps(db: DbOrTx, siteId: number, sequenceId: number, stepIds: readonly number[]): Promise<StepView[]> {
  return db.transaction(async (tx) => {
    await lockSequence(tx, siteId, sequenceId);
    const live = (await listSteps(tx, sequenceId)).map((s) => s.id);
    const given = new Set(stepIds);
    const problems: ErrorDetail[] = [];
    if (given.size !== stepIds.length) problems.push({ path: 'stepIds', message: 'each step id may appear only once' });
    const unknown = stepIds.filter((id) => !live.includes(id));
    if (unknown.length) problems.push({ path: 'stepIds', message: `not steps of this sequence: ${unknown.join(', ')}` });
    const missing = live.filter((id) => !given.has(id));
    if (missing.length) problems.push({ path: 'stepIds', message: `missing steps: ${missing.join(', ')} (list every step)` });
    if (problems.length) throw AppError.validation('Invalid step order', problems);
    await writeOrder(tx, sequenceId, stepIds);
    return listStepViews(tx, sequenceId);
  });
}

// ---------------------------------------------------------------------------------------------
// Triggers

/** Active sequences of the site triggered by a named contact event, in id order. */
export async function sequencesForEvent(db: DbOrTx, siteId: number, name: string): Promise<number[]> {
  const rows = await db
    .select({ sequenceId: sequences.id })
    .from(sequences)
    .where(
      and(
        eq(sequences.siteId, siteId),
        eq(sequences.status, 'active'),
        sql`${sequences.trigger}->>'type' = 'event'`,
        sql`${sequences.trigger}->>'name' = ${name}`,
      ),
    )
    .orderBy(asc(sequences.id));
  return rows.map((r) => r.sequenceId);
}
