/**
 * CSV import of 100,000 contacts with the API and the worker as separate processes, as in production:
 * `npm start` with TIDINGS_ROLE=api owns the embedded PostgreSQL and Temporal; a second `npm start`
 * with TIDINGS_ROLE=worker connects to them through DATABASE_URL / TEMPORAL_ADDRESS, so the worker's
 * memory can be read on its own. Uploads through POST /api/v1/contacts/import and polls
 * GET /api/v1/imports/:id until the workflow has finished.
 *
 * Run: npm run bench:import. Writes bench/results/import.json.
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { machineInfo } from './lib/machine.js';
import { memoryOf, sampleMemory, sleep } from './lib/proc.js';
import { writeResult } from './lib/results.js';
import { runBench, since, tempDir } from './lib/run.js';
import { round } from './lib/stats.js';
import { startTidings } from './lib/tidings.js';

const ROWS = 100_000;
const POLL_MS = 500;
const IMPORT_TIMEOUT_MS = 12 * 60_000;

interface ImportView {
  id: number;
  status: 'queued' | 'running' | 'completed' | 'failed';
  totalRows: number | null;
  processedRows: number;
  created: number;
  updated: number;
  errors: number;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** email, first_name, last_name, company and one custom field (cf_plan), all valid, all new. */
async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('email,first_name,last_name,company,cf_plan\n');
  const plans = ['free', 'pro', 'team'];
  for (let i = 0; i < rows; i++) {
    const line = `person${i}@import.example,First${i},Last${i},"Company ${i % 1000}, Inc.",${plans[i % 3]}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

await runBench(
  'import',
  async () => {
    const machine = machineInfo();
    const root = await tempDir('import');
    const csvFile = path.join(root, 'contacts.csv');
    await writeCsv(csvFile, ROWS);
    const csvBytes = (await stat(csvFile)).size;
    console.log(`wrote ${ROWS.toLocaleString('en')} rows (${round(csvBytes / 1024 / 1024)} MB) to ${csvFile}`);

    console.log('starting the API (TIDINGS_ROLE=api, with embedded PostgreSQL and Temporal)…');
    const api = await startTidings({ label: 'api', role: 'api', dataDir: path.join(root, 'api-data'), logDir: root });
    const runtime = await api.runtime();
    console.log('starting the worker (TIDINGS_ROLE=worker) against them…');
    const worker = await startTidings({
      label: 'worker',
      role: 'worker',
      // Its own data dir: the worker writes a runtime.json too, which must not replace the API's.
      dataDir: path.join(root, 'worker-data'),
      logDir: root,
      env: {
        DATABASE_URL: runtime.databaseUrl,
        TEMPORAL_ADDRESS: runtime.temporalAddress,
        TEMPORAL_NAMESPACE: runtime.namespace,
        TIDINGS_SECRET: (await readFile(path.join(api.dataDir, 'secret'), 'utf8')).trim(),
        TIDINGS_API_KEY: api.apiKey,
      },
    });

    const workerAtStart = (await memoryOf(worker.mainPid))!;
    const apiAtStart = (await memoryOf(api.mainPid))!;
    const workerMemory = sampleMemory(worker.mainPid);
    const apiMemory = sampleMemory(api.mainPid);

    const form = new FormData();
    form.append('file', await openAsBlob(csvFile, { type: 'text/csv' }), 'contacts.csv');
    const started = performance.now();
    const upload = await api.request<{ data: { importId: number } }>('POST', '/api/v1/contacts/import', form);
    if (upload.status !== 202) throw new Error(`upload answered ${upload.status}: ${JSON.stringify(upload.body).slice(0, 500)}`);
    const { importId } = upload.body.data;
    console.log(`uploaded in ${round(upload.ms)} ms; import ${importId} running…`);

    let view: ImportView | undefined;
    let lastLog = 0;
    for (;;) {
      const res = await api.request<{ data: ImportView }>('GET', `/api/v1/imports/${importId}`);
      if (res.status !== 200) throw new Error(`GET /imports/${importId} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
      view = res.body.data;
      if (view.status === 'completed' || view.status === 'failed') break;
      if (since(started) > IMPORT_TIMEOUT_MS) throw new Error(`import not finished after ${IMPORT_TIMEOUT_MS / 60_000} min: ${JSON.stringify(view)}`);
      if (since(lastLog) > 5000) {
        lastLog = performance.now();
        console.log(`  ${view.status}: ${view.processedRows.toLocaleString('en')}/${view.totalRows?.toLocaleString('en') ?? '?'} rows`);
      }
      await sleep(POLL_MS);
    }
    const totalMs = since(started);
    const workerPeak = await workerMemory.stop();
    const apiPeak = await apiMemory.stop();
    if (view.status !== 'completed' || view.processedRows !== ROWS || view.created !== ROWS || view.errors !== 0) {
      throw new Error(`import ended wrong: ${JSON.stringify(view)}`);
    }
    const workflowMs = new Date(view.finishedAt!).getTime() - new Date(view.createdAt).getTime();
    await worker.stop();
    await api.stop();

    await writeResult({
      bench: 'import',
      command: 'npm run bench:import',
      machine,
      parameters: {
        rows: ROWS,
        csvBytes,
        columns: 'email, first_name, last_name, company, cf_plan (custom field); every row valid and new',
        processes: 'npm start TIDINGS_ROLE=api (owns embedded PostgreSQL + Temporal dev server) and npm start TIDINGS_ROLE=worker',
        upload: 'one multipart POST /api/v1/contacts/import (field "file") on loopback',
        timing: `from the start of the upload until GET /api/v1/imports/:id (polled every ${POLL_MS} ms) says completed`,
        memory: 'VmHWM / VmRSS from /proc/<pid>/status of the Node process running src/main.ts; VmRSS sampled every 200 ms',
      },
      figures: [
        { key: 'import_rows_per_s', label: 'CSV import 100,000 rows: upload → completed', value: Math.round(ROWS / (totalMs / 1000)), unit: 'rows/s' },
        { key: 'import_total_s', label: 'CSV import 100,000 rows: total time', value: round(totalMs / 1000, 2), unit: 's' },
        { key: 'import_worker_peak_rss_mb', label: 'worker peak RSS (VmHWM, whole life)', value: round(workerPeak.peakRssMb), unit: 'MB' },
        { key: 'import_worker_max_rss_during_mb', label: 'worker max RSS during the import (sampled)', value: round(workerPeak.maxRssMb), unit: 'MB' },
        { key: 'import_worker_rss_before_mb', label: 'worker RSS before the import (idle)', value: round(workerAtStart.rssMb), unit: 'MB' },
      ],
      details: {
        importId,
        uploadMs: round(upload.ms),
        workflowS: round(workflowMs / 1000, 2),
        final: view,
        worker: { peakBeforeImportMb: round(workerAtStart.peakRssMb), samples: workerPeak.samples },
        api: {
          rssBeforeMb: round(apiAtStart.rssMb),
          maxRssDuringMb: round(apiPeak.maxRssMb),
          peakRssMb: round(apiPeak.peakRssMb),
        },
      },
    });
  },
  { timeoutMs: 15 * 60_000 },
);
