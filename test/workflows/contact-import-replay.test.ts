import { describe, it } from 'vitest';
import { expectRecordedHistoriesReplay } from '../helpers/histories.js';

/**
 * Histories recorded from real runs of the import workflow on the dev server (binary protobuf of
 * `handle.fetchHistory()`: the SDK's JSON history loader trips over duplicated protobufjs copies in
 * this install). Replaying them against today's code fails if a change would break imports already
 * running: such a change goes behind `patched()`, and a new history is recorded next to these.
 */
describe('contact import workflow determinism', () => {
  it('replays every recorded history with the current workflow code', async () => {
    await expectRecordedHistoriesReplay('contact-import-', 2);
  });
});
