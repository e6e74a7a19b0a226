/**
 * A Tidings worker (both task queues, real activities) in its own process, so the fault suite can
 * SIGKILL it for real. Wired like src/worker.ts in production: TIDINGS_SECRET opens the sending
 * credentials, RESEND_BASE_URL points Resend at the local fake, and it ensures the outbox relays (the
 * enrollment one carries out bulk enrollments).
 *
 * Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, WORKFLOW_BUNDLE_PATH, TIDINGS_SECRET,
 * RESEND_BASE_URL; optional PROVIDER_TIMEOUT_MS (per provider request) and CRASH_AFTER_PROVIDER_CALLS=N
 * (SIGKILL itself right after the Nth provider call returned, before its outcome is written: the
 * provider has the emails and the database does not know). Prints `ready` once polling.
 */
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createDatabase } from '../../src/db/client.js';
import { createMailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import { ensureOutboxRelays } from '../../src/temporal/relays.js';
import { createWorkers, runWorkers } from '../../src/worker.js';
import { requiredEnv } from '../helpers/env.js';
import { crashAfterProviderCalls } from '../helpers/provider-crash.js';

const env = requiredEnv;

const database = createDatabase(env('DATABASE_URL'), { max: 12 });
const logger = createLogger('warn');
const timeoutMs = process.env.PROVIDER_TIMEOUT_MS ? Number(process.env.PROVIDER_TIMEOUT_MS) : undefined;
const mailers = createMailers({ resendBaseUrl: env('RESEND_BASE_URL'), ...(timeoutMs ? { timeoutMs } : {}) });
if (process.env.CRASH_AFTER_PROVIDER_CALLS) crashAfterProviderCalls(env('RESEND_BASE_URL'), Number(process.env.CRASH_AFTER_PROVIDER_CALLS));

const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
// As src/main.ts: the outbox relays' activities start workflows through a client on the worker's connection.
const temporal = new Client({ connection, namespace });
const workers = await createWorkers({
  connection,
  namespace,
  db: database.db,
  logger,
  workflowBundle: { codePath: env('WORKFLOW_BUNDLE_PATH') },
  activities: createActivities({ db: database.db, logger, secretBox: createSecretBox(env('TIDINGS_SECRET')), mailers, temporal, eagerStart: true }),
});
await ensureOutboxRelays(temporal, logger);
process.stdout.write('ready\n');
await runWorkers(workers);
await mailers.close();
await connection.close();
await database.close();
