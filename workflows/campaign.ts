import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CampaignActivities, CampaignBatchResult, CampaignSummary } from '../activities/campaign.js';
import { PERMANENT_DELIVERY_FAILURES } from '../src/domain/delivery.js';
import {
  campaignStateQuery,
  cancelSignal,
  pauseSignal,
  rescheduleSignal,
  resumeSignal,
  type CampaignState,
  type CampaignWorkflowInput,
} from './campaign.contract.js';

/** Auto-pause when more than this share of attempts failed, once enough were made to judge. */
export const ERROR_RATE_THRESHOLD = 0.2;
export const ERROR_RATE_MIN_ATTEMPTS = 100;

// Batches: heartbeats every 2 s, so a killed worker's batch is retried elsewhere after 10 s. Provider
// 429s retry after the provider's retry-after; outages back off to a minute. Giving up pauses the
// campaign (with the reason) instead of failing it, so nobody is skipped.
const batches = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 40,
    nonRetryableErrorTypes: [...PERMANENT_DELIVERY_FAILURES, 'CampaignNotFound', 'CampaignContentMissing'],
  },
});

// Freeze, plan, pause and finish are single transactions, retried until the database answers. They
// heartbeat too, so one caught by a worker crash is retried after 10 s, not after the start-to-close
// ceiling (which only a freeze of a very large audience approaches).
const bookkeeping = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['CampaignNotFound'] },
});

function failureMessage(err: ActivityFailure): string {
  return err.cause instanceof Error ? err.cause.message : err.message;
}

/**
 * One campaign, start to end (ID `campaign:<id>`): waits durably until `scheduledAt` (a `reschedule`
 * or `cancel` signal wakes the wait at once), freezes the audience, then sends in rounds of disjoint
 * batch activities paged by a keyset cursor, honouring `pause`/`resume`/`cancel` between rounds and
 * pausing itself on rejected credentials or a high error rate. Holds only a cursor and counters and
 * continues as new when the history grows; the database holds the recipients and their states.
 */
