import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { EnrollmentActivities } from '../activities/enrollment.js';
import {
  ENROLLMENT_FAILURES,
  HISTORY_TAIL,
  resolveStep,
  type EmailStepOutcome,
  type EnrollmentCursor,
  type EnrollmentState,
  type EnrollmentStatus,
  type HistoryEntry,
  type LiveStep,
  type SequenceStatus,
  type StepResult,
} from '../src/domain/enrollment.js';
import { PERMANENT_DELIVERY_FAILURES } from '../src/domain/delivery.js';
import { nextSendTime } from '../src/domain/send-window.js';
import {
  contactEventSignal,
  contactStatusChangedSignal,
  enrollmentSearchAttributes,
  sequenceStatusChangedSignal,
  stateQuery,
  unenrollSignal,
  type EnrollmentInput,
} from './enrollment.contract.js';

// Reads and bookkeeping: single short queries, retried until the database answers (a journey must
// survive a database outage, so no attempt limit).
const bookkeepingRetry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
const remoteBookkeeping = proxyActivities<EnrollmentActivities>({ startToCloseTimeout: '30 seconds', retry: bookkeepingRetry });
// The same as local activities (since PATCHES.leanSteps): run in the worker that runs the workflow and
// recorded as one marker, instead of a task-queue round trip and three history events each. They are
// millisecond queries, so they fit inside a workflow task; sends stay regular activities (heartbeats).
const localBookkeeping = proxyLocalActivities<EnrollmentActivities>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '10 seconds',
  retry: bookkeepingRetry,
});

// Delivery, as for transactional sends: backoff capped at 5 minutes, twelve attempts (well inside the
// provider's 24-hour idempotency window), a provider 429 replaces the backoff with its retry-after.
// The activity heartbeats while it waits for a rate-limit slot.
const deliveryRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '5 minutes',
  maximumAttempts: 12,
  nonRetryableErrorTypes: [...PERMANENT_DELIVERY_FAILURES, ENROLLMENT_FAILURES.stepNotSendable],
};
const delivery = proxyActivities<EnrollmentActivities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '30 seconds', retry: deliveryRetry });

// Since PATCHES.emailStepActivity: the whole email step (check, render, record, send) as one local
// activity with the delivery retry policy, so a step costs no activity task and no extra workflow
// task. A retry due within localRetryThreshold runs inside the same workflow task; a later one (a
// 429's retry-after, the longer backoffs) waits on a durable timer. A worker that dies mid-step is
// noticed by the workflow task timeout, and the retry finds the send under its idempotency key.
const localEmailStep = proxyLocalActivities<EnrollmentActivities>({ startToCloseTimeout: '10 minutes', localRetryThreshold: '10 seconds', retry: deliveryRetry });

/**
 * Why a step's delivery was given up. A regular activity's last failure arrives wrapped in an
 * ActivityFailure; a local activity's arrives as the ApplicationFailure it threw.
 */
function failureMessage(err: ActivityFailure | ApplicationFailure): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : err.message;
}

/** While a sequence is paused the journey waits for the resume signal; this re-reads the status in case one was lost. */
const PAUSED_RECHECK = '1 day';

/**
 * Patch ids: each guards a change to the order of commands so histories recorded before it still
 * replay (test/workflows/enrollment-replay.test.ts). Never reuse or remove one while such runs live.
 */
const PATCHES = {
  /** Upserts the search attributes a starter left out, so every journey is findable in the Web UI. */
  upsertSearchAttributes: 'enrollment-upsert-search-attributes',
  /**
   * Bookkeeping as local activities, and no mirror write for a step that is already due (only a
   * sleeping journey needs its next step time on the row): about half the history per step.
   */
  leanSteps: 'enrollment-lean-steps',
  /**
   * An email step is one local activity that checks, renders, records and sends (runEmailStep), and
   * implies the two patches above, which runs that start with it no longer mark: one marker and one
   * search-attribute upsert per run instead of three of each. A one-email journey is one workflow task.
   */
  emailStepActivity: 'enrollment-email-step-activity',
} as const;

interface Ending {
  status: Exclude<EnrollmentStatus, 'active'>;
  reason: string | null;
}

