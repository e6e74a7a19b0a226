import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { ApiClient } from '../api-client.js';
import { CliError, positiveInt } from '../errors.js';
import { resolveApiUrl } from '../instance.js';
import { formatCount } from '../output.js';

/** The fields of `GET /campaigns/:id` the follower shows. */
export interface CampaignProgressView {
  id: number;
  name: string;
  status: 'draft' | 'scheduled' | 'sending' | 'sent' | 'paused' | 'cancelled' | 'failed';
  scheduledAt: string | null;
  pausedReason: string | null;
  totalRecipients: number;
  sentCount: number;
  failedCount: number;
  suppressedCount: number;
  skippedCount: number;
  progress: number;
}

interface FollowOptions {
  apiUrl?: string;
  apiKey?: string;
  interval: number;
}

const FINISHED = new Set(['sent', 'cancelled', 'failed', 'draft']);
/** Consecutive failed polls tolerated (API restarting) before giving up on following. */
const MAX_POLL_FAILURES = 20;

/**
 * Polls the campaign until it is finished and shows a progress bar over its recipients (settled =
 * sent + failed + suppressed + skipped). Waiting for a scheduled time and pauses are printed as
 * lines, since the bar cannot move then.
 */
export async function followCampaign(api: ApiClient, id: number, intervalMs: number): Promise<CampaignProgressView> {
  const bar = new cliProgress.SingleBar(
    {
      format: 'Sending [{bar}] {percentage}% | {value}/{total} recipients | {sent} sent, {failed} failed, {suppressed} suppressed, {skipped} skipped | {status}',
      noTTYOutput: true,
      notTTYSchedule: 1000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let failures = 0;
  let lastNote = '';
  const note = (line: string) => {
    if (line === lastNote) return;
    lastNote = line;
    process.stderr.write(`${line}\n`);
  };
  const stop = () => {
    if (started) bar.stop();
    started = false;
  };
  const onSigint = () => {
    stop();
    process.stderr.write(`\nStopped following. Campaign ${id} continues; check it with GET ${api.baseUrl}/api/v1/campaigns/${id}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      let view: CampaignProgressView;
      try {
        view = (await api.request<CampaignProgressView>('GET', `/campaigns/${id}`)).data;
        failures = 0;
      } catch (err) {
        if (err instanceof CliError && /\b404\b|not found/i.test(err.message)) throw err;
        if (++failures >= MAX_POLL_FAILURES) throw err;
        await sleep(intervalMs);
        continue;
      }
      if (view.status === 'scheduled') note(`Campaign ${id} is scheduled for ${view.scheduledAt ?? 'now'}; waiting…`);
      if (view.status === 'paused') note(`Campaign ${id} is paused${view.pausedReason ? `: ${view.pausedReason}` : ''}`);
      if (view.totalRecipients > 0 || view.status !== 'scheduled') {
        const settled = view.sentCount + view.failedCount + view.suppressedCount + view.skippedCount;
        const payload = {
          sent: formatCount(view.sentCount),
          failed: formatCount(view.failedCount),
          suppressed: formatCount(view.suppressedCount),
          skipped: formatCount(view.skippedCount),
          status: view.status,
        };
        if (!started) {
          bar.start(Math.max(view.totalRecipients, 1), settled, payload);
          started = true;
        }
        bar.setTotal(Math.max(view.totalRecipients, 1));
        bar.update(settled, payload);
      }
      if (FINISHED.has(view.status)) return view;
      await sleep(intervalMs);
    }
  } finally {
    stop();
    process.removeListener('SIGINT', onSigint);
  }
}

export function registerCampaignCommands(program: Command): void {
  const campaigns = program.command('campaigns').description('campaigns; talks to the HTTP API');

  campaigns
    .command('follow')
    .description('show a campaign’s progress until it has finished')
    .argument('<id>', 'campaign id', positiveInt('<id>'))
    .option('--api-url <url>', 'API base URL (default: TIDINGS_API_URL, else the running `npm start`)')
    .option('--api-key <key>', 'API key (default: TIDINGS_API_KEY)')
    .option('--interval <ms>', 'progress poll interval', positiveInt('--interval'), 500)
    .action(async (id: number, opts: FollowOptions) => {
      const apiKey = opts.apiKey ?? process.env.TIDINGS_API_KEY;
      if (!apiKey) throw new CliError('No API key: pass --api-key or set TIDINGS_API_KEY (create one with: tidings keys create --site <id>)');
      const api = new ApiClient(await resolveApiUrl(opts.apiUrl), apiKey);
      const view = await followCampaign(api, id, opts.interval);
      const summary =
        `Campaign ${view.id} (${view.name}) is ${view.status}: ${formatCount(view.sentCount)} sent, ${formatCount(view.failedCount)} failed, ` +
        `${formatCount(view.suppressedCount)} suppressed, ${formatCount(view.skippedCount)} skipped of ${formatCount(view.totalRecipients)} recipients.`;
      if (view.status === 'failed') throw new CliError(summary);
      console.log(summary);
    });
}
