import { Client, Connection } from '@temporalio/client';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/client.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { insertSend, type NewSend, type SendRow } from '../../src/db/repositories/sends.js';
import { createUser, type UserRole } from '../../src/db/repositories/users.js';
import { hashPassword } from '../../src/crypto/passwords.js';
import { startApi } from '../../src/server.js';
import { createTestDb } from '../helpers/db.js';

/** A Temporal client aimed at a port where nothing listens: routes that never touch Temporal work. */
export function unreachableTemporal(): { client: Client; connection: Connection } {
  const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 });
  return { connection, client: new Client({ connection, namespace: 'default' }) };
}

export interface Response<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  /** JSON-encoded unless `raw` is given. */
  body?: unknown;
  /** Sent as is (for malformed JSON). */
  raw?: string;
  /** API key; `null` sends none. Defaults to the client's key. */
  key?: string | null;
  headers?: Record<string, string>;
}

/** Real HTTP against a running API (fetch), with JSON parsed when the answer is JSON. */
export function httpClient(baseUrl: string, defaultKey?: string) {
  // Tests read answers loosely; the assertions are the type check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return async function call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<Response<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    const key = opts.key === undefined ? defaultKey : opts.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (opts.raw !== undefined) {
      body = opts.raw;
      headers['content-type'] ??= 'application/json';
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(baseUrl + path, { method, headers, body });
    const text = await res.text();
    const isJson = res.headers.get('content-type')?.includes('json');
    return { status: res.status, headers: res.headers, text, body: (isJson && text ? JSON.parse(text) : text) as T };
  };
}

export interface TestSite {
  id: number;
  key: string;
}

export interface TestApi {
  url: string;
  db: Db;
  /** Site A (the default key of `call`) and site B, each with one key. */
  siteA: TestSite;
  siteB: TestSite;
  call: ReturnType<typeof httpClient>;
  close(): Promise<void>;
}

async function newSite(db: Db, name: string): Promise<TestSite> {
  const site = await createSite(db, { name });
  const { key } = await createApiKey(db, { siteId: site.id, name: 'test' });
  return { id: site.id, key };
}

/**
 * A fresh database, two sites with a key each, and the API listening on a free port. Temporal is
 * unreachable on purpose (these routes never use it).
 */
export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const testDb = await createTestDb();
  const temporal = unreachableTemporal();
  const api = await startApi(
    {
      db: testDb.db,
      temporal: temporal.client,
      config: loadConfig({ NODE_ENV: 'test', ...env }),
      logger: pino({ level: 'silent' }),
    },
    { port: 0, host: '127.0.0.1' },
  );
  const siteA = await newSite(testDb.db, 'Site A');
  const siteB = await newSite(testDb.db, 'Site B');
  return {
    url: api.url,
    db: testDb.db,
    siteA,
    siteB,
    call: httpClient(api.url, siteA.key),
    async close() {
      await api.close();
      await temporal.connection.close();
      await testDb.close();
    },
  };
}

export interface TestUser {
  id: number;
  email: string;
  password: string;
}

let userSeq = 0;

/** A dashboard user made straight in the database (the sign-up flow has its own tests). */
export async function createTestUser(db: Db, siteId: number, role: UserRole, email?: string): Promise<TestUser> {
  const password = 'correct horse battery';
  const address = email ?? `user${++userSeq}-${process.pid}-${role}@example.com`;
  const user = await createUser(db, { siteId, email: address, name: `Test ${role}`, role, passwordHash: await hashPassword(password) });
  return { id: user.id, email: user.email, password };
}

export interface TestSession {
  /** `tidings_session=<token>`, for a Cookie header. */
  cookie: string;
  csrfToken: string;
  /** Headers of a cookie-authenticated write (cookie and CSRF token). */
  headers: Record<string, string>;
}

/** Signs in through the API and returns what a browser would keep. */
export async function signIn(baseUrl: string, user: { email: string; password: string }): Promise<TestSession> {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  if (res.status !== 200) throw new Error(`sign-in of ${user.email} answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { csrfToken: string };
  const cookie = /^(tidings_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (!cookie) throw new Error('sign-in set no tidings_session cookie');
  return { cookie, csrfToken: body.csrfToken, headers: { cookie, 'x-csrf-token': body.csrfToken } };
}

let recordedSends = 0;

/**
 * Records a transactional send in site A (unless `fields` say otherwise) through the repository the
 * sending path uses, each with its own subject, body and idempotency key.
 */
export async function recordSend(api: TestApi, sendingConfigId: number, fields: Partial<NewSend> = {}): Promise<SendRow> {
  recordedSends += 1;
  const n = recordedSends;
  const { send } = await insertSend(api.db, {
    siteId: api.siteA.id,
    kind: 'transactional',
    toEmail: 'ada@example.test',
    subject: `Message ${n}`,
    html: `<p>Message ${n}</p>`,
    text: `Message ${n}`,
    sendingConfigId,
    idempotencyKey: `test:send:${process.pid}:${n}`,
    ...fields,
  });
  return send;
}
