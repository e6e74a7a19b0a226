import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { getWorkflowBundle } from '../helpers/temporal.js';

const dir = path.join(import.meta.dirname, 'histories');

/**
 * Histories recorded from real runs of the import workflow on the dev server (binary protobuf of
 * `handle.fetchHistory()`: the SDK's JSON history loader trips over duplicated protobufjs copies in
 * this install). Replaying them against today's code fails if a change would break imports already
 * running: such a change goes behind `patched()`, and a new history is recorded next to these.
 */
describe('contact import workflow determinism', () => {
  it('replays every recorded history with the current workflow code', async () => {
    const files = (await readdir(dir)).filter((f) => f.startsWith('contact-import-') && f.endsWith('.binpb'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const workflowBundle = await getWorkflowBundle();
    for (const file of files) {
      const history = temporal.api.history.v1.History.decode(await readFile(path.join(dir, file)));
      await expect(Worker.runReplayHistory({ workflowBundle }, history, file), file).resolves.toBeUndefined();
    }
  });
});
