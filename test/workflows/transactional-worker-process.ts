/**
 * A transactional-queue worker in its own process, for the crash test: with CRASH_AFTER_PROVIDER_ACCEPTS
 * set it SIGKILLs itself the moment a provider accepts an email, before the send row is updated, which
 * is the worst moment to die (the provider has the email, the database does not know).
 *
 * Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, WORKFLOW_BUNDLE_PATH (prebuilt bundle),
 * TIDINGS_SECRET, RESEND_BASE_URL, CRASH_AFTER_PROVIDER_ACCEPTS (optional). Prints `ready` once polling.
 */
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createDatabase } from '../../src/db/client.js';
import { createMailers, type Mailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { createWorkers, runWorkers } from '../../src/worker.js';
import { requiredEnv } from '../helpers/env.js';

const env = requiredEnv;

const database = createDatabase(env('DATABASE_URL'), { max: 4 });
const logger = createLogger('warn');
const real = createMailers({ resendBaseUrl: env('RESEND_BASE_URL') });
const mailers: Mailers = process.env.CRASH_AFTER_PROVIDER_ACCEPTS
  ? {
      forConfig(loaded) {
        const mailer = real.forConfig(loaded);
        return {
          ...mailer,
          async send(message) {
            const outcome = await mailer.send(message);
            if (outcome.kind === 'sent') process.kill(process.pid, 'SIGKILL');
            return outcome;
          },
        };
      },
      close: () => real.close(),
    }
  : real;

const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const workers = await createWorkers({
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  db: database.db,
  logger,
  workflowBundle: { codePath: env('WORKFLOW_BUNDLE_PATH') },
  activities: createActivities({ db: database.db, logger, secretBox: createSecretBox(env('TIDINGS_SECRET')), mailers }),
  taskQueues: [TASK_QUEUES.transactional],
});
process.stdout.write('ready\n');
await runWorkers(workers);
await mailers.close();
await connection.close();
await database.close();
