import { describe, it } from 'vitest';
import { expectRecordedHistoriesReplay } from '../helpers/histories.js';

/**
 * Histories recorded from real enrollment runs on the time-skipping server (binary protobuf written
 * by `RECORD_HISTORIES=1 npx vitest run test/workflows/enrollment.test.ts`): the seed onboarding, both
 * kinds of early exit, a condition branch, an event wait and a frequency-cap deferral, recorded before
 * the search-attribute upsert existed; one recorded after it; and the same set again after the
 * `enrollment-lean-steps` patch (files ending -lean-steps: local bookkeeping activities), and once more
 * after the `enrollment-email-step-activity` patch (files ending -email-step: one local activity per email).
 * Replaying them against today's code fails if a change would break enrollments already sleeping in
 * production; such a change goes behind a new `patched()` id and a new history is recorded next to
 * these (rename the file the recorder writes, so the older ones stay).
 */
describe('enrollment workflow determinism', () => {
  it('replays every recorded enrollment history with the current workflow code', async () => {
    await expectRecordedHistoriesReplay('enrollment-', 16);
  });
});
