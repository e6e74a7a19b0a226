import { Validator } from '@seriousme/openapi-schema-validator';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { startTestApi, unreachableTemporal, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string;
}

/** Every `METHOD /path` the Express app serves, read from its router stack. */
function expressRoutes(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${prefix}${layer.route!.path}`);
    }
    if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      return expressRoutes(layer.handle.stack, prefix + mount);
    }
    return [];
  });
}

/** Pages for people, not API operations: the reference itself, the dashboard and `/`, which leads to it. */
function isHtmlPage(route: string): boolean {
  return route.includes(' /docs') || route.startsWith('GET /app') || route === 'GET /';
}

describe('OpenAPI document', () => {
  it('is served without a key and is a valid OpenAPI 3.1 document', async () => {
    const res = await api.call('GET', '/api/v1/openapi.json', { key: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(res.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents exactly the routes the app serves, with API-key or session security on /api/v1 but sign-in', async () => {
    const doc = (await api.call('GET', '/api/v1/openapi.json', { key: null })).body;
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const app = createApp({
      db: api.db,
      temporal: unreachableTemporal().client,
      config: loadConfig({ NODE_ENV: 'test' }),
      logger: pino({ level: 'silent' }),
    });
    const served = expressRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack).filter((r) => !isHtmlPage(r));
    expect(served.length).toBeGreaterThan(20);
    expect(new Set(documented)).toEqual(new Set(served));

    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'tidings_session' });
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown }>>)) {
      if (!path.startsWith('/api/v1/') || path === '/api/v1/openapi.json') continue;
      // Sign-in is how a session starts: public.
      const expected = path.startsWith('/api/v1/auth/') ? undefined : [{ bearerAuth: [] }, { sessionCookie: [] }];
      for (const op of Object.values(ops)) expect(op.security, path).toEqual(expected);
    }
  });

  it('lists every error status the shared middleware can answer, on the operations it can answer them', async () => {
    const doc = (await api.call('GET', '/api/v1/openapi.json', { key: null })).body;
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path][method].responses);
    // Every authenticated operation; 404 where the path names a resource; 413/415 where there is a body.
    expect(statuses('/api/v1/contacts', 'get')).toEqual(expect.arrayContaining(['200', '400', '401', '403', '429', '500', '503']));
    expect(statuses('/api/v1/contacts', 'get')).not.toContain('404');
    expect(statuses('/api/v1/lists/{id}', 'get')).toContain('404');
    expect(statuses('/api/v1/lists', 'post')).toEqual(expect.arrayContaining(['413', '415']));
    // The Idempotency-Key middleware's in-progress 409 and reused-key 422, with the rule it enforces.
    const create = doc.paths['/api/v1/sequences'].post;
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['409', '422']));
    const header = create.parameters.find((p: { name: string }) => p.name === 'Idempotency-Key');
    expect(header.schema.pattern).toBe('^[\\x21-\\x7e]{1,255}$');
    // A bodyless request is a 400, so bodies are required, except where a route reads none as defaults.
    expect(doc.paths['/api/v1/lists'].post.requestBody.required).toBe(true);
    expect(doc.paths['/api/v1/templates/{id}/preview'].post.requestBody.required).toBe(false);
  });

  it('describes request bodies with the schemas that validate them', async () => {
    const doc = (await api.call('GET', '/api/v1/openapi.json', { key: null })).body;
    const create = doc.components.schemas.ContactCreate;
    expect(create.required).toEqual(['email']);
    expect(create.properties.status.enum).toEqual(['subscribed', 'unsubscribed', 'bounced', 'complained']);
    expect(doc.components.schemas.BulkUpsert.properties.contacts.maxItems).toBe(1000);
    const listParams = doc.paths['/api/v1/contacts'].get.parameters.map((p: { name: string }) => p.name);
    expect(listParams).toEqual(expect.arrayContaining(['q', 'status', 'listId', 'tagId', 'page', 'limit']));
  });
});

describe('API reference', () => {
  it('serves /docs as HTML whose scripts and styles come from this server', async () => {
    const res = await api.call('GET', '/docs', { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const assets = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      expect(asset.startsWith('/'), asset).toBe(true);
      const served = await fetch(api.url + asset);
      expect(served.status, asset).toBe(200);
    }
    const init = await fetch(`${api.url}/docs/init.js`);
    expect(await init.text()).toContain('/api/v1/openapi.json');
  });
});
