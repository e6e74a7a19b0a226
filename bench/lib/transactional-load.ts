import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeResend, RecordedRequest } from '../../test/helpers/fake-resend.js';
import { since } from './run.js';
import { summarize, type Summary } from './stats.js';

/**
 * The transactional load of bench/transactional.ts, shared with the benches that run it in other
 * setups (bench/production-shape.ts): concurrent `POST /api/v1/send` clients against a running API,
 * every email followed to the fake Resend server.
 */

/**
 * When each email reached the fake provider, by the bench token in its subject. The fake records a
 * request the moment it arrives; observing that array's pushes is the least intrusive clock we have.
 */
export function arrivalClock(fake: FakeResend): Map<string, number> {
  const arrivals = new Map<string, number>();
  const push = fake.requests.push.bind(fake.requests);
  fake.requests.push = (...records: RecordedRequest[]) => {
    const now = performance.now();
    for (const r of records) {
      const subject = (r.body as { subject?: unknown } | undefined)?.subject;
      if (r.path === '/emails' && typeof subject === 'string' && !arrivals.has(subject)) arrivals.set(subject, now);
    }
    return push(...records);
  };
  return arrivals;
}

export interface RoundResult {
  concurrency: number;
  requests: number;
  accepted: number;
  acceptedPerSecond: number;
  acceptMs: Summary;
  toProviderMs: Summary;
  allDeliveredSeconds: number;
  emailsAtProvider: number;
}

export interface SendRoundOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:3000`. */
  base: string;
  apiKey: string;
  fake: FakeResend;
  /** From {@link arrivalClock}, installed on `fake` before the first round. */
  arrivals: Map<string, number>;
  configId: number;
  concurrency: number;
  /** Unique per round: it goes into every subject, which is how arrivals are matched. */
  label: string;
  count: number;
}

/**
 * `count` × `POST /send` from `concurrency` concurrent clients: requests/s accepted (202s over the wall
 * time of the POST phase) and the 202 latency; then waits until every email reached the provider
 * exactly once, for the latency from starting each POST to its arrival.
 */
export async function sendRound(o: SendRoundOptions): Promise<RoundResult> {
  const { base, apiKey, fake, arrivals, configId, concurrency, label, count } = o;
  const postedAt = new Map<string, number>();
  const acceptMs: number[] = [];
  let next = 0;
  let accepted = 0;
  const failures: string[] = [];
  const started = performance.now();
  const client = async () => {
    while (next < count) {
      const i = next++;
      const subject = `bench ${label} #${i}`;
      // Serialised before the clock starts: the figures are the server's time plus the wire.
      const body = JSON.stringify({
        to: `person${i}@example.com`,
        subject,
        html: `<p>Hello {{ name }}, this is message ${i}.</p>`,
        variables: { name: `Person ${i}` },
        sendingConfigId: configId,
      });
      const t = performance.now();
      postedAt.set(subject, t);
      const res = await fetch(`${base}/api/v1/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body,
      });
      const text = await res.text();
      acceptMs.push(since(t));
      if (res.status === 202) accepted += 1;
      else failures.push(`${res.status} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const postSeconds = since(started) / 1000;
  if (failures.length) throw new Error(`${failures.length} requests were not accepted, e.g. ${failures[0]}`);

  const deadline = Date.now() + 5 * 60_000;
  while ([...postedAt.keys()].some((s) => !arrivals.has(s))) {
    if (Date.now() > deadline) throw new Error(`not every email of round ${label} reached the provider within 5 minutes`);
    await sleep(5);
  }
  const allDeliveredSeconds = since(started) / 1000;
  const toProvider = [...postedAt].map(([subject, t]) => arrivals.get(subject)! - t);
  const emailsAtProvider = fake.emails.filter((e) => e.payload.subject.startsWith(`bench ${label} #`)).length;
  if (emailsAtProvider !== count) throw new Error(`round ${label}: ${emailsAtProvider} emails accepted by the provider for ${count} requests`);
  return {
    concurrency,
    requests: count,
    accepted,
    acceptedPerSecond: accepted / postSeconds,
    acceptMs: summarize(acceptMs),
    toProviderMs: summarize(toProvider),
    allDeliveredSeconds,
    emailsAtProvider,
  };
}
