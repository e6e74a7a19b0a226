import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  campaignView,
  createCampaign,
  expectRecoveredExactlyOnce,
  expectServiceUnavailable,
  expectUnavailable,
  log,
  seededRandom,
  sendTransactional,
  seedAudience,
  useRig,
  waitForFirstEmails,
  type Rig,
} from './rig.js';

// The Temporal dev server is stopped mid-campaign and started again on the same port and SQLite file,
// as an operator restarting it would. The worker process and the API keep their connections and must
// find the server again by themselves; the API answers 503 while it is gone.

const TOTAL = 5_000;
/** Emails per second: 5,000 take 12.5 s, so the fault lands mid-campaign however fast the machine. */
const THROTTLE = 400;
let rig: Rig;

useRig((started) => (rig = started));

describe('Temporal dev server restart', () => {
  it('finishes a campaign exactly once across a restart of the Temporal server, and the API answers 503 while it is down', async () => {
    const random = seededRandom('temporal restart');
    const { listId, addresses } = await seedAudience(rig, TOTAL, 'restart');
    const worker = await rig.startWorker();
    const id = await createCampaign(rig, listId, 'Restart test', THROTTLE);

    await waitForFirstEmails(rig, id);
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
    // The client retries with the same Idempotency-Key; the campaign and that send each go out exactly once.
    await expectRecoveredExactlyOnce(rig, { outage: 'restart', campaignId: id, addresses, worker, retry: { to: 'restart-transactional@example.com', subject: 'During the restart' } });
  }, 600_000);
});
