/**
 * Shapes shared by the enrollment workflow, its activities and the API that reads its state. Pure
 * (workflows import it): plain data, no database types.
 */
import { nextSendTime, type SendWindow } from './send-window.js';

/** Condition of a `condition` step (mirrors the `sequence_steps.condition` column). */
export type EnrollmentCondition =
  | { kind: 'opened' | 'clicked'; stepId: number }
  | { kind: 'has_tag'; tag: string }
  | { kind: 'field'; field: string; op: string; value?: unknown };

/** One live (not deleted) step as the workflow sees it at a step boundary; content is read at send time. */
export interface LiveStep {
  id: number;
  position: number;
  type: 'email' | 'condition' | 'wait_for_event';
  /** Delay before this step, counted from the end of the previous one (or from enrollment). */
  delayMs: number;
  condition: EnrollmentCondition | null;
  thenStepId: number | null;
  elseStepId: number | null;
  /** wait_for_event: the contact event name and how long to wait for it. */
  event: string | null;
  timeoutMs: number | null;
}

export type SequenceStatus = 'active' | 'paused' | 'archived';

/** The sequence at a step boundary: its status, exit rules and ordered live steps. */
export interface SequenceSnapshot {
  /** `missing` when the sequence row is gone (deleted with its site). */
  status: SequenceStatus | 'missing';
  exitOn: { events: string[]; tags: string[] };
  steps: LiveStep[];
}

/** What must hold before an email goes out, read just before sending. */
export interface SendCheck {
  /** Why the enrollment must end now (`unsubscribed`, `suppressed`, `tag:vip`, …), or null. */
  exit: string | null;
  sequenceStatus: SequenceStatus | 'missing';
  timeZone: string | null;
  sendWindow: SendWindow | null;
  /** Earliest instant (ms) the site's frequency cap allows the next sequence email; null = now. */
  capAllowsAtMs: number | null;
}

/**
 * Why an email step cannot go out now, or null when it may: the journey ends (`exit`), waits for the
 * sequence to resume (`paused`), or waits until `untilMs` for the frequency cap or the send window
 * (deferred, never skipped). `nowMs` is workflow time, so time-skipping tests and replays agree.
 */
export type SendHold = { kind: 'exit'; reason: string } | { kind: 'paused' } | { kind: 'deferred'; untilMs: number };

export function sendHold(check: SendCheck, nowMs: number): SendHold | null {
  if (check.exit) return { kind: 'exit', reason: check.exit };
  if (check.sequenceStatus === 'archived') return { kind: 'exit', reason: 'sequence_archived' };
  if (check.sequenceStatus === 'missing') return { kind: 'exit', reason: 'sequence_deleted' };
  if (check.sequenceStatus === 'paused') return { kind: 'paused' };
  const allowedAt = nextSendTime(Math.max(nowMs, check.capAllowsAtMs ?? 0), check.sendWindow, check.timeZone);
  return allowedAt <= nowMs ? null : { kind: 'deferred', untilMs: allowedAt };
}

/** What one email step's activity came to: held back (see {@link SendHold}), or done and recorded (its step named, for the Web UI). */
export type EmailStepOutcome = SendHold | { kind: 'done'; stepId: number; result: StepResult };

/** What one step came to, as recorded in `enrollment_steps.outcome`. */
export type StepOutcome =
  | 'sent'
  | 'failed'
  | 'suppressed'
  | 'skipped'
  | 'condition_true'
  | 'condition_false'
  | 'event_received'
  | 'timed_out';

export interface StepResult {
  outcome: StepOutcome;
  sendId?: number | null;
  error?: string | null;
}

export interface HistoryEntry {
  stepId: number;
  outcome: StepOutcome;
  sendId?: number;
  /** ISO instant (workflow time). */
  at: string;
}

/** Mirrors `enrollments.status`. */
export type EnrollmentStatus = 'active' | 'completed' | 'exited' | 'unenrolled' | 'failed';

