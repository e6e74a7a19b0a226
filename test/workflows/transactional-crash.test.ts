import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { getSend } from '../../src/db/repositories/sends.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { workflowIds } from '../../src/domain/ids.js';
import { createMailers } from '../../src/mail/from-config.js';
import { createLogger } from '../../src/logger.js';
import { queueTransactionalSend } from '../../src/services/transactional.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { createWorkers } from '../../src/worker.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startFakeResend, type FakeResend } from '../helpers/fake-resend.js';
import { createDevServerEnv, getWorkflowBundle } from '../helpers/temporal.js';

// A real dev server: the time-skipping test server does not time out the heartbeat of an activity
// whose worker died, and that timeout is exactly what hands the send to another worker.
let env: TestWorkflowEnvironment;
let testDb: TestDb;
let fake: FakeResend;
const children = new Set<ChildProcess>();
const SECRET = 'transactional-crash-test-secret-0123456789abcdef';

beforeAll(async () => {
  [env, testDb, fake] = await Promise.all([createDevServerEnv(), createTestDb(), startFakeResend()]);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await fake?.close();
  await env?.teardown();
  await testDb?.close();
});

describe('transactional send across a worker crash', () => {
  it('sends one email when the worker process is SIGKILLed after the provider accepted it but before the database write', async () => {
    const secretBox = createSecretBox(SECRET);
    const siteId = (await createSite(testDb.db, { name: 'Acme' })).id;
    const config = await createSendingConfig(testDb.db, secretBox, siteId, {
      name: 'Resend',
      provider: 'resend',
      fromEmail: 'hello@acme.test',
      credentials: { apiKey: fake.apiKey },
    });
    const bundlePath = path.join(inject('testTmpDir'), `transactional-crash-bundle-${process.pid}.js`);
    await writeFile(bundlePath, (await getWorkflowBundle()).code);

    const { sendId } = await queueTransactionalSend(
      { db: testDb.db, temporal: env.client },
      siteId,
      { to: 'crash@example.com', subject: 'Your code', html: '<p>123456</p>', sendingConfigId: config.id },
    );

    // A worker in its own process that dies the moment the provider accepts the email.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'workflows', 'transactional-worker-process.ts')], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        DATABASE_URL: testDb.url,
        WORKFLOW_BUNDLE_PATH: bundlePath,
        TIDINGS_SECRET: SECRET,
        RESEND_BASE_URL: fake.url,
        CRASH_AFTER_PROVIDER_ACCEPTS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 90_000);
    const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    children.delete(child);

    expect({ signal, accepted: fake.emails.length }, output).toEqual({ signal: 'SIGKILL', accepted: 1 });
    // The provider has the email; the send log does not know yet.
    expect(await getSend(testDb.db, siteId, sendId)).toMatchObject({ status: 'queued', attempts: 1, providerMessageId: null });

    // A second worker takes the send over once the dead one's heartbeat times out.
    const mailers = createMailers({ resendBaseUrl: fake.url });
    const logger = createLogger('silent');
    const [worker] = await createWorkers({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      db: testDb.db,
      logger,
      workflowBundle: { codePath: bundlePath },
      activities: createActivities({ db: testDb.db, logger, secretBox, mailers }),
      taskQueues: [TASK_QUEUES.transactional],
    });
    const result = await worker!.runUntil(env.client.workflow.getHandle(workflowIds.transactional(sendId)).result());
    await mailers.close();

    expect(result.status).toBe('sent');
    const requests = fake.requests.filter((r) => r.path === '/emails');
    // Same idempotency key on the retry: the provider replayed its first answer instead of sending again.
    expect(requests.map((r) => r.replayed)).toEqual([false, true]);
    expect(new Set(requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(fake.emails).toHaveLength(1);
    expect(await getSend(testDb.db, siteId, sendId)).toMatchObject({ status: 'sent', attempts: 2, providerMessageId: fake.emails[0]!.id });
  }, 180_000);
});
