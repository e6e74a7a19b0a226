import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import type { Db } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { createMailers } from '../../src/mail/from-config.js';
import { createLinks } from '../../src/mail/links.js';
import { createWorkers, runWorkers } from '../../src/worker.js';
import { getWorkflowBundle } from './temporal.js';

export interface RunningTestWorkers {
  /** Shuts every worker down, waits for them, and closes the mailers (SMTP pools). */
  stop(): Promise<void>;
}

/**
 * Tidings' real workers (both task queues, real activities) on a test Temporal environment, sending
 * through the given Resend base URL (the fake server) and reading credentials sealed with `secret`.
 * Campaign and sequence email link to `publicUrl` (the test's API, for tracking and unsubscribe).
 */
export async function startTestWorkers(opts: {
  env: TestWorkflowEnvironment;
  db: Db;
  resendBaseUrl: string;
  secret: string;
  publicUrl?: string;
}): Promise<RunningTestWorkers> {
  const mailers = createMailers({ resendBaseUrl: opts.resendBaseUrl });
  const workers = await createWorkers({
    connection: opts.env.nativeConnection,
    namespace: opts.env.namespace ?? 'default',
    db: opts.db,
    logger: createLogger('silent'),
    workflowBundle: await getWorkflowBundle(),
    secretBox: createSecretBox(opts.secret),
    mailers,
    links: createLinks({ secret: opts.secret, publicUrl: opts.publicUrl ?? 'http://localhost:3000' }),
    temporal: opts.env.client,
  });
  const running = runWorkers(workers);
  return {
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await mailers.close();
    },
  };
}