/** The `state` query: what `GET /enrollments/:id` shows. */
export interface EnrollmentState {
  status: EnrollmentStatus;
  /** The step the enrollment is at (waiting for, or executing); the last one done once finished. */
  currentStepId: number | null;
  /** The step that runs next and when (ISO), when known. */
  nextStepId: number | null;
  nextStepAt: string | null;
  /** The contact event a wait_for_event step is waiting for. */
  waitingFor: string | null;
  /** Why the enrollment ended early (unsubscribed, event:purchased, sequence_archived, …). */
  exitReason: string | null;
  /** Steps done, the most recent {@link HISTORY_TAIL} (the database keeps all of them). */
  history: HistoryEntry[];
}

/** How many history entries the workflow keeps (and carries over continue-as-new). */
export const HISTORY_TAIL = 50;

export const ENROLLMENT_FAILURES = {
  /** The enrollment row is gone (its sequence or contact was deleted). */
  enrollmentNotFound: 'EnrollmentNotFound',
  /** The step has no content to send (no subject/html and no template). */
  stepNotSendable: 'StepNotSendable',
} as const;

/**
 * Where the journey is headed: `at` a step (the first step, or a branch target), or to the step
 * `after` one just done. Both carry the step's position when known, so a step deleted meanwhile is
 * replaced by the live step that now stands at (or after) its place.
 */
export type EnrollmentCursor =
  | { kind: 'at'; stepId: number; position: number | null }
  | { kind: 'after'; stepId: number; position: number };

/** The live step the cursor points at now, or undefined when the journey has nowhere left to go. */
export function resolveStep(cursor: EnrollmentCursor | null, steps: LiveStep[]): LiveStep | undefined {
  if (!cursor) return steps[0];
  const index = steps.findIndex((s) => s.id === cursor.stepId);
  if (cursor.kind === 'at') {
    if (index >= 0) return steps[index];
    // A branch target or the current step was deleted: the step that took its place.
    return cursor.position === null ? undefined : steps.find((s) => s.position >= cursor.position!);
  }
  if (index >= 0) return steps[index + 1];
  // The step just done was deleted meanwhile: continue with the next one by its old position.
  return steps.find((s) => s.position > cursor.position);
}

/** A contact field by name (`firstName`, `customFields.plan`), undefined when absent. */
function fieldValue(contact: Record<string, unknown> & { customFields?: Record<string, unknown> | null }, field: string): unknown {
  if (field.startsWith('customFields.')) return contact.customFields?.[field.slice('customFields.'.length)];
  return contact[field] ?? undefined;
}

function compare(actual: unknown, op: string, expected: unknown): boolean {
  const present = actual !== undefined && actual !== null && actual !== '';
  switch (op) {
    case 'exists':
      return present;
    case 'not_exists':
      return !present;
    case 'eq':
      return present && String(actual).toLowerCase() === String(expected).toLowerCase();
    case 'neq':
      return !present || String(actual).toLowerCase() !== String(expected).toLowerCase();
    case 'contains':
      return present && String(actual).toLowerCase().includes(String(expected).toLowerCase());
    case 'gt':
    case 'lt': {
      if (!present) return false;
      const a = Number(actual);
      const b = Number(expected);
      // Numbers compare as numbers; anything else (ISO dates included) as strings.
      const cmp = Number.isFinite(a) && Number.isFinite(b) ? a - b : String(actual).localeCompare(String(expected));
      return op === 'gt' ? cmp > 0 : cmp < 0;
    }
    default:
      return false;
  }
}

/** Whether a contact meets a `field` condition (comparisons ignore case; a missing field only `not_exists`/`neq`). */
export function fieldConditionHolds(
  contact: Record<string, unknown> & { customFields?: Record<string, unknown> | null },
  condition: Extract<EnrollmentCondition, { kind: 'field' }>,
): boolean {
  return compare(fieldValue(contact, condition.field), condition.op, condition.value);
}
