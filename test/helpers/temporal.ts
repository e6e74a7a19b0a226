import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { registerSearchAttributes } from '../../src/temporal/client.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';

// Worker state changes at INFO drown the test report; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // A test file installed its own runtime first: keep it.
}

function toolPath(key: 'temporalCliPath' | 'temporalTestServerPath'): string {
  const found = inject(key);
  if (found) return found;
  const errors = inject('toolErrors');
  throw new Error(
    (key === 'temporalCliPath' ? errors.temporalCli : errors.temporalTestServer) ?? `${key} was not provided by global setup`,
  );
}

/**
 * The time-skipping test server (Temporal's Java TestServer, provisioned by `npm test` and started
 * through its run.sh wrapper) with Tidings' search attributes registered. Timers fire as soon as the
 * workflow is otherwise idle, so a 3-day sleep takes milliseconds.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: toolPath('temporalTestServerPath') } },
  });
  try {
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}

/**
 * A Temporal dev server (the real server, in memory, Web UI off) with Tidings' search attributes, for
 * end-to-end tests and for what the test server lacks (visibility queries, schedules).
 * `suggestContinueAsNewAfter` lowers the history length (4,096 events by default) at which workflows
 * are told to continue as new, so a small test run crosses several runs.
 */
export async function createDevServerEnv(opts: { suggestContinueAsNewAfter?: number } = {}): Promise<TestWorkflowEnvironment> {
  // Eager activity dispatch as in production (src/embedded/temporal.ts, deploy/temporal-dynamicconfig.yaml).
  const extraArgs = [
    '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
    ...(opts.suggestContinueAsNewAfter === undefined ? [] : ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${opts.suggestContinueAsNewAfter}`]),
  ];
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: toolPath('temporalCliPath') },
      ui: false,
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs,
      log: { format: 'json', level: 'error' },
    },
  });
}

export const DEFAULT_WORKFLOWS_PATH = path.join(REPO_ROOT, 'workflows', 'index.ts');

/** Sources that can end up in a workflow bundle; their content keys the bundle cache. */
async function sourceFingerprint(workflowsPath: string): Promise<string> {
  const hash = createHash('sha256').update(workflowsPath);
  const dirs = [...new Set([path.join(REPO_ROOT, 'workflows'), path.join(REPO_ROOT, 'src', 'domain'), path.dirname(workflowsPath)])];
  for (const dir of dirs) {
    const files = (await readdir(dir, { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.ts')).sort();
    for (const file of files) hash.update(file).update(await readFile(path.join(dir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

const bundles = new Map<string, Promise<WorkflowBundle>>();

/**
 * The workflow bundle (webpack, several seconds) built once per run: memoised in this file and cached
 * on disk in the run's temp dir, keyed by the workflow sources, for the other test files.
 */
export function getWorkflowBundle(workflowsPath: string = DEFAULT_WORKFLOWS_PATH): Promise<WorkflowBundle> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = (async () => {
      const cacheDir = path.join(inject('testTmpDir'), 'workflow-bundles');
      const file = path.join(cacheDir, `${await sourceFingerprint(workflowsPath)}.js`);
      const cached = await readFile(file, 'utf8').catch(() => null);
      if (cached !== null) return { code: cached };
      const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
      await mkdir(cacheDir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, code);
      await rename(tmp, file);
      return { code };
    })();
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}
