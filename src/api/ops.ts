import { sql } from 'drizzle-orm';
import { Router } from 'express';
import { metricsRegistry } from '../metrics.js';
import type { AppDeps } from './deps.js';
import { openApiDocument } from './openapi.js';

const CHECK_TIMEOUT_MS = 2000;
const TEMPORAL_DEADLINE_MS = 1500;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type Check = { status: 'ok' } | { status: 'error'; error: string };

async function check(fn: () => Promise<unknown>): Promise<Check> {
  try {
    await fn();
    return { status: 'ok' };
  } catch (err) {
    return { status: 'error', error: err instanceof Error ? err.message : String(err) };
  }
}

/** `/healthz`, `/readyz`, `/metrics` and the OpenAPI document: unauthenticated operational endpoints. */
export function opsRouter({ db, temporal }: AppDeps): Router {
  const router = Router();

  // Liveness: the process answers. Deliberately checks nothing else, so a database outage does not
  // make an orchestrator restart healthy API processes.
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Readiness: can this process serve traffic right now?
  router.get('/readyz', async (_req, res) => {
    const [database, temporalCheck] = await Promise.all([
      check(() => withTimeout(db.execute(sql`select 1`), CHECK_TIMEOUT_MS, 'PostgreSQL')),
      // Only a gRPC deadline, no race: the SDK retries UNAVAILABLE on timers, and abandoning the call
      // would leave a retry that fires after the connection is closed. Past the deadline the last
      // retry fails at once, so this settles within the deadline plus one backoff step.
      check(() =>
        temporal.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => temporal.connection.workflowService.getSystemInfo({})),
      ),
    ]);
    const ready = database.status === 'ok' && temporalCheck.status === 'ok';
    // Like every other 503 of the API: a load balancer or client knows when to look again.
    if (!ready) res.setHeader('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', checks: { database, temporal: temporalCheck } });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });

  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });

  return router;
}
