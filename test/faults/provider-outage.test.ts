import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { FakeResendMode } from '../helpers/fake-resend.js';
import {
  campaignView,
  createCampaign,
  expectCampaignSentExactlyOnce,
  exactlyOnceViolations,
  log,
  seededRandom,
  sendTransactional,
  seedAudience,
  useRig,
  waitForFirstEmails,
  waitForCampaignEnd,
  waitForSends,
  type Rig,
} from './rig.js';

// The provider misbehaves for a while in the middle of a campaign and of a stream of transactional
// sends: 500s, 429s with retry-after, requests that never get an answer, and requests it accepts but
// whose answer is lost (the worst case: only the Idempotency-Key stops a duplicate). The worker's
// provider timeout is 2 s here so a hung request costs seconds, not the production 30 s.

const TOTAL = 5_000;
/** Emails per second: 5,000 take 12.5 s, so the fault lands mid-campaign however fast the machine. */
const THROTTLE = 400;
const TRANSACTIONAL_PER_PHASE = 6;
const FAULTS: FakeResendMode[] = ['server_error', 'rate_limited', 'hang_after_accept', 'hang'];
let rig: Rig;

useRig((started) => (rig = started));

describe('provider faults', () => {
  it('delivers every campaign and transactional email exactly once, and none fails for good, after the provider answered 500, 429 and timed out for a while', async () => {
    const random = seededRandom('provider faults');
    // A random order and length for each fault phase; short, because every attempt that meets a fault
    // doubles the next retry's backoff (1 s, 2 s, 4 s, ...), and that is what the suite waits for after.
    const phases = FAULTS.map((mode) => ({ mode, ms: random.between(1_500, 3_000), order: random.next() }))
      .sort((a, b) => a.order - b.order)
      .map(({ mode, ms }) => ({ mode, ms }));
    log(`plan: ${phases.map((p) => `${p.mode} ${p.ms} ms`).join(', ')}`);

    const { listId, addresses } = await seedAudience(rig, TOTAL, 'flaky');
    const worker = await rig.startWorker({ PROVIDER_TIMEOUT_MS: '2000' });
    const id = await createCampaign(rig, listId, 'Provider test', THROTTLE);
    await waitForFirstEmails(rig, id, 50);

    const firstFaultyRequest = rig.fake.requests.length;
    const sendIds: number[] = [];
    const transactionalTo: string[] = [];
    for (const [p, phase] of phases.entries()) {
      rig.fake.setMode(phase.mode);
      const view = await campaignView(rig, id);
      log(`provider now ${phase.mode}; campaign ${view?.status} with ${view?.sentCount} sent`);
      if (p === 0) expect(view?.status, 'the faults begin while the campaign is sending').toBe('sending');
      const phaseEnd = Date.now() + phase.ms;
      for (let i = 0; i < TRANSACTIONAL_PER_PHASE; i++) {
        const to = `transactional-${p}-${i}@example.com`;
        const res = await sendTransactional(rig, to, 'Your receipt');
        expect(res.status, res.text).toBe(202);
        sendIds.push(res.body.data.sendId);
        transactionalTo.push(to);
        await sleep(Math.max(0, (phaseEnd - Date.now()) / (TRANSACTIONAL_PER_PHASE - i)));
      }
      await sleep(Math.max(0, phaseEnd - Date.now()));
    }
    rig.fake.setMode('ok');
    log('provider healthy again');

    const faulty = rig.fake.requests.slice(firstFaultyRequest);
    const summary = {
      500: faulty.filter((r) => r.status === 500).length,
      429: faulty.filter((r) => r.status === 429).length,
      hung: faulty.filter((r) => r.hung).length,
      acceptedThenHung: faulty.filter((r) => r.hung && r.status === 200).length,
    };
    log(`faulty answers: ${JSON.stringify(summary)}`);
    expect(summary[500]).toBeGreaterThan(0);
    expect(summary[429]).toBeGreaterThan(0);
    expect(summary.hung).toBeGreaterThan(0);
    expect(summary.acceptedThenHung).toBeGreaterThan(0);
    expect(faulty.some((r) => r.path === '/emails/batch' && (r.status >= 429 || r.hung)), 'campaign batches were hit').toBe(true);
    expect(faulty.some((r) => r.path === '/emails' && (r.status >= 429 || r.hung)), 'transactional sends were hit').toBe(true);

    const end = await waitForCampaignEnd(rig, id, { timeoutMs: 300_000, stallMs: 120_000, worker });
    log(`campaign ${end.status}: ${end.sentCount} sent`);
    await expectCampaignSentExactlyOnce(rig, id, addresses);

    const statuses = await waitForSends(rig, sendIds, 300_000);
    expect([...new Set(statuses.values())]).toEqual(['sent']);
    const receipts = rig.fake.emails.filter((e) => e.payload.subject === 'Your receipt');
    expect(exactlyOnceViolations(receipts, transactionalTo)).toEqual([]);
    // Answers lost after acceptance were retried under the same key and replayed, not sent again.
    expect(rig.fake.requests.some((r) => r.replayed)).toBe(true);
    expect(worker.child.exitCode).toBeNull();
  }, 600_000);
});
