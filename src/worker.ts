import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type Activities } from '../activities/index.js';
import { createSecretBox, type SecretBox } from './crypto/secret-box.js';
import type { Db } from './db/client.js';
import type { Logger } from './logger.js';
import { createMailers, type Mailers } from './mail/from-config.js';
import { createLinks, type Links } from './mail/links.js';
import { TASK_QUEUES } from './temporal/task-queues.js';
import { loadWorkflowBundle } from './temporal/workflow-bundle.js';

export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];

/** The file the bundler starts from: it re-exports every workflow. */
export const workflowsPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../workflows/index.ts');

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  db: Db;
  logger: Logger;
  /**
   * A prebuilt bundle (tests bundle once per run); else the cached bundle of the workflow sources,
   * rebuilt in a child process when a source changed (src/temporal/workflow-bundle.ts).
   */
  workflowBundle?: WorkflowBundleOption;
  /** The activity implementations; built from the other deps unless given (tests wrap them to inject crashes). */
  activities?: Activities;
  /** Opens sending-config credentials; defaults to one over TIDINGS_SECRET from the environment, if set. */
  secretBox?: SecretBox;
  /** Mailers per sending config; defaults to a fresh set, closed when the workers stop. */
  mailers?: Mailers;
  /**
   * Unsubscribe and tracking links of campaign and sequence email; defaults to links over TIDINGS_SECRET
   * and PUBLIC_URL from the environment when both are set (src/main.ts passes them from its config).
   */
  links?: Links;
  /**
   * The queues to serve (default: all). A worker that is created must also be run (and stopped)
   * before another one may register for its queue in the same process, so a test that drives one
   * queue asks for that one only.
   */
  taskQueues?: readonly TaskQueue[];
  /** A Temporal client for activities that start workflows (the enrollment-outbox relay). */
  temporal?: Client;
  /** `temporal` shares `connection`: workflows the relay starts ask for eager start (see ActivityDeps.eagerStart). */
  eagerStart?: boolean;
}

/** Per-queue worker tuning: each queue has its own slots, so one kind of work cannot starve the other. */
const QUEUE_OPTIONS: Record<TaskQueue, Partial<WorkerOptions>> = {
  [TASK_QUEUES.main]: {
    // A cached workflow skips a history replay on its next task but keeps its state in the worker;
    // a sleeping one evicted costs nothing until it wakes, then one replay. Unset, the SDK sizes the
    // cache from the heap limit (thousands). 64 instead of 250 saved no measurable memory with 2,000
    // sleeping journeys (what stays is the heap and malloc growth of the burst that started them) and
    // cost replays while 2,000 journeys were in flight at once.
    maxCachedWorkflows: 250,
    // Workflow tasks are short CPU bursts; a few dozen keep both cores busy without starving activities.
    maxConcurrentWorkflowTaskExecutions: 40,
    // Import batches hold a database connection for their transaction: more slots than the pool
    // (10 connections by default) would only queue inside the process instead of on the task queue,
    // where another worker could pick the work up.
    maxConcurrentActivityTaskExecutions: 10,
    // On Ctrl-C let a running batch commit rather than cancel it (a cancelled one is redone anyway).
    shutdownGraceTime: '10 seconds',
  },
  [TASK_QUEUES.transactional]: {
    // A transactional workflow lives for one delivery (seconds); a small cache is enough.
    maxCachedWorkflows: 100,
    maxConcurrentWorkflowTaskExecutions: 20,
    // A delivery mostly waits on the provider's HTTP answer and holds a database connection only per
    // short query, so many can be in flight at once; these slots belong to this queue alone.
    maxConcurrentActivityTaskExecutions: 50,
    // A delivery in flight finishes (or is retried elsewhere; the provider deduplicates on its key).
    shutdownGraceTime: '10 seconds',
  },
};

/** Cleanups that must run once the given workers have stopped (mailers this module created). */
const afterStop = new WeakMap<Worker, () => Promise<void>>();

function secretBoxFromEnv(): SecretBox | undefined {
  const secret = process.env.TIDINGS_SECRET;
  return secret && secret.length >= 32 ? createSecretBox(secret) : undefined;
}

function linksFromEnv(): Links | undefined {
  const secret = process.env.TIDINGS_SECRET;
  const publicUrl = process.env.PUBLIC_URL;
  return secret && secret.length >= 32 && publicUrl ? createLinks({ secret, publicUrl }) : undefined;
}

/**
 * Builds the workers of this process (not yet running): one on the main queue (imports, campaigns,
 * sequences, webhook deliveries and the outbox relays) and one on the transactional queue with its own slots, so a campaign
 * filling every main-queue slot can never hold back a password reset. Both run the same workflow
 * bundle and the same activities; each only receives tasks from its own queue.
 */
export async function createWorkers(deps: WorkerDeps): Promise<Worker[]> {
  // RESEND_BASE_URL points every Resend config at another API origin (a local fake in tests and benches).
  const ownMailers = deps.activities || deps.mailers ? undefined : createMailers({ resendBaseUrl: process.env.RESEND_BASE_URL || undefined });
  const activities =
    deps.activities ??
    createActivities({
      db: deps.db,
      logger: deps.logger,
      secretBox: deps.secretBox ?? secretBoxFromEnv(),
      mailers: deps.mailers ?? ownMailers,
      links: deps.links ?? linksFromEnv(),
      temporal: deps.temporal,
      eagerStart: deps.eagerStart,
    });
  // One bundle for both workers. Webpack runs in a child process, if at all: in this process it would
  // leave about 100 MB of resident memory behind for the worker's whole life.
  const workflowBundle = deps.workflowBundle ?? (await bundleForWorkers(deps.logger));
  const common = { connection: deps.connection, namespace: deps.namespace, workflowBundle, activities };

  const queues = deps.taskQueues ?? Object.values(TASK_QUEUES);
  const workers: Worker[] = [];
  try {
    for (const taskQueue of queues) workers.push(await Worker.create({ ...common, ...QUEUE_OPTIONS[taskQueue], taskQueue }));
  } catch (err) {
    // A created worker holds its queue in this process until it has run: run and stop it at once.
    await Promise.allSettled(workers.map((w) => w.runUntil(Promise.resolve())));
    await ownMailers?.close();
    throw err;
  }
  if (ownMailers && workers[0]) afterStop.set(workers[0], () => ownMailers.close());
  return workers;
}

async function bundleForWorkers(logger: Logger): Promise<WorkflowBundleOption> {
  const started = performance.now();
  const { code, cached } = await loadWorkflowBundle(workflowsPath, { log: (msg) => logger.warn(msg) });
  logger.debug({ cached, ms: Math.round(performance.now() - started) }, cached ? 'workflow bundle read from the cache' : 'workflow bundle built');
  return { code };
}

/** Runs the workers until all have stopped (`worker.shutdown()`; the composition root decides when). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    await Promise.allSettled(workers.map((w) => afterStop.get(w)?.()));
  }
}