export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignSummary> {
  const { campaignId } = input;
  const state: CampaignState = input.state ?? {
    phase: 'waiting',
    scheduledAt: input.scheduledAt ?? null,
    cursor: 0,
    paused: false,
    window: { attempted: 0, failed: 0 },
    totals: { sent: 0, failed: 0, suppressed: 0, skipped: 0 },
  };
  let changed = false;
  let cancelled = false;
  setHandler(campaignStateQuery, () => state);
  setHandler(rescheduleSignal, ({ scheduledAt }) => {
    state.scheduledAt = scheduledAt;
    changed = true;
  });
  setHandler(cancelSignal, () => {
    cancelled = true;
  });
  setHandler(pauseSignal, ({ reason }) => {
    state.paused = true;
    state.pausedReason = reason ?? null;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    state.pausedReason = null;
    state.window = { attempted: 0, failed: 0 };
  });

  const cancel = () => bookkeeping.finishCampaign({ campaignId, outcome: 'cancelled' });

  if (state.phase === 'waiting') {
    for (;;) {
      changed = false;
      const at = state.scheduledAt ? Date.parse(state.scheduledAt) : Date.now();
      const waitMs = at - Date.now();
      if (cancelled) return cancel();
      if (waitMs <= 0) break;
      // A reschedule or cancel ends the wait at once; otherwise the timer fires at the scheduled time.
      await condition(() => changed || cancelled, waitMs);
    }
    const frozen = await bookkeeping.freezeCampaignAudience({ campaignId, startedAt: new Date(Date.now()).toISOString() });
    if (frozen.status === 'cancelled') return cancel();
    state.phase = 'sending';
    state.totals.suppressed = frozen.suppressedCount;
    log.info('campaign audience frozen', { campaignId, total: frozen.totalRecipients });
  }

  const pause = async (reason: string) => {
    state.paused = true;
    state.pausedReason = reason;
    await bookkeeping.pauseCampaign({ campaignId, reason });
  };

  // A sliding window of batch activities over disjoint ranges: a new batch starts as soon as one ends,
  // so a slow batch never holds the others back. Ranges are planned after `issued` (the highest
  // recipient id handed out), so planning never overlaps a batch in flight. Pause, cancel and
  // continue-as-new first let the batches in flight finish (drain), so their outcomes are counted.
  type Done = { range: { afterId: number; uptoId: number }; result?: CampaignBatchResult; error?: ActivityFailure };
  const inFlight = new Map<number, Promise<Done>>();
  let planned: { afterId: number; uptoId: number }[] = [];
  let window = 1;
  let minBatchMs = 0;
  let issued = state.cursor;
  let rewindTo: number | undefined;
  let exhausted = false;

  const launch = (range: { afterId: number; uptoId: number }) => {
    let call: Promise<CampaignBatchResult>;
    if (minBatchMs) {
      // Batch start times are spaced by one batch's worth of the campaign's throttle, counted from the
      // previous batch's slot rather than its end, so round-trip overhead does not slow the pace.
      const notBefore = Math.max(state.pacedUntil ?? 0, Date.now());
      state.pacedUntil = notBefore + minBatchMs;
      call = batches.sendCampaignBatch({ campaignId, ...range, notBefore, minBatchMs });
    } else {
      call = batches.sendCampaignBatch({ campaignId, ...range });
    }
    inFlight.set(
      range.afterId,
      call.then(
        (result): Done => ({ range, result }),
        (err: unknown): Done => {
          if (!(err instanceof ActivityFailure)) throw err;
          return { range, error: err };
        },
      ),
    );
  };

  for (;;) {
    const draining = cancelled || state.paused || workflowInfo().continueAsNewSuggested;
    while (!draining && !exhausted && inFlight.size < window) {
      if (planned.length === 0) {
        const plan = await bookkeeping.planCampaignBatches({ campaignId, afterId: issued });
        // Cancelled or paused through the API; the signal may still be on the way.
        if (plan.status === 'cancelled') cancelled = true;
        if (plan.status === 'paused') state.paused = true;
        if (plan.status === 'cancelled' || plan.status === 'paused') break;
        if (plan.ranges.length === 0) {
          exhausted = true;
          break;
        }
        planned = plan.ranges;
        window = plan.concurrency;
        minBatchMs = plan.minBatchMs;
      }
      const range = planned.shift()!;
      issued = range.uptoId;
      launch(range);
    }

    if (inFlight.size === 0) {
      // Nothing in flight: the cursor is exact here, so this is where the run may stop, wait or hand over.
      if (rewindTo !== undefined) {
        // Ranges with recipients left (credentials refused, campaign stopped) are planned again.
        issued = rewindTo;
        rewindTo = undefined;
        planned = [];
        exhausted = false;
      }
      state.cursor = issued;
      if (cancelled) return cancel();
      if (state.paused) {
        await condition(() => !state.paused || cancelled);
        planned = [];
        continue;
      }
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof campaignWorkflow>({ campaignId, siteId: input.siteId, state });
      }
      if (exhausted) break;
      continue;
    }

    const done = await Promise.race(inFlight.values());
    inFlight.delete(done.range.afterId);
    if (done.error) {
      // Retries exhausted or a permanent failure (config deleted, credentials unusable): the campaign
      // waits for a person instead of skipping anyone. Its recipients are planned again on resume.
      rewindTo = Math.min(rewindTo ?? Infinity, done.range.afterId);
      if (!state.paused) await pause(`batch failed: ${failureMessage(done.error)}`);
      continue;
    }
    const r = done.result!;
    state.totals.sent += r.sent;
    state.totals.failed += r.failed;
    state.totals.suppressed += r.suppressed;
    state.totals.skipped += r.skipped;
    state.window.attempted += r.attempted;
    state.window.failed += r.failed;
    if (r.remaining > 0) rewindTo = Math.min(rewindTo ?? Infinity, done.range.afterId);
    if (state.paused) continue;
    if (r.authFailed) {
      await pause(`the provider rejected the credentials: ${r.authFailed}`);
    } else if (state.window.attempted >= ERROR_RATE_MIN_ATTEMPTS && state.window.failed / state.window.attempted > ERROR_RATE_THRESHOLD) {
      await pause(
        `error rate ${Math.round((100 * state.window.failed) / state.window.attempted)}% over the last ${state.window.attempted} attempts exceeds ${ERROR_RATE_THRESHOLD * 100}%`,
      );
    }
  }

  const summary = await bookkeeping.finishCampaign({ campaignId, outcome: 'completed' });
  if (summary.status === 'failed') {
    throw ApplicationFailure.create({ type: 'CampaignFailed', message: `Campaign ${campaignId}: every attempted recipient failed`, nonRetryable: true, details: [summary] });
  }
  return summary;
}
