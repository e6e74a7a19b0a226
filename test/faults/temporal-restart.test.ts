import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedList } from '../workflows/campaign-fixtures.js';
import {
  campaignView,
  createCampaign,
  expectCampaignSentExactlyOnce,
  expectServiceUnavailable,
  expectUnavailable,
  exactlyOnceViolations,
  log,
  seededRandom,
  sendTransactional,
  startRig,
  waitFor,
  waitForCampaignEnd,
  waitForSends,
  type Rig,
} from './rig.js';

// The Temporal dev server is stopped mid-campaign and started again on the same port and SQLite file,
// as an operator restarting it would. The worker process and the API keep their connections and must
// find the server again by themselves; the API answers 503 while it is gone.

const TOTAL = 5_000;
/** Emails per second: 5,000 take 12.5 s, so the fault lands mid-campaign however fast the machine. */
const THROTTLE = 400;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
}, 300_000);
afterAll(async () => {
  await rig?.close();
});

describe('Temporal dev server restart', () => {
  it('finishes a campaign exactly once across a restart of the Temporal server, and the API answers 503 while it is down', async () => {
    const random = seededRandom('temporal restart');
    const { listId } = await seedList(rig.db, rig.siteId, TOTAL, 'restart');
    const addresses = Array.from({ length: TOTAL }, (_, i) => `restart-${i}@example.com`);
    const worker = await rig.startWorker();
    const id = await createCampaign(rig, listId, 'Restart test', THROTTLE);

    await waitFor('the campaign to start sending', async () => ((await campaignView(rig, id))?.sentCount ?? 0) > 0, 120_000, 100);
    const delayMs = random.between(0, 2_000);
    await sleep(delayMs);
    const downFor = random.between(5_000, 10_000);
    log(`stopping the Temporal server ${delayMs} ms after the first emails; ${(await campaignView(rig, id))?.sentCount} sent; down for ${downFor} ms`);
    const stoppedAt = Date.now();
    await rig.stopTemporal();

    // While it is down: readiness says so, a send is refused with 503 (and stays retryable), routes
    // that need only the database still answer.
    const ready = await rig.root('GET', '/readyz');
    expectUnavailable(ready, 'GET /readyz');
    expect(ready.body).toMatchObject({ status: 'unavailable', checks: { database: { status: 'ok' }, temporal: { status: 'error' } } });
    const refused = await sendTransactional(rig, 'restart-transactional@example.com', 'During the restart');
    expectServiceUnavailable(refused, 'POST /send');
    expect((await campaignView(rig, id))?.status, 'the server stopped mid-campaign').toBe('sending');
    expect((await rig.call('GET', '/contacts?limit=1')).status, 'routes that need only PostgreSQL still answer').toBe(200);
    await sleep(Math.max(0, downFor - (Date.now() - stoppedAt)));

    await rig.startTemporal();
    log(`Temporal server back after ${Date.now() - stoppedAt} ms`);
    await waitFor('readiness after the restart', async () => (await rig.root('GET', '/readyz')).status === 200, 60_000, 250);
    // The client retries with the same Idempotency-Key: the send recorded during the outage goes out once.
    const retried = await sendTransactional(rig, 'restart-transactional@example.com', 'During the restart');
    expect(retried.status, retried.text).toBe(202);

    const end = await waitForCampaignEnd(rig, id, { timeoutMs: 300_000, stallMs: 90_000, worker });
    log(`campaign ${end.status}: ${end.sentCount} sent`);
    expect(worker.child.exitCode, `the worker process survived the restart:\n${worker.output()}`).toBeNull();
    expect(worker.child.signalCode).toBeNull();
    await expectCampaignSentExactlyOnce(rig, id, addresses);

    const statuses = await waitForSends(rig, [retried.body.data.sendId], 120_000);
    expect([...statuses.values()]).toEqual(['sent']);
    const transactional = rig.fake.emails.filter((e) => e.payload.subject === 'During the restart');
    expect(exactlyOnceViolations(transactional, ['restart-transactional@example.com'])).toEqual([]);
  }, 600_000);
});
