import http from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startApi } from '../../src/server.js';
import { createTestDb } from '../helpers/db.js';
import { unreachableTemporal } from './support.js';

let testDb: Awaited<ReturnType<typeof createTestDb>>;
const temporal = unreachableTemporal();
beforeAll(async () => {
  testDb = await createTestDb();
});
afterAll(async () => {
  await temporal.connection.close();
  await testDb?.close();
});

const deps = () => ({ db: testDb.db, temporal: temporal.client, config: loadConfig({ NODE_ENV: 'test' }), logger: pino({ level: 'silent' }) });

describe('startApi', () => {
  it('listens on the requested port and reports a usable URL', async () => {
    const api = await startApi(deps(), { port: 0, host: '127.0.0.1' });
    try {
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('rejects with a one-line actionable message when the port is taken', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const failure = await startApi(deps(), { port, host: '127.0.0.1' }).then(
        () => null,
        (err: Error) => err,
      );
      expect(failure?.message).toBe(`API port ${port} on 127.0.0.1 is already in use: stop the other process or set PORT to a free port`);
      expect(failure?.message).not.toContain('\n');
    } finally {
      blocker.close();
    }
  });

  it('lets an in-flight request finish on close, then refuses new connections', async () => {
    const api = await startApi(deps(), { port: 0, host: '127.0.0.1' });
    // /readyz waits on the unreachable Temporal, so it is still in flight when close() starts.
    const inFlight = fetch(`${api.url}/readyz`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = api.close();
    expect((await inFlight).status).toBe(503);
    await closed;
    await expect(fetch(`${api.url}/healthz`)).rejects.toThrow();
  });
});
