import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkflowBundle, WORKFLOW_BUNDLE_CACHE_DIR } from '../../src/temporal/workflow-bundle.js';

// The workflows live under node_modules/.cache so that webpack resolves @temporalio/workflow from the
// repository's node_modules; plain JavaScript, since the bundler compiles TypeScript outside node_modules only.
let dir: string;
let workflowsPath: string;
let cacheDir: string;
const workflows = (answer: string) => `import { sleep } from '@temporalio/workflow';\nexport async function napper() { await sleep(1); return '${answer}'; }\n`;

beforeAll(async () => {
  // A fresh clone has no node_modules/.cache until something writes there (in CI this file may run first).
  await mkdir(path.dirname(WORKFLOW_BUNDLE_CACHE_DIR), { recursive: true });
  dir = await mkdtemp(path.join(path.dirname(WORKFLOW_BUNDLE_CACHE_DIR), 'tidings-bundle-test-'));
  workflowsPath = path.join(dir, 'workflows.js');
  cacheDir = path.join(dir, 'cache');
  await writeFile(workflowsPath, workflows('first answer'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the workflow bundle cache', () => {
  it('builds the bundle once, reads it back while the sources are unchanged, and rebuilds it when one changes', async () => {
    const built = await loadWorkflowBundle(workflowsPath, { cacheDir });
    expect(built.cached).toBe(false);
    expect(built.code).toContain('first answer');

    const again = await loadWorkflowBundle(workflowsPath, { cacheDir });
    expect(again).toEqual({ code: built.code, cached: true });

    await writeFile(workflowsPath, workflows('second answer'));
    const rebuilt = await loadWorkflowBundle(workflowsPath, { cacheDir });
    expect(rebuilt.cached).toBe(false);
    expect(rebuilt.code).toContain('second answer');
    expect(rebuilt.code).not.toContain('first answer');
  });

  it('reports a workflow file that does not compile with the bundler output', async () => {
    const broken = path.join(dir, 'broken.js');
    await writeFile(broken, "import { nothing } from './missing-module.js';\nexport const x = nothing;\n");
    await expect(loadWorkflowBundle(broken, { cacheDir })).rejects.toThrow(/bundling the workflow code failed[\s\S]*missing-module/);
  });
});
