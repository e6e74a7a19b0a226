import { asyncLocalStorage, sleep as activitySleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { setTimeout as timerSleep } from 'node:timers/promises';

/** Time as the sending activities see it; tests may pass one that does not really wait. */
export interface Clock {
  sleep(ms: number): Promise<void>;
}

/** Waits inside an activity: cancellable, and Temporal hears heartbeats meanwhile (see withHeartbeats). */
export const realClock: Clock = {
  sleep: (ms) => (asyncLocalStorage.getStore() ? activitySleep(ms) : timerSleep(ms)),
};

/**
 * Heartbeats every `everyMs` while `work` runs, so a worker that dies mid-activity (or while it waits
 * for a rate-limit slot) is noticed after the heartbeat timeout, not the much longer start-to-close.
 * Outside an activity (a direct call in a test) or in a local activity it just runs `work`.
 */
export async function withHeartbeats<T>(everyMs: number, work: () => Promise<T>): Promise<T> {
  const context = asyncLocalStorage.getStore();
  // A local activity cannot heartbeat: the worker keeps its workflow task alive instead.
  if (!context || context.info.isLocal) return work();
  const timer = setInterval(() => context.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** A failure Temporal must not retry: the same input would fail the same way. */
export function permanent(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
