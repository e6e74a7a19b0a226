/**
 * A Tidings worker in its own process for the campaign crash test, wired like src/worker.ts in
 * production (TIDINGS_SECRET opens the credentials, RESEND_BASE_URL points at the fake Resend).
 *
 * Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, WORKFLOW_BUNDLE_PATH, TIDINGS_SECRET,
 * RESEND_BASE_URL, and optionally CRASH_AFTER_PROVIDER_CALLS=N: SIGKILL itself right after the Nth
 * provider call returned, before its outcome is written (the worst moment: the provider has
 * accepted the emails and the database does not know). Prints `ready` once polling.
 */
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createDatabase } from '../../src/db/client.js';
import { createMailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import { createWorkers, runWorkers } from '../../src/worker.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { requiredEnv } from '../helpers/env.js';
import { crashAfterProviderCalls } from '../helpers/provider-crash.js';

const env = requiredEnv;

const database = createDatabase(env('DATABASE_URL'), { max: 8 });
const logger = createLogger('warn');
const mailers = createMailers({ resendBaseUrl: env('RESEND_BASE_URL') });
if (process.env.CRASH_AFTER_PROVIDER_CALLS) crashAfterProviderCalls(env('RESEND_BASE_URL'), Number(process.env.CRASH_AFTER_PROVIDER_CALLS));
const activities = createActivities({ db: database.db, logger, secretBox: createSecretBox(env('TIDINGS_SECRET')), mailers });

const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const workers = await createWorkers({
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  db: database.db,
  logger,
  workflowBundle: { codePath: env('WORKFLOW_BUNDLE_PATH') },
  activities,
  taskQueues: [TASK_QUEUES.main],
});
process.stdout.write('ready\n');
await runWorkers(workers);
await connection.close();
await mailers.close();
await database.close();
