import type { RequestHandler } from 'express';
import { AppError } from '../../errors.js';
import type { ApiAuth } from '../request-context.js';
import '../request-context.js';

interface Window {
  start: number;
  count: number;
}

/**
 * Fixed one-minute windows per caller (API key or dashboard user), in process memory. Good enough for
 * one API process; several replicas would each allow the limit (documented), which is the usual
 * trade-off for no extra store.
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request for `id`; returns the state after counting. */
  hit(id: string): { allowed: boolean; remaining: number; resetMs: number } {
    const now = this.now();
    let w = this.windows.get(id);
    if (!w || now - w.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.sweep(now);
      w = { start: now, count: 0 };
      this.windows.set(id, w);
    }
    w.count += 1;
    return {
      allowed: w.count <= this.limit,
      remaining: Math.max(0, this.limit - w.count),
      resetMs: w.start + this.windowMs - now,
    };
  }

  private sweep(now: number): void {
    for (const [id, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(id);
  }
}

/** Whose budget a request spends: its API key's, or its signed-in user's (all their browsers together). */
function callerOf(auth: ApiAuth): string {
  return auth.via === 'session' ? `user:${auth.userId}` : `key:${auth.keyId}`;
}

/** Sets X-RateLimit-* on every authenticated answer; 429 with Retry-After once over the limit. */
export function rateLimit(limiter: FixedWindowLimiter): RequestHandler {
  return (req, res, next) => {
    if (!req.auth) return next();
    const state = limiter.hit(callerOf(req.auth));
    const resetSeconds = Math.max(1, Math.ceil(state.resetMs / 1000));
    res.setHeader('X-RateLimit-Limit', String(limiter.limit));
    res.setHeader('X-RateLimit-Remaining', String(state.remaining));
    res.setHeader('X-RateLimit-Reset', String(resetSeconds));
    if (!state.allowed) {
      res.setHeader('Retry-After', String(resetSeconds));
      throw new AppError('rate_limited', 'rate_limited', `Rate limit of ${limiter.limit} requests per minute exceeded; retry in ${resetSeconds} s`);
    }
    next();
  };
}
