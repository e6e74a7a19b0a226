import { describe, it } from 'vitest';
import { expectRecordedHistoriesReplay } from '../helpers/histories.js';

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
    await expectRecordedHistoriesReplay('transactional-', 10);
  });
});
