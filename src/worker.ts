import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type Activities } from '../activities/index.js';
import type { Db } from './db/client.js';
import type { Logger } from './logger.js';
import { TASK_QUEUES } from './temporal/task-queues.js';

/** The file the bundler starts from: it re-exports every workflow. */
export const workflowsPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../workflows/index.ts');

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  db: Db;
  logger: Logger;
  /** A prebuilt bundle (tests bundle once per file; production may prebuild); else bundled from source at start. */
  workflowBundle?: WorkflowBundleOption;
  /** The activity implementations; built from `db` and `logger` unless given (tests wrap them to inject crashes). */
  activities?: Activities;
}

/**
 * Builds the workers of this process (not yet running). Today one, on the main task queue; the
 * transactional queue gets its own worker with its own slots when transactional sends arrive.
 */
export async function createWorkers(deps: WorkerDeps): Promise<Worker[]> {
  const activities = deps.activities ?? createActivities({ db: deps.db, logger: deps.logger });
  const main = await Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: TASK_QUEUES.main,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath }),
    activities,
    // Cached workflows skip a history replay on their next task but each holds a sandbox in memory;
    // 250 bounds the worker near a few hundred MB, and a waiting workflow evicted costs nothing.
    maxCachedWorkflows: 250,
    // Workflow tasks are short CPU bursts; a few dozen keep both cores busy without starving activities.
    maxConcurrentWorkflowTaskExecutions: 40,
    // Import batches hold a database connection for their transaction: more slots than the pool
    // (10 connections by default) would only queue inside the process instead of on the task queue,
    // where another worker could pick the work up.
    maxConcurrentActivityTaskExecutions: 10,
    // On Ctrl-C let a running batch commit rather than cancel it (a cancelled one is redone anyway).
    shutdownGraceTime: '10 seconds',
  });
  return [main];
}

/** Runs the workers until all have stopped (`worker.shutdown()`; the composition root decides when). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}
