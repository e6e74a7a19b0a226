import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/client.js';
import { createLinkTokens } from '../../src/mail/links.js';

const SECRET = 'security-headers-test-secret-0123456789abcdef';
const tokens = createLinkTokens(SECRET);
// Nothing here needs the database: these routes answer before or without it, or with a bad token.
const noDb = {} as Db;

async function serve(nodeEnv: 'development' | 'production'): Promise<{ url: string; close: () => Promise<void> }> {
  const config = loadConfig({ NODE_ENV: nodeEnv, TIDINGS_SECRET: SECRET, PUBLIC_URL: 'https://mail.example.com', DATABASE_URL: 'postgres://x@127.0.0.1:1/x', TEMPORAL_ADDRESS: '127.0.0.1:1' });
  const server: Server = createApp({ db: noDb, temporal: {} as Client, config, logger: pino({ level: 'silent' }) }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let dev: Awaited<ReturnType<typeof serve>>;
let prod: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  dev = await serve('development');
  prod = await serve('production');
});
afterAll(async () => {
  await dev.close();
  await prod.close();
});

const get = (base: string, path: string) => fetch(base + path, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 Chrome/120.0' } });

describe('security headers', () => {
  it('sets nosniff, no-referrer and a CSP that forbids framing on every kind of response', async () => {
    const unsubscribe = tokens.signUnsubscribe({ siteId: 1, contactId: 2, sendId: 3 });
    for (const path of ['/healthz', '/api/v1/contacts', '/docs', '/nowhere', '/t/c/bad-token', `/u/not-a-token`, `/u/${unsubscribe}x`, '/app/']) {
      const res = await get(dev.url, path);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('content-security-policy'), path).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
  });

  it('gives the HTML the product serves a CSP without inline or remote scripts', async () => {
    const docs = await get(dev.url, '/docs');
    const csp = docs.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).not.toMatch(/unsafe-eval/);
    // Swagger UI's own files are served from this origin, so it works offline under this policy.
    expect((await get(dev.url, '/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
    expect((await get(dev.url, '/docs/init.js')).status).toBe(200);
  });

  it('sends Strict-Transport-Security only under NODE_ENV=production', async () => {
    expect((await get(dev.url, '/healthz')).headers.get('strict-transport-security')).toBeNull();
    expect((await get(prod.url, '/healthz')).headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });

  it('lets other origins load the open-tracking pixel, and nothing else', async () => {
    const pixel = await get(dev.url, `/t/o/${tokens.signOpen({ sendId: 1 })}x`);
    expect(pixel.headers.get('content-type')).toMatch(/^image\/gif/);
    expect(pixel.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect((await get(dev.url, '/healthz')).headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });
});
