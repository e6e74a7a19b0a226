import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { createActivities } from '../../activities/index.js';
import type { SecretBox } from '../../src/crypto/secret-box.js';
import type { Db } from '../../src/db/client.js';
import { contacts, enrollments, enrollmentSteps, sequences, sequenceSteps, type ExitOn, type SendWindow, type StepCondition } from '../../src/db/schema.js';
import { workflowIds } from '../../src/domain/ids.js';
import type { Mailers } from '../../src/mail/from-config.js';
import type { Logger } from '../../src/logger.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import type { enrollmentWorkflow } from '../../workflows/enrollment.js';
import { getWorkflowBundle } from '../helpers/temporal.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export type StepSpec =
  | { type?: 'email'; subject: string; html?: string; delay?: [number, 'minutes' | 'hours' | 'days' | 'weeks'] }
  | { type: 'condition'; condition: StepCondition; then: string | null; else: string | null; delay?: [number, 'minutes' | 'hours' | 'days' | 'weeks'] }
  | {
      type: 'wait_for_event';
      event: string;
      timeout: [number, 'minutes' | 'hours' | 'days' | 'weeks'];
      then: string | null;
      else: string | null;
      delay?: [number, 'minutes' | 'hours' | 'days' | 'weeks'];
    };

/**
 * Creates a sequence with its steps straight in the database (the API's repositories are another
 * helper's work). Steps are given by a label; `then`/`else` name other steps by label. Returns the
 * step ids by label.
 */
export async function createSequence(
  db: Db,
  siteId: number,
  sendingConfigId: number,
  steps: Record<string, StepSpec>,
  options: { sendWindow?: SendWindow; exitOn?: ExitOn; status?: 'active' | 'paused' | 'archived' } = {},
): Promise<{ sequenceId: number; stepIds: Record<string, number> }> {
  const [sequence] = await db
    .insert(sequences)
    .values({ siteId, name: 'Onboarding Flow', sendingConfigId, sendWindow: options.sendWindow ?? null, exitOn: options.exitOn ?? {}, status: options.status ?? 'active' })
    .returning({ id: sequences.id });
  const stepIds: Record<string, number> = {};
  let position = 0;
  for (const [label, spec] of Object.entries(steps)) {
    position += 1;
    const [delayValue, delayUnit] = spec.delay ?? [0, 'minutes'];
    const base = { siteId, sequenceId: sequence!.id, position, delayValue, delayUnit };
    const values =
      spec.type === 'condition'
        ? { ...base, type: 'condition' as const, condition: spec.condition }
        : spec.type === 'wait_for_event'
          ? { ...base, type: 'wait_for_event' as const, event: spec.event, timeoutValue: spec.timeout[0], timeoutUnit: spec.timeout[1] }
          : { ...base, type: 'email' as const, subject: spec.subject, html: spec.html ?? `<p>${spec.subject}, {{ firstName | default: "there" }}!</p>` };
    const [row] = await db.insert(sequenceSteps).values(values).returning({ id: sequenceSteps.id });
    stepIds[label] = row!.id;
  }
  // Branch targets by label, now that every step has an id.
  for (const [label, spec] of Object.entries(steps)) {
    if (spec.type !== 'condition' && spec.type !== 'wait_for_event') continue;
    const target = (l: string | null) => (l === null ? null : stepIds[l]!);
    await db.update(sequenceSteps).set({ thenStepId: target(spec.then), elseStepId: target(spec.else) }).where(eq(sequenceSteps.id, stepIds[label]!));
  }
  return { sequenceId: sequence!.id, stepIds };
}

export async function createContact(db: Db, siteId: number, email: string, fields: Partial<typeof contacts.$inferInsert> = {}) {
  const [row] = await db.insert(contacts).values({ siteId, email, firstName: 'Ada', ...fields }).returning();
  return row!;
}

/** The enrollments row (as the API will create it) and the workflow input for it. */
export async function createEnrollment(db: Db, siteId: number, sequenceId: number, contact: { id: number; email: string }, run = 1) {
  const workflowId = workflowIds.enrollment(sequenceId, contact.id, run);
  const [row] = await db.insert(enrollments).values({ siteId, sequenceId, contactId: contact.id, run, workflowId }).returning();
  return {
    row: row!,
    workflowId,
    input: { enrollmentId: row!.id, siteId, sequenceId, contactId: contact.id, contactEmail: contact.email },
  };
}

export async function startEnrollment(client: Client, enrollment: Awaited<ReturnType<typeof createEnrollment>>) {
  return client.workflow.start<typeof enrollmentWorkflow>('enrollmentWorkflow', {
    taskQueue: TASK_QUEUES.main,
    workflowId: enrollment.workflowId,
    args: [enrollment.input],
  });
}

export async function enrollmentRow(db: Db, id: number) {
  const [row] = await db.select().from(enrollments).where(eq(enrollments.id, id));
  return row!;
}

export async function recordedSteps(db: Db, enrollmentId: number) {
  return db.select().from(enrollmentSteps).where(eq(enrollmentSteps.enrollmentId, enrollmentId)).orderBy(enrollmentSteps.seq);
}

/**
 * A main-queue worker on the environment with the real activities over the test database (only the
 * main queue: createWorkers' unused transactional worker would stay registered and block the next one).
 */
export async function mainWorker(env: TestWorkflowEnvironment, deps: { db: Db; logger: Logger; secretBox: SecretBox; mailers: Mailers }): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: TASK_QUEUES.main,
    workflowBundle: await getWorkflowBundle(),
    activities: createActivities(deps),
  });
}

const tsMs = (ts: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(ts?.seconds ?? 0) * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6);

/**
 * When each step's send happened, read from the workflow's history (the server's clock, which the
 * time-skipping server moves forward): `{stepId, atMs}` in order, plus the start time. A run before
 * the `enrollment-email-step-activity` patch schedules a `sendSequenceStep` activity; a later one
 * records a `runEmailStep` local-activity marker whose result names the step it sent.
 */
export async function sendTimeline(handle: WorkflowHandle): Promise<{ startedAtMs: number; sends: { stepId: number; atMs: number }[]; closedAtMs: number | null }> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const sends: { stepId: number; atMs: number }[] = [];
  for (const event of events) {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const text = (key: string) => Buffer.from(marker.details?.[key]?.payloads?.[0]?.data ?? []).toString();
      const data = JSON.parse(text('data') || '{}') as { activity_type?: string };
      if (data.activity_type !== 'runEmailStep') continue;
      const outcome = JSON.parse(text('result') || 'null') as { kind: string; stepId: number } | null;
      if (outcome?.kind === 'done') sends.push({ stepId: outcome.stepId, atMs: tsMs(event.eventTime) });
      continue;
    }
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== 'sendSequenceStep') continue;
    const data = scheduled.input?.payloads?.[0]?.data;
    const input = JSON.parse(Buffer.from(data!).toString()) as { stepId: number };
    sends.push({ stepId: input.stepId, atMs: tsMs(event.eventTime) });
  }
  const last = events.at(-1);
  const closed = last?.workflowExecutionCompletedEventAttributes || last?.workflowExecutionFailedEventAttributes;
  return { startedAtMs: tsMs(events[0]?.eventTime), sends, closedAtMs: closed ? tsMs(last!.eventTime) : null };
}


/** Polls `check` (real time) until it returns a value; for states reached while time stands still. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
