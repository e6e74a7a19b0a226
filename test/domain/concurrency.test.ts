import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/concurrency.js';

describe('mapLimit', () => {
  it('keeps results in input order with at most `limit` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([30, 10, 20, 5, 1], 2, async (ms, i) => {
      peak = Math.max(peak, ++inFlight);
      await sleep(ms);
      inFlight--;
      return `${i}:${ms}`;
    });
    expect(out).toEqual(['0:30', '1:10', '2:20', '3:5', '4:1']);
    expect(peak).toBe(2);
  });

  it('starts nothing after the first failure and rejects only once the calls in flight have settled', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const attempt = mapLimit([0, 1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      started.push(n);
      if (n === 1) {
        await sleep(5);
        throw new Error('database down');
      }
      await sleep(40);
      finished.push(n);
      return n;
    });
    await expect(attempt).rejects.toThrow('database down');
    // 0 and 2 were in flight with the failing 1; they finished before the rejection, and no later item began.
    expect(started.sort()).toEqual([0, 1, 2]);
    expect(finished.sort()).toEqual([0, 2]);
    await sleep(100);
    expect(started).toHaveLength(3);
  });
});
