import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { findFreePort } from '../../src/embedded/ports.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/postgres.js';
import {
  campaignView,
  createCampaign,
  expectRecoveredExactlyOnce,
  expectServiceUnavailable,
  expectUnavailable,
  log,
  seededRandom,
  seedAudience,
  sendTransactional,
  startRig,
  waitForFirstEmails,
  type Rig,
} from './rig.js';

// PostgreSQL goes away for 10 s in the middle of a campaign. It is a cluster of this test's own (the
// shared test cluster serves other files), stopped with a fast shutdown and started again on the same
// port and data directory. The API must answer 503 meanwhile, and the worker must carry on by itself.

const TOTAL = 5_000;
/** Emails per second: 5,000 take 12.5 s, so the fault lands mid-campaign however fast the machine. */
const THROTTLE = 400;
const OUTAGE_MS = 10_000;
const pgOptions = async () => ({
  dataDir: await mkdtemp(path.join(inject('testTmpDir'), 'faults-pg-')),
  port: await findFreePort(),
  database: 'tidings_faults',
  // Throwaway data: durability buys nothing here.
  postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
});
let options: Awaited<ReturnType<typeof pgOptions>>;
let postgres: EmbeddedPostgres | null = null;
let rig: Rig;

beforeAll(async () => {
  options = await pgOptions();
  postgres = await startEmbeddedPostgres(options);
  const database = createDatabase(postgres.databaseUrl);
  await runMigrations(database.db);
  rig = await startRig({ database: { db: database.db, url: postgres.databaseUrl, close: () => database.close() } });
}, 300_000);
afterAll(async () => {
  await rig?.close();
  await postgres?.stop();
});

describe('PostgreSQL outage', () => {
  it('answers 503 with Retry-After while PostgreSQL is down for 10 s, then finishes the campaign exactly once without a worker restart', async () => {
    const random = seededRandom('postgres outage');
    const { listId, addresses } = await seedAudience(rig, TOTAL, 'outage');
    const worker = await rig.startWorker();
    const id = await createCampaign(rig, listId, 'Outage test', THROTTLE);

    await waitForFirstEmails(rig, id);
    const delayMs = random.between(0, 2_000);
    await sleep(delayMs);
    const before = await campaignView(rig, id);
    expect(before?.status, 'PostgreSQL stops mid-campaign').toBe('sending');
    log(`stopping PostgreSQL ${delayMs} ms after the first emails; ${before?.sentCount} sent`);
    await postgres!.stop();
    postgres = null;
    const stoppedAt = Date.now();

    // One sweep over the API's surface at the start of the outage: every answer is the same 503.
    const sweep: [string, string, unknown?][] = [
      ...['/contacts', '/lists', '/tags', '/segments', '/campaigns', '/sequences', '/sends', '/templates', '/suppressions', '/sending-configs', '/api-keys', '/imports', '/events', '/webhook-endpoints', `/campaigns/${id}`, `/campaigns/${id}/recipients`].map(
        (path): [string, string] => ['GET', path],
      ),
      ['POST', '/contacts', { email: 'new@example.com' }],
      ['POST', '/contacts/bulk', { contacts: [{ email: 'bulk@example.com' }] }],
      ['POST', '/lists', { name: 'During the outage' }],
      ['PATCH', `/campaigns/${id}`, { name: 'Renamed' }],
    ];
    const offenders: string[] = [];
    for (const [method, path, body] of sweep) {
      const res = await rig.call(method, path, body === undefined ? {} : { body });
      const ok = res.status === 503 && Number(res.headers.get('retry-after')) > 0 && res.body?.error?.code === 'service_unavailable';
      if (!ok) offenders.push(`${method} ${path} -> ${res.status} ${res.text.slice(0, 200)}`);
    }
    expect(offenders, 'every API route answers 503 with Retry-After while PostgreSQL is down').toEqual([]);

    // Throughout the outage, representative endpoints answer 503 with the JSON error and Retry-After.
    const seen: string[] = [];
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const [contacts, send, ready] = await Promise.all([
        rig.call('GET', '/contacts'),
        sendTransactional(rig, 'outage-transactional@example.com', 'During the outage'),
        rig.root('GET', '/readyz'),
      ]);
      expectServiceUnavailable(contacts, 'GET /contacts');
      expectServiceUnavailable(send, 'POST /send');
      expectUnavailable(ready, 'GET /readyz');
      expect(ready.body).toMatchObject({ status: 'unavailable', checks: { database: { status: 'error' } } });
      seen.push(`${contacts.status}/${send.status}/${ready.status}`);
      await sleep(1_000);
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);

    postgres = await startEmbeddedPostgres(options);
    log(`PostgreSQL back after ${Date.now() - stoppedAt} ms; answers while down: ${seen.join(' ')}`);
    // The client retries with the same Idempotency-Key; the campaign and that send each go out exactly once.
    await expectRecoveredExactlyOnce(rig, { outage: 'outage', campaignId: id, addresses, worker, retry: { to: 'outage-transactional@example.com', subject: 'During the outage' } });
  }, 600_000);
});
