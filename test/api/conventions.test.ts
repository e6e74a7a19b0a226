import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../src/api/app.js';
import { errorHandler } from '../../src/api/errors.js';
import { AppError } from '../../src/errors.js';
import { requestContext } from '../../src/api/middleware/request-context.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/client.js';
import { startApi } from '../../src/server.js';
import { httpClient, startTestApi, unreachableTemporal, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

describe('authentication and tenancy', () => {
  it('answers 401 JSON without an API key', async () => {
    const res = await api.call('GET', '/api/v1/contacts', { key: null });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'unauthorized' });
    expect(res.body.error.message).toMatch(/Bearer/);
  });

  it('answers 401 JSON for an unknown key or a malformed header', async () => {
    expect((await api.call('GET', '/api/v1/contacts', { key: 'tk_live_nottherealkeyatallxxxxxxxxxxx' })).body.error.code).toBe('invalid_api_key');
    const basic = await api.call('GET', '/api/v1/contacts', { key: null, headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    expect(basic.status).toBe(401);
  });

  it('answers 403 when a siteId in the query or body is not the key’s site', async () => {
    const { siteA, siteB } = api;
    const query = await api.call('GET', `/api/v1/contacts?siteId=${siteB.id}`);
    expect(query.status).toBe(403);
    expect(query.body.error.code).toBe('site_mismatch');
    const body = await api.call('POST', '/api/v1/contacts', { body: { siteId: siteB.id, email: 'wrong-site@example.com' } });
    expect(body.status).toBe(403);
    const matching = await api.call('POST', '/api/v1/contacts', { body: { siteId: siteA.id, email: 'right-site@example.com' } });
    expect(matching.status).toBe(201);
    expect((await api.call('GET', `/api/v1/contacts?siteId=${siteA.id}`)).status).toBe(200);
  });
});

describe('error shape', () => {
  it('answers 400 invalid_json for malformed JSON', async () => {
    const res = await api.call('POST', '/api/v1/contacts', { raw: '{"email": "a@b.c",' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.body.error.code).toBe('invalid_json');
  });

  it('reads JSON sent with curl’s default form Content-Type, and says so when it is not JSON', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const ok = await api.call('POST', '/api/v1/contacts', { raw: '{"email":"curl@example.com"}', headers: form });
    expect(ok.status).toBe(201);
    const bad = await api.call('POST', '/api/v1/contacts', { raw: 'email=a@b.c', headers: form });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_json');
  });

  it('answers 400 JSON for a body of another media type', async () => {
    const res = await api.call('POST', '/api/v1/contacts', { raw: '<contact/>', headers: { 'content-type': 'application/xml' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/Content-Type: application\/json/);
  });

  it('answers 413 JSON for a body over the size limit', async () => {
    const res = await api.call('POST', '/api/v1/contacts/bulk', { raw: JSON.stringify({ contacts: [], pad: 'x'.repeat(6 * 1024 * 1024) }) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('answers 404 JSON for unknown routes, inside and outside /api/v1', async () => {
    const inside = await api.call('GET', '/api/v1/nope');
    expect(inside.status).toBe(404);
    expect(inside.body.error.code).toBe('route_not_found');
    const outside = await api.call('POST', '/nope', { key: null });
    expect(outside.status).toBe(404);
    expect(outside.body.error).toMatchObject({ code: 'route_not_found', message: 'No route for POST /nope' });
  });

  it('answers 400, not 500, to a NUL character PostgreSQL cannot store, in text or in JSON', async () => {
    const text = await api.call('POST', '/api/v1/lists', { body: { name: 'Read\u0000ers' } });
    expect(text.status).toBe(400);
    expect(text.body.error.code).toBe('invalid_value');
    const json = await api.call('POST', '/api/v1/contacts', { body: { email: 'nul@example.com', customFields: { note: 'a\u0000b' } } });
    expect(json.status).toBe(400);
    expect((await api.call('GET', '/api/v1/contacts?q=nul@example.com')).body.data).toEqual([]);
  });

  it('answers 405 with Allow for a method the path does not have, and OPTIONS with the same list', async () => {
    const put = await api.call('PUT', '/api/v1/contacts', { body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST, GET, HEAD, OPTIONS');
    expect(put.body.error.code).toBe('method_not_allowed');
    // The concrete path wins over a `{param}` neighbour: not "stepId must be an integer".
    const reorder = await api.call('PATCH', '/api/v1/sequences/1/steps/reorder', { body: {} });
    expect(reorder.status).toBe(405);
    expect(reorder.headers.get('allow')).toBe('POST, OPTIONS');
    const options = await api.call('OPTIONS', '/api/v1/contacts/7/');
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, PATCH, DELETE, HEAD, OPTIONS');
    // Outside the document it is still the JSON 404.
    expect((await api.call('DELETE', '/api/v1/contacts/7/nope')).status).toBe(404);
  });

  it('echoes a request id, or makes one up', async () => {
    const given = await api.call('GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await api.call('GET', '/healthz');
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  /** Serves `GET /boom` throwing `error` through the real request context and error handler. */
  async function throwThrough(error: unknown) {
    const app = express();
    app.use(requestContext(pino({ level: 'silent' })));
    app.get('/boom', () => {
      throw error;
    });
    app.use(errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      return await httpClient(`http://127.0.0.1:${port}`)('GET', '/boom');
    } finally {
      server.close();
    }
  }

  it('answers an unexpected failure with 500, a request id and no internals', async () => {
    const res = await throwThrough(new Error('password=hunter2 at db.internal:5432'));
    expect(res.status).toBe(500);
    expect(res.body.error).toEqual({ code: 'internal_error', message: 'Internal server error', requestId: res.headers.get('x-request-id') });
    expect(res.text).not.toContain('hunter2');
  });

  it('maps known failures from any route to their 4xx answers', async () => {
    const zod = z.object({ n: z.number() }).safeParse({ n: 'x' }).error!;
    const zodRes = await throwThrough(zod);
    expect(zodRes.status).toBe(400);
    expect(zodRes.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'n' }] });

    const started = await throwThrough(new WorkflowExecutionAlreadyStartedError('already started', 'import:1', 'contactImport'));
    expect(started.status).toBe(409);
    expect(started.body.error.code).toBe('already_started');

    const unique = await throwThrough(Object.assign(new Error('Failed query'), { cause: Object.assign(new Error('duplicate key'), { code: '23505' }) }));
    expect(unique.status).toBe(409);
    expect(unique.text).not.toContain('duplicate key');

    const badText = await throwThrough(Object.assign(new Error('invalid input value for enum'), { code: '22P02' }));
    expect(badText.status).toBe(400);

    const app = await throwThrough(new AppError('contact_suppressed', 'unprocessable', 'This contact is suppressed'));
    expect(app.status).toBe(422);
    expect(app.body).toEqual({ error: { code: 'contact_suppressed', message: 'This contact is suppressed' } });
  });

  it('answers 503 with Retry-After when PostgreSQL is down', async () => {
    const down = createDatabase('postgres://nobody:nothing@127.0.0.1:1/none');
    const temporal = unreachableTemporal();
    const server = await startApi(
      { db: down.db, temporal: temporal.client, config: loadConfig({ NODE_ENV: 'test' }), logger: pino({ level: 'silent' }) },
      { port: 0, host: '127.0.0.1' },
    );
    try {
      const res = await httpClient(server.url, 'tk_live_whateverwhateverwhatever')('GET', '/api/v1/contacts');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('service_unavailable');
      expect(res.headers.get('retry-after')).toBe('5');
      const ready = await httpClient(server.url)('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database.status).toBe('error');
    } finally {
      await server.close();
      await temporal.connection.close();
      await down.close();
    }
  });
});

describe('rate limiting', () => {
  it('sends X-RateLimit headers, then 429 with Retry-After once the key is over its limit', async () => {
    const limited = await startTestApi({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await limited.call('GET', '/api/v1/tags');
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-limit')).toBe('3');
        expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
        remaining.push(res.headers.get('x-ratelimit-remaining')!);
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const over = await limited.call('GET', '/api/v1/tags');
      expect(over.status).toBe(429);
      expect(over.body.error.code).toBe('rate_limited');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(over.headers.get('x-ratelimit-remaining')).toBe('0');
      // The limit is per key: the other site's key is untouched.
      expect((await limited.call('GET', '/api/v1/tags', { key: limited.siteB.key })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('operational endpoints', () => {
  it('answers /healthz while the process is up', async () => {
    const res = await api.call('GET', '/healthz', { key: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 503 naming Temporal when Temporal is unreachable', async () => {
    const res = await api.call('GET', '/readyz', { key: null });
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unavailable');
    expect(res.body.checks.database).toEqual({ status: 'ok' });
    expect(res.body.checks.temporal.status).toBe('error');
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('serves Prometheus metrics including request durations by route', async () => {
    await api.call('GET', '/api/v1/contacts/12345');
    const res = await api.call('GET', '/metrics', { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(res.text).toContain('process_cpu_user_seconds_total');
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*method="GET"[^}]*route="\/api\/v1\/contacts\/:id"[^}]*status="404"/);
  });

  it('builds the app without listening', () => {
    const temporal = unreachableTemporal();
    const app = createApp({ db: api.db, temporal: temporal.client, config: loadConfig({ NODE_ENV: 'test' }), logger: pino({ level: 'silent' }) });
    expect(typeof app.listen).toBe('function');
  });
});
