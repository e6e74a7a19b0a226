import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  campaignView,
  createCampaign,
  expectCampaignSentExactlyOnce,
  log,
  seededRandom,
  seedAudience,
  useRig,
  waitFor,
  waitForCampaignEnd,
  type Rig,
  type WorkerProcess,
} from './rig.js';

// A 20,000-recipient campaign while the worker process is SIGKILLed at random points: once by itself
// right after a provider call returned (the provider has the emails, the database does not know),
// then by us at random moments while batches are in flight. A new worker process takes over each time.

const TOTAL = 20_000;
let rig: Rig;

useRig((started) => (rig = started));

describe('campaign while the worker is killed', () => {
  it('gives each of 20,000 recipients exactly one email although the worker process is SIGKILLed at random points', async () => {
    const random = seededRandom('campaign worker kills');
    const kills = random.next() < 0.5 ? 2 : 3;
    const firstCrashAfterCalls = random.between(5, 60);
    log(`plan: ${kills} kills; the first worker kills itself after provider call ${firstCrashAfterCalls}`);

    const { listId, addresses } = await seedAudience(rig, TOTAL, 'killed');
    // Paced, so every planned kill lands while the campaign still sends: unthrottled, the last worker can
    // finish the 20,000 before its random moment comes.
    const id = await createCampaign(rig, listId, 'Kill test', 1_500);
    const sent = async () => (await campaignView(rig, id))?.sentCount ?? 0;

    let killedMidCampaign = 0;
    let worker: WorkerProcess = await rig.startWorker({ CRASH_AFTER_PROVIDER_CALLS: String(firstCrashAfterCalls) });
    const exit = await worker.exited;
    expect(exit.signal, worker.output()).toBe('SIGKILL');
    killedMidCampaign += 1;
    log(`worker 1 killed itself after provider call ${firstCrashAfterCalls}; ${await sent()} sent`);

    for (let n = 2; n <= kills; n++) {
      const before = await sent();
      worker = await rig.startWorker();
      // Wait until this worker makes progress (a dead worker's batches come back after their heartbeat
      // timeout), then let it run a random while before killing it mid-send.
      await waitFor(`progress after restart ${n - 1}`, async () => (await sent()) > before || (await campaignView(rig, id))?.status === 'sent', 180_000, 100);
      const delayMs = random.between(0, 3_000);
      await sleep(delayMs);
      const view = await campaignView(rig, id);
      await worker.kill();
      if (view?.status === 'sending') killedMidCampaign += 1;
      log(`worker ${n} SIGKILLed ${delayMs} ms after progress resumed; ${view?.sentCount} sent, status ${view?.status}`);
    }

    worker = await rig.startWorker();
    const end = await waitForCampaignEnd(rig, id, { timeoutMs: 300_000, stallMs: 120_000 });
    log(`campaign ${end.status}: ${end.sentCount} sent`);
    expect(worker.child.exitCode, 'the last worker is still running').toBeNull();

    expect(killedMidCampaign).toBe(kills);
    await expectCampaignSentExactlyOnce(rig, id, addresses);
    // At least one batch reached the provider twice (the self-kill after the call) and was deduplicated.
    expect(rig.fake.requests.some((r) => r.replayed)).toBe(true);
    const pending = await rig.call('GET', `/campaigns/${id}/recipients?status=pending&limit=1`);
    expect(pending.body.pagination.total).toBe(0);
  }, 600_000);
});
