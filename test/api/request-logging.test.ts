import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { loggableUrl } from '../../src/api/middleware/request-context.js';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/client.js';
import { createLinkTokens } from '../../src/mail/links.js';

const SECRET = 'request-logging-test-secret-0123456789abcdef';
const tokens = createLinkTokens(SECRET);
const unsubscribe = tokens.signUnsubscribe({ siteId: 1, contactId: 2, sendId: 3 });
const open = tokens.signOpen({ sendId: 3 });
const click = tokens.signClick({ sendId: 3, url: 'https://example.com/pricing' });

/** Every line the app logs, as written (JSON text). */
const lines: string[] = [];
let server: Server;
let baseUrl = '';

// A database that is down: valid tokens reach it, so the error paths (500, logged with the error) run too.
const downDb = {
  select() {
    throw new Error('database is down');
  },
} as unknown as Db;

beforeAll(async () => {
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  const app = createApp({
    db: downDb,
    temporal: {} as Client,
    config: loadConfig({ NODE_ENV: 'test', TIDINGS_SECRET: SECRET }),
    logger,
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends the request and waits for its `request completed` line; returns the logged URL and status. */
async function logged(method: string, path: string): Promise<{ url: string; status: number }> {
  const before = lines.length;
  // A browser's user agent: bots are not tracked, and the tracking paths should run in full.
  const headers = { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36' };
  const res = await fetch(baseUrl + path, { method, headers, redirect: 'manual' });
  await res.arrayBuffer();
  const line = await vi.waitFor(() => {
    const found = lines.slice(before).map((l) => JSON.parse(l)).find((l) => l.msg === 'request completed');
    if (!found) throw new Error('no request line yet');
    return found;
  });
  expect(line.res.statusCode).toBe(res.status);
  return { url: line.req.url, status: res.status };
}

describe('request logs', () => {
  it('never contain an unsubscribe or tracking token, whatever the answer, while other URLs are logged as they came', async () => {
    expect(await logged('GET', `/u/${unsubscribe}`)).toEqual({ url: '/u/[redacted]', status: 500 });
    expect(await logged('POST', `/u/${unsubscribe}?from=list-unsubscribe`)).toEqual({ url: '/u/[redacted]?from=list-unsubscribe', status: 500 });
    expect(await logged('GET', `/t/o/${open}`)).toEqual({ url: '/t/o/[redacted]', status: 200 });
    expect(await logged('GET', `/t/c/${click}`)).toEqual({ url: '/t/c/[redacted]', status: 500 });
    // Variants the router also serves or answers: another case, another method, extra segments.
    expect(await logged('GET', `/U/${unsubscribe}`)).toEqual({ url: '/U/[redacted]', status: 500 });
    expect((await logged('PUT', `/u/${unsubscribe}`)).url).toBe('/u/[redacted]');
    expect(await logged('GET', `/t/c/${click}/more`)).toEqual({ url: '/t/c/[redacted]', status: 404 });

    expect(await logged('GET', '/no-such-page?x=1')).toEqual({ url: '/no-such-page?x=1', status: 404 });
    expect(await logged('GET', '/t/x/abc')).toEqual({ url: '/t/x/abc', status: 404 });

    const all = lines.join('\n');
    // The error handler's and the tracking router's own lines were written too, and hold no token either.
    expect(all).toMatch(/unhandled error/);
    expect(all).toMatch(/could not record an open/);
    for (const token of [unsubscribe, open, click]) {
      expect(all).not.toContain(token);
      // The signature part alone is what makes a token usable.
      expect(all).not.toContain(token.slice(-20));
    }
  });

  it('redacts the token of an absolute-form request target and of doubled slashes', () => {
    expect(loggableUrl(`http://mail.example.com/u/${unsubscribe}?a=1`)).toBe('http://mail.example.com/u/[redacted]?a=1');
    expect(loggableUrl(`//t//o/${open}`)).toBe('//t//o/[redacted]');
    expect(loggableUrl('/api/v1/contacts?email=ada@example.com')).toBe('/api/v1/contacts?email=ada@example.com');
    expect(loggableUrl('/unsubscribe/abc')).toBe('/unsubscribe/abc');
    // A sign-up link's one-time token, checked by the dashboard.
    expect(loggableUrl('/api/v1/auth/setup/AbC-123_xyz')).toBe('/api/v1/auth/setup/[redacted]');
    expect(loggableUrl('/API/v1//auth/setup/AbC-123_xyz?x=1')).toBe('/API/v1//auth/setup/[redacted]?x=1');
    expect(loggableUrl('/api/v1/auth/setup')).toBe('/api/v1/auth/setup');
    expect(loggableUrl('/app/setup?token=AbC-123_xyz')).toBe('/app/setup?token=[redacted]');
    expect(loggableUrl('/app/setup?from=mail&token=AbC&x=1')).toBe('/app/setup?from=mail&token=[redacted]&x=1');
    expect(loggableUrl('/app/contacts?token=x')).toBe('/app/contacts?token=x');
  });
});
