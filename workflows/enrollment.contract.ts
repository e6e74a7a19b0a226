/**
 * The enrollment workflow's contract, shared by the workflow and everything that starts, signals or
 * queries it (services, routes, tests): its type name, input, signals, query and search attributes.
 * Imports only the workflow SDK's definition helpers and pure domain code, so both sides can load it.
 */
import { defineQuery, defineSignal, type SignalDefinition } from '@temporalio/workflow';
import type { EnrollmentCursor, EnrollmentState, HistoryEntry, SequenceStatus } from '../src/domain/enrollment.js';
import { SEARCH_ATTRIBUTES } from '../src/domain/search-attributes.js';

/** The workflow type as registered on the worker (the exported function's name). */
export const ENROLLMENT_WORKFLOW = 'enrollmentWorkflow';

/** What a run hands to the next over continue-as-new. */
export interface EnrollmentCarry {
  /** null: the first live step. */
  cursor: EnrollmentCursor | null;
  /** When the previous step was due (or held until) in ms of workflow time: the next delay counts from here. */
  anchorAt: number;
  /** Steps recorded so far (the enrollment_steps key). */
  seq: number;
  history: HistoryEntry[];
}

export interface EnrollmentInput {
  enrollmentId: number;
  siteId: number;
  sequenceId: number;
  contactId: number;
  contactEmail: string;
  /** Start at this step instead of the first one. */
  startAtStepId?: number | null;
  /** Set only by continue-as-new. */
  state?: EnrollmentCarry;
}

export type ContactStatusChange = 'unsubscribed' | 'bounced' | 'complained' | 'suppressed';

/** What each signal of a journey carries. */
export interface EnrollmentSignalPayloads {
  /** Ends the enrollment now (status `unenrolled`). */
  unenroll: { reason?: string };
  /** The contact unsubscribed, bounced, complained or was suppressed: ends the enrollment now (status `exited`). */
  contactStatusChanged: { status: ContactStatusChange };
  /** A named contact event: completes a `wait_for_event` step waiting for it, or exits if listed in `exitOn.events`. */
  contactEvent: { name: string; data?: Record<string, unknown> };
  /** The sequence was paused (sends hold), resumed, or archived (ends the enrollment). */
  sequenceStatusChanged: { status: SequenceStatus };
}

export type EnrollmentSignal = keyof EnrollmentSignalPayloads;

/** Every signal of a journey by name, for senders that pick one at run time. */
export const enrollmentSignals: { [S in EnrollmentSignal]: SignalDefinition<[EnrollmentSignalPayloads[S]], S> } = {
  unenroll: defineSignal('unenroll'),
  contactStatusChanged: defineSignal('contactStatusChanged'),
  contactEvent: defineSignal('contactEvent'),
  sequenceStatusChanged: defineSignal('sequenceStatusChanged'),
};
export const { unenroll: unenrollSignal, contactStatusChanged: contactStatusChangedSignal, contactEvent: contactEventSignal, sequenceStatusChanged: sequenceStatusChangedSignal } =
  enrollmentSignals;

/** Live state for `GET /enrollments/:id`. */
export const stateQuery = defineQuery<EnrollmentState>('state');

/** The custom search attributes of a journey: set by its starter, upserted by the workflow when missing. */
export function enrollmentSearchAttributes(input: Pick<EnrollmentInput, 'siteId' | 'sequenceId' | 'contactId' | 'contactEmail'>) {
  return [
    { key: SEARCH_ATTRIBUTES.SiteId, value: input.siteId },
    { key: SEARCH_ATTRIBUTES.SequenceId, value: String(input.sequenceId) },
    { key: SEARCH_ATTRIBUTES.ContactId, value: input.contactId },
    { key: SEARCH_ATTRIBUTES.ContactEmail, value: input.contactEmail },
  ];
}
