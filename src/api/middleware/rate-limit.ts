import type { RequestHandler } from 'express';
import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Db } from '../../db/client.js';
import { AppError } from '../../errors.js';
import type { ApiAuth } from '../request-context.js';
import '../request-context.js';

const WINDOW_SECONDS = 60;

/** Whose budget a request spends: its API key's, or its signed-in user's (all their browsers together). */
function limitKey(auth: ApiAuth): string {
  return auth.via === 'session' ? `user:${auth.userId}` : `key:${auth.keyId}`;
}

/**
 * Per-key request limit of the API: fixed one-minute windows counted in PostgreSQL by
 * rate-limiter-flexible (table api_rate_limits, one upsert per request), so every API process behind
 * a load balancer counts against the same limit. A store error (database down) fails the request as
 * any other database error does (503), rather than waving it through unlimited.
 */
export interface ApiRateLimiter {
  limit: number;
  /** Counts one request for `key`: resolves when allowed, rejects with a RateLimiterRes when over. */
  consume(key: string): Promise<RateLimiterRes>;
}

export function createApiRateLimiter(db: Db, limit: number): ApiRateLimiter {
  // Built on first use: an app assembled for a test without a database never touches the store.
  let store: RateLimiterPostgres | undefined;
  const build = () => new RateLimiterPostgres({
    // drizzle's node-postgres database keeps its pg.Pool as $client.
    storeClient: (db as unknown as { $client: pg.Pool }).$client,
    storeType: 'pool',
    tableName: 'api_rate_limits',
    // Created by the migrations (src/db/schema.ts `apiRateLimits`), not at run time by the library.
    tableCreated: true,
    clearExpiredByTimeout: true,
    points: limit,
    duration: WINDOW_SECONDS,
    keyPrefix: 'api',
  });
  return { limit, consume: (key) => (store ??= build()).consume(key) };
}

/**
 * Sets the limit headers on every authenticated answer — `X-RateLimit-*` as before, and the IETF
 * `RateLimit-Policy` / `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers) — and answers 429
 * with Retry-After once over the limit.
 */
export function rateLimit(limiter: ApiRateLimiter): RequestHandler {
  const { limit } = limiter;
  return async (req, res, next) => {
    if (!req.auth) return next();
    let state: RateLimiterRes;
    let allowed = true;
    try {
      state = await limiter.consume(limitKey(req.auth));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      state = rejection;
      allowed = false;
    }
    const resetSeconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    const remaining = Math.max(0, state.remainingPoints);
    res.setHeader('X-RateLimit-Limit', String(limit));
    res.setHeader('X-RateLimit-Remaining', String(remaining));
    res.setHeader('X-RateLimit-Reset', String(resetSeconds));
    res.setHeader('RateLimit-Policy', `"per-key";q=${limit};w=${WINDOW_SECONDS}`);
    res.setHeader('RateLimit', `"per-key";r=${remaining};t=${resetSeconds}`);
    if (!allowed) {
      res.setHeader('Retry-After', String(resetSeconds));
      throw new AppError('rate_limited', 'rate_limited', `Rate limit of ${limit} requests per minute exceeded; retry in ${resetSeconds} s`);
    }
    next();
  };
}