/**
 * One contact's journey through a sequence (ID `enrollment:<sequenceId>:<contactId>[:run]`). At each
 * step boundary it re-reads the sequence's live steps (so edits, inserts, deletes and reorders apply
 * to running journeys), sleeps the step's delay on a timer that any signal cuts short, and executes
 * the step. Before every email it re-checks the contact, the sequence status, the site's frequency cap
 * (deferring, never skipping) and the send window in the contact's timezone. Ends on unenroll, a
 * contact status change, an exit event or tag, archiving, or when no step is left; continues as new
 * when the history grows long. Returns the final state.
 */
export async function enrollmentWorkflow(input: EnrollmentInput): Promise<EnrollmentState> {
  const carry = input.state;
  let cursor: EnrollmentCursor | null =
    carry?.cursor ?? (input.startAtStepId ? { kind: 'at', stepId: input.startAtStepId, position: null } : null);
  let anchorAt = carry?.anchorAt ?? Date.now();
  let seq = carry?.seq ?? 0;
  const history: HistoryEntry[] = [...(carry?.history ?? [])];

  let ending: Ending | null = null;
  let sequenceSignal: SequenceStatus | null = null;
  let exitOnEvents: string[] = [];
  /** Contact events received by signal, in order (names only; a wait looks at those after it began). */
  const events: string[] = [];

  let currentStepId: number | null = history.at(-1)?.stepId ?? null;
  let nextStepId: number | null = null;
  let nextStepAt: number | null = null;
  let waitingFor: string | null = null;
  let mirrored: { stepId: number | null; at: number | null } = { stepId: null, at: null };
  /**
   * When the step being run was due, or later if it was held (pause, cap, window, a wait for an
   * event). The next delay counts from here, not from when the work finished, so a journey follows its
   * schedule (T, T+1d, T+4d) without drifting by activity latency.
   */
  let stepBeganAt: number;

  const end = (next: Ending) => {
    ending ??= next;
  };
  const state = (): EnrollmentState => ({
    status: ending?.status ?? 'active',
    currentStepId,
    nextStepId: ending ? null : nextStepId,
    nextStepAt: ending || nextStepAt === null ? null : new Date(nextStepAt).toISOString(),
    waitingFor: ending ? null : waitingFor,
    exitReason: ending?.reason ?? null,
    history: [...history],
  });

  // Decided once per run, at its start: a run that began on older code keeps it to the end. The newest
  // patch is asked first; a run that has it skips asking for the older ones (it has their behaviour).
  const stepActivity = patched(PATCHES.emailStepActivity);
  if (!carry && (stepActivity || patched(PATCHES.upsertSearchAttributes))) {
    const present = workflowInfo().typedSearchAttributes;
    const missing = enrollmentSearchAttributes(input).filter((pair) => present.get(pair.key) === undefined);
    if (missing.length > 0) upsertSearchAttributes(missing);
  }

  const lean = stepActivity || patched(PATCHES.leanSteps);
  const acts = lean ? localBookkeeping : remoteBookkeeping;

  setHandler(stateQuery, state);
  setHandler(unenrollSignal, ({ reason }) => end({ status: 'unenrolled', reason: reason ?? 'unenrolled' }));
  setHandler(contactStatusChangedSignal, ({ status }) => end({ status: 'exited', reason: status }));
  setHandler(contactEventSignal, ({ name }) => {
    events.push(name);
    if (exitOnEvents.includes(name)) end({ status: 'exited', reason: `event:${name}` });
  });
  setHandler(sequenceStatusChangedSignal, ({ status }) => {
    sequenceSignal = status;
    if (status === 'archived') end({ status: 'exited', reason: 'sequence_archived' });
  });

  /** Sleeps until `atMs` (workflow time) unless a signal ends the enrollment (or `until` turns true) first. */
  async function sleepUntil(atMs: number, until: () => boolean = () => false): Promise<void> {
    const ms = atMs - Date.now();
    if (ms > 0) await condition(() => ending !== null || until(), ms);
  }

  /**
   * Points the journey at its next step and mirrors that onto the enrollments row when it changed and
   * the journey is about to wait for it.
   */
  async function headFor(stepId: number, atMs: number): Promise<void> {
    nextStepId = stepId;
    nextStepAt = atMs;
    if (mirrored.stepId === stepId && mirrored.at === atMs) return;
    if (lean && atMs <= Date.now()) return;
    mirrored = { stepId, at: atMs };
    await acts.syncEnrollment({ enrollmentId: input.enrollmentId, currentStepId, nextStepAt: new Date(atMs).toISOString() });
  }

  /** Adds a step's outcome to the history; writes it to enrollment_steps unless its activity did (`recordedAt`). */
  async function record(step: LiveStep, result: StepResult, recordedAt?: string): Promise<void> {
    const at = recordedAt ?? new Date(Date.now()).toISOString();
    const entry: HistoryEntry = { stepId: step.id, outcome: result.outcome, at, ...(result.sendId ? { sendId: result.sendId } : {}) };
    history.push(entry);
    if (history.length > HISTORY_TAIL) history.splice(0, history.length - HISTORY_TAIL);
    seq += 1;
    if (recordedAt === undefined) {
      await acts.recordEnrollmentStep({ enrollmentId: input.enrollmentId, seq, stepId: step.id, outcome: result.outcome, sendId: result.sendId ?? null, at });
    }
  }

  /**
   * An email step as one local activity (PATCHES.emailStepActivity): it answers that the email is
   * held back (the journey ends, the sequence is paused, the cap or the window defers it) or sends it
   * and records the step at `nowMs`. Null if the journey ended.
   */
  async function runEmailStep(step: LiveStep): Promise<{ result: StepResult; recordedAt?: string } | null> {
    for (;;) {
      const nowMs = Date.now();
      const target = { enrollmentId: input.enrollmentId, workflowId: workflowInfo().workflowId, stepId: step.id, contactId: input.contactId, siteId: input.siteId };
      let outcome: EmailStepOutcome;
      try {
        outcome = await localEmailStep.runEmailStep({ ...target, sequenceId: input.sequenceId, seq: seq + 1, nowMs });
      } catch (err) {
        if (!(err instanceof ActivityFailure || err instanceof ApplicationFailure)) throw err;
        // Retries exhausted or a permanent failure: record it on the send and move on to the next step.
        return { result: await acts.failSequenceStep({ workflowId: target.workflowId, stepId: step.id, reason: failureMessage(err) }) };
      }
      switch (outcome.kind) {
        case 'done':
          return { result: outcome.result, recordedAt: new Date(nowMs).toISOString() };
        case 'exit':
          end({ status: 'exited', reason: outcome.reason });
          return null;
        case 'paused':
          // As in sendEmail: wakes on a resume signal (or a day later) and reads the status again.
          await condition(() => ending !== null || sequenceSignal === 'active', PAUSED_RECHECK);
          sequenceSignal = null;
          if (ending) return null;
          stepBeganAt = Date.now();
          break;
        case 'deferred':
          log.info('send deferred', { stepId: step.id, until: new Date(outcome.untilMs).toISOString() });
          await headFor(step.id, outcome.untilMs);
          await sleepUntil(outcome.untilMs);
          if (ending) return null;
          stepBeganAt = outcome.untilMs;
          break;
      }
    }
  }

  /** Waits until the email may go (contact, sequence status, frequency cap, send window), then sends it. Null if the journey ended. */
  async function sendEmail(step: LiveStep): Promise<StepResult | null> {
    for (;;) {
      const check = await acts.checkBeforeSend({ siteId: input.siteId, sequenceId: input.sequenceId, contactId: input.contactId });
      if (check.exit) end({ status: 'exited', reason: check.exit });
      if (check.sequenceStatus === 'archived' || check.sequenceStatus === 'missing') end({ status: 'exited', reason: `sequence_${check.sequenceStatus === 'missing' ? 'deleted' : 'archived'}` });
      if (ending) return null;
      if (check.sequenceStatus === 'paused') {
        // Wakes on a resume signal (possibly one that arrived with this very read) and consumes it, so
        // a stale one costs at most one more check, never a busy loop; the status is then read again.
        await condition(() => ending !== null || sequenceSignal === 'active', PAUSED_RECHECK);
        sequenceSignal = null;
        stepBeganAt = Date.now();
        continue;
      }
      const allowedAt = nextSendTime(Math.max(Date.now(), check.capAllowsAtMs ?? 0), check.sendWindow, check.timeZone);
      if (allowedAt <= Date.now()) break;
      // Deferred by the cap or the window, never skipped: wait, then check everything again.
      log.info('send deferred', { stepId: step.id, until: new Date(allowedAt).toISOString() });
      await headFor(step.id, allowedAt);
      await sleepUntil(allowedAt);
      if (ending) return null;
      stepBeganAt = allowedAt;
    }
    const target = { enrollmentId: input.enrollmentId, workflowId: workflowInfo().workflowId, stepId: step.id, contactId: input.contactId, siteId: input.siteId };
    try {
      return await delivery.sendSequenceStep(target);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Retries exhausted or a permanent failure: record it on the send and move on to the next step.
      const reason = err.cause instanceof Error ? err.cause.message : err.message;
      return acts.failSequenceStep({ workflowId: target.workflowId, stepId: step.id, reason });
    }
  }

  /** Runs one step; returns its result and where to go next (null: the journey is complete), or null if it ended. */
  async function runStep(step: LiveStep, steps: LiveStep[]): Promise<{ result: StepResult; next: EnrollmentCursor | null; recordedAt?: string } | null> {
    const after: EnrollmentCursor = { kind: 'after', stepId: step.id, position: step.position };
    const branch = (target: number | null): EnrollmentCursor | null =>
      target === null ? null : { kind: 'at', stepId: target, position: steps.find((s) => s.id === target)?.position ?? null };

    switch (step.type) {
      case 'email': {
        if (stepActivity) {
          const done = await runEmailStep(step);
          return done && { ...done, next: after };
        }
        const result = await sendEmail(step);
        return result && { result, next: after };
      }
      case 'condition': {
        const holds = step.condition
          ? await acts.evaluateCondition({ siteId: input.siteId, contactId: input.contactId, workflowId: workflowInfo().workflowId, condition: step.condition })
          : false;
        return { result: { outcome: holds ? 'condition_true' : 'condition_false' }, next: branch(holds ? step.thenStepId : step.elseStepId) };
      }
      case 'wait_for_event': {
        // Only events signalled while this step waits count (an event posted earlier is not replayed).
        const name = step.event ?? '';
        const from = events.length;
        const arrived = () => events.indexOf(name, from) >= 0;
        waitingFor = name;
        if (step.timeoutMs !== null) {
          const deadline = Date.now() + step.timeoutMs;
          await headFor(step.id, deadline);
          await sleepUntil(deadline, arrived);
        } else {
          await condition(() => ending !== null || arrived());
        }
        waitingFor = null;
        if (ending) return null;
        stepBeganAt = Date.now();
        const got = arrived();
        return { result: { outcome: got ? 'event_received' : 'timed_out' }, next: branch(got ? step.thenStepId : step.elseStepId) };
      }
      default:
        return { result: { outcome: 'skipped' }, next: after };
    }
  }

  while (!ending) {
    if (workflowInfo().continueAsNewSuggested) {
      log.info('continuing as new', { stepsDone: seq });
      await continueAsNew<typeof enrollmentWorkflow>({ ...input, startAtStepId: null, state: { cursor, anchorAt, seq, history } });
    }
    const snapshot = await acts.loadSequenceSteps({ siteId: input.siteId, sequenceId: input.sequenceId });
    exitOnEvents = snapshot.exitOn.events;
    const exitEvent = events.find((name) => exitOnEvents.includes(name));
    if (exitEvent) end({ status: 'exited', reason: `event:${exitEvent}` });
    if (snapshot.status === 'archived' || snapshot.status === 'missing') end({ status: 'exited', reason: `sequence_${snapshot.status === 'missing' ? 'deleted' : 'archived'}` });
    if (ending) break;

    const step = resolveStep(cursor, snapshot.steps);
    if (!step) break;
    // Re-anchored on the step actually found, so a step that took a deleted one's place keeps its own delay.
    cursor = { kind: 'at', stepId: step.id, position: step.position };
    const dueAt = anchorAt + step.delayMs;
    await headFor(step.id, dueAt);
    if (Date.now() < dueAt) {
      await sleepUntil(dueAt);
      // Re-read the steps after sleeping: the step may have been edited, moved or deleted meanwhile.
      continue;
    }

    currentStepId = step.id;
    stepBeganAt = dueAt;
    const done = await runStep(step, snapshot.steps);
    if (!done) break;
    await record(step, done.result, done.recordedAt);
    anchorAt = stepBeganAt;
    cursor = done.next;
    if (!cursor) break;
  }

  const final: Ending = ending ?? { status: 'completed', reason: null };
  ending = final;
  await acts.syncEnrollment({
    enrollmentId: input.enrollmentId,
    currentStepId,
    nextStepAt: null,
    status: final.status,
    exitReason: final.reason,
    at: new Date(Date.now()).toISOString(),
  });
  log.info('enrollment ended', { status: final.status, reason: final.reason, stepsDone: seq });
  return state();
}
