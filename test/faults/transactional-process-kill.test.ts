import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { sends } from '../../src/db/schema.js';
import { findFreePort } from '../../src/embedded/ports.js';
import { log, seededRandom, useRig, waitFor, type Rig } from './rig.js';

// A burst of 2,000 `POST /send` against the product as `npm start` runs it (API and workers in one
// process, sends started eagerly on its own worker), SIGKILLed at a random point of the burst. The
// clients do what a well-behaved client does: a request that got no answer is retried, with the same
// Idempotency-Key, until it gets its 202 from the restarted process. Every 202 must end in exactly one
// email at the provider, and no request in more than one.

const TOTAL = 2_000;
const CLIENTS = 20;
let rig: Rig;

useRig((started) => (rig = started));

interface Request {
  index: number;
  key: string;
  subject: string;
  sendId?: number;
  /** Attempts that got no answer (connection refused or reset by the kill). */
  unanswered: number;
  /** Attempts answered 409 because the killed process still held the key. */
  inProgress: number;
}

describe('transactional burst while the accepting process is killed', () => {
  it('delivers every accepted send exactly once although the process that accepted it was SIGKILLed mid-burst', async () => {
    const random = seededRandom('transactional process kill');
    const killAfterAccepted = random.between(TOTAL * 0.2, TOTAL * 0.7);
    log(`plan: SIGKILL the product after ${killAfterAccepted} of ${TOTAL} sends were accepted`);
    const port = await findFreePort();
    let product = await rig.startProduct(port);

    const requests: Request[] = Array.from({ length: TOTAL }, (_, index) => ({
      index,
      key: randomUUID(),
      subject: `burst #${index} ${randomUUID().slice(0, 8)}`,
      unanswered: 0,
      inProgress: 0,
    }));
    let accepted = 0;

    const post = async (r: Request): Promise<void> => {
      for (;;) {
        const res = await fetch(`${product.url}/api/v1/send`, {
          method: 'POST',
          headers: { authorization: `Bearer ${rig.apiKey}`, 'content-type': 'application/json', 'idempotency-key': r.key },
          body: JSON.stringify({ to: `burst-${r.index}@example.com`, subject: r.subject, html: '<p>Your code is 123456</p>', sendingConfigId: rig.configId }),
        }).catch(() => null);
        if (res?.status === 202) {
          r.sendId = ((await res.json()) as { data: { sendId: number } }).data.sendId;
          accepted += 1;
          return;
        }
        // Retry as a client would: on no answer (the process is gone or restarting), on a 503 while it
        // comes back, and on 409 idempotency_in_progress with its Retry-After: the killed process's claim
        // on the key, which the API takes over once it is a minute old.
        if (!res) r.unanswered += 1;
        else {
          const text = await res.text();
          expect(res.status === 503 || (res.status === 409 && text.includes('idempotency_in_progress')), `${res.status} ${text}`).toBe(true);
          if (res.status === 409) r.inProgress += 1;
        }
        await sleep(res?.status === 409 ? 1_000 : 200);
      }
    };

    let next = 0;
    const client = async () => {
      while (next < requests.length) await post(requests[next++]!);
    };
    const burst = Promise.all(Array.from({ length: CLIENTS }, client));

    await waitFor('the kill point', async () => accepted >= killAfterAccepted, 300_000, 5);
    const killedProduct = product;
    await killedProduct.kill();
    expect((await killedProduct.exited).signal).toBe('SIGKILL');
    const acceptedBeforeKill = accepted;
    const sentBeforeKill = rig.fake.emails.length;
    log(`SIGKILLed the product with ${acceptedBeforeKill} sends accepted and ${sentBeforeKill} at the provider`);
    product = await rig.startProduct(port);
    log('product restarted');
    await burst;

    const ids = requests.map((r) => r.sendId!);
    expect(new Set(ids).size, 'one send per request').toBe(TOTAL);
    // The kill cut requests off mid-flight; their retries carried the same key.
    expect(requests.some((r) => r.unanswered > 0)).toBe(true);
    log(`${requests.filter((r) => r.unanswered > 0).length} requests retried after no answer, ${requests.filter((r) => r.inProgress > 0).length} after 409 in progress`);

    await waitFor('every accepted send at the provider', async () => rig.fake.emails.length >= TOTAL, 300_000, 250);
    await sleep(2_000); // a duplicate would arrive now
    const bySubject = new Map<string, number>();
    for (const email of rig.fake.emails) bySubject.set(email.payload.subject, (bySubject.get(email.payload.subject) ?? 0) + 1);
    const missing = requests.filter((r) => !bySubject.has(r.subject)).map((r) => r.index);
    const duplicated = requests.filter((r) => (bySubject.get(r.subject) ?? 0) > 1).map((r) => r.index);
    expect(missing, 'accepted sends that never reached the provider').toEqual([]);
    expect(duplicated, 'sends that reached the provider more than once').toEqual([]);
    expect(rig.fake.emails).toHaveLength(TOTAL);

    // And the send log says so: every row sent, once.
    await waitFor(
      'every send recorded as sent',
      async () => {
        const rows = await rig.db.select({ status: sends.status }).from(sends).where(inArray(sends.id, ids));
        return rows.length === TOTAL && rows.every((row) => row.status === 'sent');
      },
      60_000,
    );
    expect(product.child.exitCode, 'the restarted product is still running').toBeNull();
  }, 600_000);
});
