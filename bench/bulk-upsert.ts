/**
 * Bulk upsert: POST /api/v1/contacts/bulk with 1,000 contacts per request, one request at a time,
 * against a fresh `npm start`. The first half of the requests create new contacts, the second half
 * update the same ones; latency per request and contacts per second over all of them.
 *
 * Run: npm run bench:bulk-upsert. Writes bench/results/bulk-upsert.json.
 */
import { machineInfo } from './lib/machine.js';
import { writeResult } from './lib/results.js';
import { runBench } from './lib/run.js';
import { round, summarize } from './lib/stats.js';
import { startTidings } from './lib/tidings.js';

const REQUESTS = 50;
const PER_REQUEST = 1000;
/** Untimed requests first, so the figures are about the API and not about JIT compilation of the first one. */
const WARMUP = 2;

interface BulkResult {
  data: { created: number; updated: number; ids: number[] };
}

function batch(kind: 'warmup' | 'insert' | 'update', index: number) {
  return Array.from({ length: PER_REQUEST }, (_, j) => {
    const n = index * PER_REQUEST + j;
    return {
      email: `${kind === 'warmup' ? 'warmup' : 'contact'}-${n}@bench.example`,
      firstName: kind === 'update' ? `Grace${n}` : `Ada${n}`,
      lastName: `Lovelace${n}`,
      company: `Company ${n % 500}`,
      customFields: { plan: kind === 'update' ? 'pro' : 'free', seq: n },
    };
  });
}

await runBench(
  'bulk-upsert',
  async () => {
    const machine = machineInfo();
    console.log('starting Tidings…');
    const tidings = await startTidings({ label: 'bulk-upsert' });

    const post = async (contacts: ReturnType<typeof batch>, expect: { created: number; updated: number }) => {
      const res = await tidings.request<BulkResult>('POST', '/api/v1/contacts/bulk', { contacts });
      if (res.status !== 200 && res.status !== 201) throw new Error(`bulk upsert answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
      const { created, updated } = res.body.data;
      if (created !== expect.created || updated !== expect.updated) {
        throw new Error(`bulk upsert reported created=${created} updated=${updated}, expected ${JSON.stringify(expect)}`);
      }
      return res.ms;
    };

    for (let i = 0; i < WARMUP; i++) await post(batch('warmup', i), { created: PER_REQUEST, updated: 0 });

    const half = REQUESTS / 2;
    const inserts: number[] = [];
    const updates: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const isInsert = i < half;
      const ms = await post(batch(isInsert ? 'insert' : 'update', i % half), {
        created: isInsert ? PER_REQUEST : 0,
        updated: isInsert ? 0 : PER_REQUEST,
      });
      (isInsert ? inserts : updates).push(ms);
      if ((i + 1) % 10 === 0) console.log(`  ${i + 1}/${REQUESTS} requests`);
    }
    await tidings.stop();

    const all = [...inserts, ...updates];
    const s = summarize(all);
    const totalMs = all.reduce((a, b) => a + b, 0);
    await writeResult({
      bench: 'bulk-upsert',
      command: 'npm run bench:bulk-upsert',
      machine,
      parameters: {
        requests: REQUESTS,
        contactsPerRequest: PER_REQUEST,
        warmupRequests: WARMUP,
        concurrency: 1,
        mix: `${half} requests of new emails, then ${half} updating the same contacts`,
        contact: 'email, firstName, lastName, company, customFields {plan, seq}',
        instance: 'npm start (TIDINGS_ROLE=all, embedded PostgreSQL and Temporal) on loopback',
        percentiles: 'nearest rank; ms per request including the HTTP round trip on loopback',
      },
      figures: [
        { key: 'bulk_p50_ms', label: 'bulk upsert 1,000 contacts: p50', value: round(s.p50), unit: 'ms' },
        { key: 'bulk_p99_ms', label: 'bulk upsert 1,000 contacts: p99', value: round(s.p99), unit: 'ms' },
        { key: 'bulk_max_ms', label: 'bulk upsert 1,000 contacts: max', value: round(s.max), unit: 'ms' },
        { key: 'bulk_insert_p50_ms', label: 'new contacts only: p50', value: round(summarize(inserts).p50), unit: 'ms' },
        { key: 'bulk_update_p50_ms', label: 'updates only: p50', value: round(summarize(updates).p50), unit: 'ms' },
        { key: 'bulk_contacts_per_s', label: 'throughput (sequential requests)', value: Math.round((all.length * PER_REQUEST) / (totalMs / 1000)), unit: 'contacts/s' },
      ],
      details: { insertMs: inserts.map((v) => round(v)), updateMs: updates.map((v) => round(v)), summaryMs: { ...s, mean: round(s.mean) } },
    });
  },
  { timeoutMs: 8 * 60_000 },
);
