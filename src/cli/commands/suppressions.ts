import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { ApiClient } from '../api-client.js';
import { CliError } from '../errors.js';
import { resolveApiUrl } from '../instance.js';
import { formatCount } from '../output.js';

const REASONS = ['hard_bounce', 'complaint', 'unsubscribe', 'manual'] as const;

interface SuppressionImportResult {
  imported: number;
  updated: number;
  failed: number;
  total: number;
  errors: { row: number; message: string }[];
}

interface ImportOptions {
  reason: (typeof REASONS)[number];
  apiUrl?: string;
  apiKey?: string;
  showErrors: number;
}

async function fileSize(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new CliError(`Not a file: ${file}`);
    return info.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as { code?: string }).code;
    throw new CliError(code === 'ENOENT' ? `No such file: ${file}` : `Cannot read ${file}: ${code ?? String(err)}`);
  }
}

const kib = (bytes: number) => `${formatCount(Math.ceil(bytes / 1024))} KB`;

/**
 * Streams the file as the request body. The API parses and upserts while the body arrives, so the
 * bytes sent (held back by TCP backpressure) track how far the import has got.
 */
async function upload(api: ApiClient, file: string, reason: string): Promise<SuppressionImportResult> {
  const size = await fileSize(file);
  // Progress goes to stderr so stdout stays the summary; outside a terminal cli-progress prints lines.
  const bar = new cliProgress.SingleBar(
    { format: 'Importing [{bar}] {percentage}% | {sent} of {size}', noTTYOutput: true, notTTYSchedule: 1000, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let sent = 0;
  bar.start(Math.max(size, 1), 0, { sent: kib(0), size: kib(size) });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      bar.update(sent, { sent: kib(sent), size: kib(size) });
      done(null, chunk);
    },
  });
  const body = Readable.toWeb(createReadStream(file).pipe(counter)) as ReadableStream<Uint8Array>;
  try {
    const res = await api.request<SuppressionImportResult>('POST', `/suppressions/import?reason=${reason}`, body, { 'content-type': 'text/csv' });
    bar.update(Math.max(size, 1), { sent: kib(size), size: kib(size) });
    return res.data;
  } finally {
    bar.stop();
  }
}

export function registerSuppressionCommands(program: Command): void {
  const suppressions = program.command('suppressions').description('the suppression list; talks to the HTTP API');

  suppressions
    .command('import')
    .description('suppress every address of a CSV file (columns: email, reason?, note?), then print a summary and the first errors')
    .argument('<file>', 'CSV file with a header row and an email column')
    .addOption(new Option('--reason <reason>', 'reason for rows that give none').choices(REASONS).default('manual'))
    .option('--api-url <url>', 'API base URL (default: TIDINGS_API_URL, else the running `npm start`)')
    .option('--api-key <key>', 'API key (default: TIDINGS_API_KEY)')
    .option('--show-errors <n>', 'how many row errors to print at the end', (v) => Number.parseInt(v, 10), 10)
    .action(async (file: string, opts: ImportOptions) => {
      const apiKey = opts.apiKey ?? process.env.TIDINGS_API_KEY;
      if (!apiKey) {
        throw new CliError('No API key: pass --api-key or set TIDINGS_API_KEY (create one with: tidings keys create --site <id>)');
      }
      const api = new ApiClient(await resolveApiUrl(opts.apiUrl), apiKey);
      const result = await upload(api, file, opts.reason);
      console.log(
        `Imported ${formatCount(result.total)} rows from ${path.basename(file)}: ${formatCount(result.imported)} new suppressions, ` +
          `${formatCount(result.updated)} updated, ${formatCount(result.failed)} errors.`,
      );
      const shown = result.errors.slice(0, Math.max(0, opts.showErrors));
      if (shown.length === 0) return;
      console.log('\nFirst errors:');
      for (const e of shown) console.log(`  row ${e.row}: ${e.message}`);
      const more = result.failed - shown.length;
      if (more > 0) console.log(`  … and ${formatCount(more)} more`);
    });
}
