import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** The import-fence messages ESLint reports for a workflow file made of these lines. */
async function fenceErrors(source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport const used = 1;\n`, { filePath: path.join(root, 'workflows/fence-fixture.ts') });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the workflow import fence', () => {
  it.each([
    ["import { logger } from '../src/logger.js';", 'a logger'],
    ["import pino from 'pino';", 'a package'],
    ["import { createCampaignActivities } from '../activities/campaign.js';", 'activity code'],
    ["import { readFileSync } from 'node:fs';", 'a Node built-in'],
    ["import { createDatabase } from '../src/db/client.js';", 'the database'],
    ["import { Client } from '@temporalio/client';", 'another Temporal package'],
    ["import { db } from '../src/domain/../db/client.js';", 'a path that climbs out of src/domain'],
  ])('refuses %s (%s)', async (line) => {
    expect(await fenceErrors(line)).toHaveLength(1);
  });

  it.each([
    "import { sleep } from '@temporalio/workflow';",
    "import type { CampaignActivities } from '../activities/campaign.js';",
    "import { workflowIds } from '../src/domain/ids.js';",
    "import { stateQuery } from './enrollment.contract.js';",
  ])('allows %s', async (line) => {
    expect(await fenceErrors(line)).toEqual([]);
  });

  it('passes every workflow file of the project', async () => {
    const results = await eslint.lintFiles(['workflows/**/*.ts']);
    expect(results.flatMap((r) => r.messages.map((m) => `${path.relative(root, r.filePath)}: ${m.message}`))).toEqual([]);
  });
});
