import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSite } from '../../src/db/repositories/sites.js';
import { BURST_SECONDS, reserveSendSlots } from '../../src/db/repositories/rate-limit.js';
import { sendingConfigs } from '../../src/db/schema.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

let testDb: TestDb;

beforeAll(async () => {
  testDb = await createTestDb();
});
afterAll(() => testDb?.close());

async function seedConfig(maxPerSecond: number): Promise<number> {
  const site = await createSite(testDb.db, { name: 'Rate limited' });
  const [row] = await testDb.db
    .insert(sendingConfigs)
    .values({ siteId: site.id, name: 'limited', provider: 'log', fromEmail: 'hello@example.test', credentialsEncrypted: 'unused', maxPerSecond })
    .returning({ id: sendingConfigs.id });
  return row!.id;
}

describe('per-sending-config rate limit', () => {
  it('spreads 200 sends from concurrent callers at 50 per second over about four seconds', async () => {
    const rate = 50;
    const total = 200;
    const configId = await seedConfig(rate);
    const started = Date.now();
    // Twenty callers at once, as twenty activities on several workers would be.
    const sentAt: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let i = 0; i < total / 20; i++) {
          const wait = await reserveSendSlots(testDb.db, configId, rate);
          await sleep(wait);
          sentAt.push(Date.now());
        }
      }),
    );
    expect(sentAt).toHaveLength(total);
    const span = Math.max(...sentAt) - started;
    // 200 slots at 50/s are 3.98 s apart end to end, less the burst allowance; the lower bound is what
    // the limit guarantees, the upper bound only catches a limiter that serializes far too much.
    const lowerBound = ((total - 1) / rate - BURST_SECONDS) * 1000 - 100;
    expect(span).toBeGreaterThanOrEqual(3500);
    expect(span).toBeGreaterThanOrEqual(lowerBound);
    expect(span).toBeLessThan(15_000);

    // No one-second window holds more than the rate plus the burst allowance (slack for timer jitter).
    sentAt.sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; i < sentAt.length; i++) {
      while (sentAt[i]! - sentAt[j]! >= 1000) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(rate + Math.floor(rate * BURST_SECONDS) + 3);
  }, 30_000);

  it('lets the first send after an idle spell go at once', async () => {
    const configId = await seedConfig(10);
    expect(await reserveSendSlots(testDb.db, configId, 10)).toBe(0);
    await sleep(300);
    // 300 ms idle at 10/s: the slot reserved 100 ms after the first is long past.
    expect(await reserveSendSlots(testDb.db, configId, 10)).toBe(0);
  });

  it('makes the next caller wait for every slot of a batch reservation', async () => {
    const configId = await seedConfig(100);
    expect(await reserveSendSlots(testDb.db, configId, 100, 100)).toBe(0);
    const wait = await reserveSendSlots(testDb.db, configId, 100);
    // A batch of 100 at 100/s occupies one second; the next slot comes after it, less the 0.1 s burst.
    expect(wait).toBeGreaterThan(800);
    expect(wait).toBeLessThanOrEqual(1000);
  });

  it('keeps the budgets of two sending configs apart', async () => {
    const a = await seedConfig(1);
    const b = await seedConfig(1);
    expect(await reserveSendSlots(testDb.db, a, 1)).toBe(0);
    expect(await reserveSendSlots(testDb.db, a, 1)).toBeGreaterThan(900);
    expect(await reserveSendSlots(testDb.db, b, 1)).toBe(0);
  });
});
