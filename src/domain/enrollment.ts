/**
 * Shapes shared by the enrollment workflow, its activities and the API that reads its state. Pure
 * (workflows import it): plain data, no database types.
 */
import type { SendWindow } from './send-window.js';

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
