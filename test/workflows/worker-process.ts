/**
 * A Tidings worker in its own process, for the crash test: the test SIGKILLs it (or it kills itself
 * right after committing a chosen batch) and starts another one.
 *
 * Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, WORKFLOW_BUNDLE_PATH (prebuilt bundle),
 * CRASH_AFTER_BATCH (optional: SIGKILL itself once that batch has committed, before Temporal hears of it).
 * Prints `ready` once polling.
 */
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { createDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { createWorkers, runWorkers } from '../../src/worker.js';
import { requiredEnv } from '../helpers/env.js';

const env = requiredEnv;

const database = createDatabase(env('DATABASE_URL'), { max: 4 });
const logger = createLogger('warn');
const activities = createActivities({ db: database.db, logger });
const crashAfter = process.env.CRASH_AFTER_BATCH ? Number(process.env.CRASH_AFTER_BATCH) : undefined;
if (crashAfter !== undefined) {
  const importBatch = activities.importContactBatch;
  activities.importContactBatch = async (input) => {
    const result = await importBatch(input);
    // The batch's transaction has committed; dying now is the worst moment: Temporal will run it again.
    if (input.seq === crashAfter) process.kill(process.pid, 'SIGKILL');
    return result;
  };
}

const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const workers = await createWorkers({
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  db: database.db,
  logger,
  workflowBundle: { codePath: env('WORKFLOW_BUNDLE_PATH') },
  activities,
});
process.stdout.write('ready\n');
await runWorkers(workers);
await connection.close();
await database.close();
