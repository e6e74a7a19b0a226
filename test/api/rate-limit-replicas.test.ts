import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { httpClient } from './support.js';

/** The per-key limit holds across API replicas: two processes on one database count together. */
const LIMIT = 4;
let testDb: TestDb;
const processes: ChildProcess[] = [];
const urls: string[] = [];
let key: string;

function startApiProcess(databaseUrl: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'api-process.ts')], {
    env: { ...process.env, DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: String(LIMIT), TIDINGS_SECRET: 'rate-limit-replicas-secret-0123456789abcdef' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = /listening (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => reject(new Error(`API process exited (${code}):\n${output}`)));
  });
}

beforeAll(async () => {
  testDb = await createTestDb();
  const site = await createSite(testDb.db, { name: 'Replicated' });
  key = (await createApiKey(testDb.db, { siteId: site.id })).key;
  urls.push(...(await Promise.all([startApiProcess(testDb.url), startApiProcess(testDb.url)])));
}, 120_000);

afterAll(async () => {
  await Promise.all(
    processes.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve(null);
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
  await testDb?.close();
});

describe('rate limit across API processes', () => {
  it('counts requests to two API processes against one limit, with X-RateLimit and IETF RateLimit headers', async () => {
    const [a, b] = urls.map((url) => httpClient(url, key));
    const answers = [];
    for (const call of [a!, b!, a!, b!]) answers.push(await call('GET', '/api/v1/tags'));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(answers.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['3', '2', '1', '0']);
    expect(answers[0]!.headers.get('ratelimit-policy')).toBe(`"per-key";q=${LIMIT};w=60`);
    expect(answers[1]!.headers.get('ratelimit')).toMatch(/^"per-key";r=2;t=\d+$/);

    for (const call of [a!, b!]) {
      const over = await call('GET', '/api/v1/tags');
      expect(over.status).toBe(429);
      expect(over.body).toMatchObject({ error: { code: 'rate_limited' } });
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(over.headers.get('ratelimit')).toMatch(/^"per-key";r=0;t=\d+$/);
    }
  });
});
