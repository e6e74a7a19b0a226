import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { ImportProgress } from '../../domain/csv-import.js';
import { ApiClient } from '../api-client.js';
import { CliError, positiveInt } from '../errors.js';
import { resolveApiUrl } from '../instance.js';
import { formatCount } from '../output.js';

interface ImportView extends ImportProgress {
  id: number;
  filename: string | null;
  workflowId: string;
  error: string | null;
}

interface ImportErrorView {
  row: number;
  message: string;
}

interface ImportOptions {
  list?: number[];
  tag?: string[];
  apiUrl?: string;
  apiKey?: string;
  /** Poll interval in ms. */
  interval: number;
  /** Errors printed after the summary. */
  showErrors: number;
}

const collect = <T>(parse: (v: string) => T) => (value: string, previous: T[] | undefined) => [...(previous ?? []), parse(value)];

/** Consecutive failed polls tolerated (API restarting) before giving up on watching. */
const MAX_POLL_FAILURES = 20;

async function readCsv(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CliError(code === 'ENOENT' ? `No such file: ${file}` : `Cannot read ${file}: ${code ?? String(err)}`);
  }
}

async function watch(api: ApiClient, importId: number, intervalMs: number): Promise<ImportView> {
  // Progress goes to stderr (the default), so stdout stays the summary; outside a terminal
  // (CI logs, pipes) cli-progress prints a line per tick instead of redrawing one.
  const bar = new cliProgress.SingleBar(
    {
      format: 'Importing [{bar}] {percentage}% | {value}/{total} rows | {created} created, {updated} updated, {errors} errors',
      noTTYOutput: true,
      notTTYSchedule: 1000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let failures = 0;
  const stop = () => {
    if (started) bar.stop();
    started = false;
  };
  const onSigint = () => {
    stop();
    process.stderr.write(
      `\nStopped watching. Import ${importId} continues in the background; check it with GET ${api.baseUrl}/api/v1/imports/${importId}\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      let view: ImportView;
      try {
        view = (await api.request<ImportView>('GET', `/imports/${importId}`)).data;
        failures = 0;
      } catch (err) {
        if (++failures >= MAX_POLL_FAILURES) throw err;
        await sleep(intervalMs);
        continue;
      }
      const payload = { created: formatCount(view.created), updated: formatCount(view.updated), errors: formatCount(view.errors) };
      if (view.totalRows !== null) {
        if (!started) {
          bar.start(view.totalRows, view.processedRows, payload);
          started = true;
        }
        bar.setTotal(view.totalRows);
        bar.update(view.processedRows, payload);
      }
      if (view.status === 'completed' || view.status === 'failed') return view;
      await sleep(intervalMs);
    }
  } finally {
    stop();
    process.removeListener('SIGINT', onSigint);
  }
}

async function printErrors(api: ApiClient, view: ImportView, limit: number): Promise<void> {
  if (view.errors === 0 || limit === 0) return;
  const { data, pagination } = await api.request<ImportErrorView[]>('GET', `/imports/${view.id}/errors?limit=${Math.min(limit, 100)}`);
  console.log(`\nFirst errors:`);
  for (const e of data) console.log(`  row ${e.row}: ${e.message}`);
  const more = (pagination?.total ?? data.length) - data.length;
  if (more > 0) console.log(`  … and ${formatCount(more)} more: GET ${api.baseUrl}/api/v1/imports/${view.id}/errors`);
}

export function registerContactCommands(program: Command): void {
  const contacts = program.command('contacts').description('contacts; talks to the HTTP API');

  contacts
    .command('import')
    .description('import contacts from a CSV file and show progress until done')
    .argument('<file>', 'CSV file with an email column (and first_name, last_name, tags, cf_<name>, …)')
    .option('--list <id>', 'add every imported contact to this list (repeatable)', collect(positiveInt('--list')))
    .option('--tag <name>', 'tag every imported contact (repeatable)', collect(String))
    .option('--api-url <url>', 'API base URL (default: TIDINGS_API_URL, else the running `npm start`)')
    .option('--api-key <key>', 'API key (default: TIDINGS_API_KEY)')
    .option('--interval <ms>', 'progress poll interval', positiveInt('--interval'), 500)
    .option('--show-errors <n>', 'how many row errors to print at the end', (v) => Number.parseInt(v, 10), 10)
    .action(async (file: string, opts: ImportOptions) => {
      const apiKey = opts.apiKey ?? process.env.TIDINGS_API_KEY;
      if (!apiKey) {
        throw new CliError('No API key: pass --api-key or set TIDINGS_API_KEY (create one with: tidings keys create --site <id>)');
      }
      const api = new ApiClient(await resolveApiUrl(opts.apiUrl), apiKey);
      const content = await readCsv(file);

      const form = new FormData();
      form.append('file', new Blob([content], { type: 'text/csv' }), path.basename(file));
      for (const id of opts.list ?? []) form.append('listIds', String(id));
      for (const tag of opts.tag ?? []) form.append('tags', tag);
      const started = await api.request<{ importId: number; workflowId: string }>('POST', '/contacts/import', form);
      const { importId, workflowId } = started.data;
      console.error(`Import ${importId} started (workflow ${workflowId}).`);

      const view = await watch(api, importId, opts.interval);
      if (view.status === 'failed') {
        throw new CliError(`Import ${importId} failed: ${view.error ?? 'unknown reason'}`);
      }
      console.log(
        `Imported ${formatCount(view.processedRows)} rows from ${view.filename ?? path.basename(file)}: ` +
          `${formatCount(view.created)} created, ${formatCount(view.updated)} updated, ${formatCount(view.errors)} errors.`,
      );
      await printErrors(api, view, opts.showErrors);
    });
}
