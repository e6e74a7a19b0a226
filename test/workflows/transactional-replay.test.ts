import { readdir } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { HISTORIES_DIR, readHistory } from '../helpers/histories.js';
import { getWorkflowBundle } from '../helpers/temporal.js';

/**
 * Histories recorded from real transactional sends on the time-skipping server (binary protobuf
 * written by `RECORD_HISTORIES=1 npx vitest run test/workflows/transactional.test.ts`): delivered at
 * once, after two provider 429s, refused by the provider, given up after twelve attempts, and held back
 * by a suppression; once before the `transactional-local-delivery` patch (regular activities) and once
 * after it (files ending -local-delivery: local activities). Replaying them against today's code fails if a change would break sends in flight
 * when a worker is upgraded; such a change goes behind a new `patched()` id, and its histories are
 * recorded next to these with RECORD_HISTORIES_SUFFIX=-<patch>.
 */
describe('transactional send workflow determinism', () => {
  it('replays every recorded transactional history with the current workflow code', async () => {
    const files = (await readdir(HISTORIES_DIR)).filter((f) => f.startsWith('transactional-') && f.endsWith('.binpb'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    const workflowBundle = await getWorkflowBundle();
    for (const file of files) {
      const history = await readHistory(file);
      await expect(Worker.runReplayHistory({ workflowBundle }, history, file), file).resolves.toBeUndefined();
    }
  });
});
