/**
 * The campaign workflow's contract, shared by the workflow and everything that starts, signals or
 * queries it: its type name, input, signals, query and search attributes.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES } from '../src/domain/search-attributes.js';

/** The workflow type as registered on the worker (the exported function's name). */
export const CAMPAIGN_WORKFLOW = 'campaignWorkflow';

/** What a run carries over `continueAsNew` (and what retry-failed starts with): a cursor and counters, never recipients. */
export interface CampaignState {
  phase: 'waiting' | 'sending';
  /** ISO instant the campaign starts (waiting phase). */
  scheduledAt?: string | null;
  /** Recipient id below which every recipient has been handed to a batch. */
  cursor: number;
  paused: boolean;
  pausedReason?: string | null;
  /** Attempts and failures since the last (re)start, for the error-rate auto-pause. */
  window: { attempted: number; failed: number };
  totals: { sent: number; failed: number; suppressed: number; skipped: number };
  /** The campaign's own throttle: when the next batch may start (epoch ms, workflow time). */
  pacedUntil?: number;
}

export interface CampaignWorkflowInput {
  campaignId: number;
  siteId: number;
  /** When to start; absent or past = now. Ignored when `state` is given. */
  scheduledAt?: string | null;
  state?: CampaignState;
}

/** Moves the start of a waiting campaign. */
export const rescheduleSignal = defineSignal<[{ scheduledAt: string }]>('reschedule');
/** Stops the campaign; recipients still pending are marked skipped. */
export const cancelSignal = defineSignal('cancel');
/** Holds batches until resumed. */
export const pauseSignal = defineSignal<[{ reason?: string }]>('pause');
export const resumeSignal = defineSignal('resume');
/** The cursor and counters of the running campaign. */
export const campaignStateQuery = defineQuery<CampaignState>('state');

/** The custom search attributes of a campaign's workflow. */
export function campaignSearchAttributes(input: { siteId: number; campaignId: number }) {
  return [
    { key: SEARCH_ATTRIBUTES.SiteId, value: input.siteId },
    { key: SEARCH_ATTRIBUTES.CampaignId, value: String(input.campaignId) },
  ];
}
