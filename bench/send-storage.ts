/**
 * Disk cost of the send log per campaign email.
 *
 *   npx tsx bench/send-storage.ts      (RECIPIENTS=10000 by default)
 *
 * Starts a throwaway embedded PostgreSQL, seeds RECIPIENTS contacts, and sends one campaign with a
 * ~2 KB newsletter template (tracked links, pixel, unsubscribe link) through the campaign activities
 * themselves (no Temporal: storage does not depend on it) and the `log` provider. Then measures the
 * `sends` table (heap, TOAST and indexes: pg_total_relation_size) per send row, and scales it to
 * 1,000,000 campaign emails. Run on two branches to compare; writes bench/results/send-storage.json.
 */
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { createCampaignActivities } from '../activities/campaign.js';
import { createSecretBox } from '../src/crypto/secret-box.js';
import { createDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { insertCampaign } from '../src/db/repositories/campaigns.js';
import { createSendingConfig } from '../src/db/repositories/sending-configs.js';
import { createSite } from '../src/db/repositories/sites.js';
import { startEmbeddedPostgres } from '../src/embedded/postgres.js';
import { findFreePort } from '../src/embedded/ports.js';
import { createLogger } from '../src/logger.js';
import { createMailers } from '../src/mail/from-config.js';
import { createLinks } from '../src/mail/links.js';
import { machineInfo } from './lib/machine.js';
import { writeResult } from './lib/results.js';
import { onCleanup, runBench, tempDir } from './lib/run.js';
import { benchPostgresFlags, seedBenchList } from './lib/services.js';

const RECIPIENTS = Number(process.env.RECIPIENTS ?? 10_000);
const SECRET = 'bench-send-storage-secret-0123456789abcdefgh';
const EMAILS = 1_000_000;

/** A newsletter of about 2 KB of Liquid source: a header, three stories with links, a footer. */
const story = (n: number) => `
      <tr><td style="padding:16px 24px;font-family:Helvetica,Arial,sans-serif;font-size:15px;line-height:22px;color:#1f2937">
        <h2 style="margin:0 0 8px;font-size:18px;color:#111827">Story ${n}: what changed this month</h2>
        <p style="margin:0 0 8px">We shipped the improvements you asked for, {{ firstName | default: "friend" }}. Here is a short summary of each one and why it matters for your team.</p>
        <a href="https://news.example.test/stories/${n}?utm_source=newsletter&amp;utm_medium=email" style="color:#2563eb">Read story ${n}</a>
      </td></tr>`;
const TEMPLATE = {
  subject: 'Your monthly update, {{ firstName }}',
  html: `<!doctype html><html><body style="margin:0;background:#f3f4f6">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
    <table role="presentation" width="600" cellpadding="0" cellspacing="0" style="background:#ffffff">
      <tr><td style="padding:24px;font-family:Helvetica,Arial,sans-serif;font-size:22px;color:#111827">Hello {{ firstName }},</td></tr>${[1, 2, 3].map(story).join('')}
      <tr><td style="padding:24px;font-family:Helvetica,Arial,sans-serif;font-size:12px;color:#6b7280">You get this because you subscribed at example.test. <a href="{{ unsubscribeUrl }}" style="color:#6b7280">Unsubscribe</a></td></tr>
    </table>
  </td></tr></table>
</body></html>`,
};

async function main(): Promise<void> {
  const tmp = await tempDir('send-storage');
  const pg = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port: await findFreePort(), database: 'bench', postgresFlags: benchPostgresFlags() });
  onCleanup('stop PostgreSQL', () => pg.stop());
  const { db, close } = createDatabase(pg.databaseUrl);
  onCleanup('close the database', close);
  await runMigrations(db);

  const secretBox = createSecretBox(SECRET);
  const siteId = (await createSite(db, { name: 'Storage' })).id;
  const config = await createSendingConfig(db, secretBox, siteId, { name: 'Log', provider: 'log', fromEmail: 'news@example.test', credentials: {} });
  const listId = await seedBenchList(db, siteId, { name: 'Everyone', count: RECIPIENTS, prefix: 'reader', firstName: 'Reader' });
  const campaign = await insertCampaign(db, {
    siteId,
    name: 'Monthly',
    ...TEMPLATE,
    audience: { listIds: [listId] },
    sendingConfigId: config.id,
    status: 'scheduled',
  });

  const mailers = createMailers();
  onCleanup('close the mailers', () => mailers.close());
  const activities = createCampaignActivities({
    db,
    logger: createLogger('silent'),
    secretBox,
    mailers,
    links: createLinks({ secret: SECRET, publicUrl: 'https://mail.example.test' }),
  });
  await activities.freezeCampaignAudience({ campaignId: campaign.id, startedAt: new Date().toISOString() });
  let sent = 0;
  for (let afterId = 0; ; ) {
    const plan = await activities.planCampaignBatches({ campaignId: campaign.id, afterId });
    if (plan.ranges.length === 0) break;
    for (const range of plan.ranges) sent += (await activities.sendCampaignBatch({ campaignId: campaign.id, ...range })).sent;
    afterId = plan.ranges.at(-1)!.uptoId;
  }
  if (sent !== RECIPIENTS) throw new Error(`sent ${sent} of ${RECIPIENTS}`);

  // Settled sizes: dead tuples from the status updates are vacuumed, as autovacuum would.
  await db.execute(sql`vacuum analyze sends`);
  const [size] = (
    await db.execute<{ total: string; heap: string; toast: string; indexes: string; rows: string; row_bytes: string }>(sql`
      select pg_total_relation_size('sends') as total,
             pg_relation_size('sends') as heap,
             coalesce(pg_total_relation_size(nullif(reltoastrelid, 0)), 0) as toast,
             pg_indexes_size('sends') as indexes,
             (select count(*) from sends) as rows,
             (select avg(pg_column_size(s.*)) from sends s) as row_bytes
      from pg_class where relname = 'sends'`)
  ).rows;
  const rows = Number(size!.rows);
  const perRow = (v: string) => Math.round(Number(v) / rows);
  const totalPerRow = Number(size!.total) / rows;
  await writeResult({
    bench: 'send-storage',
    command: `RECIPIENTS=${RECIPIENTS} npx tsx bench/send-storage.ts`,
    machine: machineInfo(),
    parameters: { recipients: RECIPIENTS, templateBytes: Buffer.byteLength(TEMPLATE.html), tracking: 'opens and clicks' },
    figures: [
      { key: 'bytes_per_send', label: 'sends table per campaign email (heap + TOAST + indexes)', value: Math.round(totalPerRow), unit: 'bytes' },
      { key: 'heap_bytes_per_send', label: 'heap per email', value: perRow(size!.heap), unit: 'bytes' },
      { key: 'toast_bytes_per_send', label: 'TOAST per email', value: perRow(size!.toast), unit: 'bytes' },
      { key: 'index_bytes_per_send', label: 'indexes per email', value: perRow(size!.indexes), unit: 'bytes' },
      { key: 'row_bytes', label: 'average row as stored (pg_column_size)', value: Math.round(Number(size!.row_bytes)), unit: 'bytes' },
      { key: 'mb_per_million', label: 'sends table for 1,000,000 campaign emails', value: Math.round((totalPerRow * EMAILS) / 1e6), unit: 'MB' },
    ],
  });
}

await runBench('send-storage', main, { timeoutMs: 20 * 60_000 });
