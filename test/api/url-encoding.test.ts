import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/client.js';

/**
 * A path or query that cannot be percent-decoded is the client's mistake on every route: 400 with the
 * usual envelope, and nothing logged as a server error. The database is down on purpose: a request
 * that got past the guard to a handler would surface as a 500.
 */
const lines: string[] = [];
let server: Server;
let port = 0;

const downDb = {
  select() {
    throw new Error('database is down');
  },
} as unknown as Db;

beforeAll(async () => {
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  const app = createApp({ db: downDb, temporal: {} as Client, config: loadConfig({ NODE_ENV: 'test', TIDINGS_SECRET: 'url-encoding-test-secret-0123456789abcdef' }), logger });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends the raw request target as given (fetch would be free to normalise it). */
function raw(method: string, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: { authorization: 'Bearer tk_live_x', 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.once('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

const BAD = ['%E0%A4%A', '%', '%FF', '%C0%AF', 'a%zz', '%ED%A0%80'];
const TARGETS: Array<[string, (bad: string) => string]> = [
  ['GET', (b) => `/api/v1/contacts/${b}`],
  ['GET', (b) => `/api/v1/contacts?q=${b}`],
  ['DELETE', (b) => `/api/v1/lists/${b}`],
  ['GET', (b) => `/t/o/${b}`],
  ['GET', (b) => `/t/c/${b}`],
  ['GET', (b) => `/u/${b}`],
  ['POST', (b) => `/u/${b}`],
  ['POST', (b) => `/webhooks/resend/${b}`],
  ['GET', (b) => `/docs/assets/${b}`],
  ['GET', (b) => `/app/${b}`],
  ['GET', (b) => `/nowhere/${b}`],
];

describe('malformed percent-encoding', () => {
  for (const [method, target] of TARGETS) {
    it(`${method} ${target('…')} is a 400 for every malformed escape`, async () => {
      for (const bad of BAD) {
        const res = await raw(method, target(bad));
        expect(res.status, `${method} ${target(bad)}`).toBe(400);
        expect(JSON.parse(res.body).error).toMatchObject({ code: 'malformed_url' });
      }
    });
  }

  it('logs none of them as a server error', () => {
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50);
    expect(errors).toEqual([]);
  });

  it('still decodes well-formed escapes as before', async () => {
    expect((await raw('GET', '/healthz?q=%C3%A9t%C3%A9+x%2B')).status).toBe(200);
    const missing = await raw('GET', '/nowhere/%C3%A9t%C3%A9');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.code).toBe('route_not_found');
  });
});
