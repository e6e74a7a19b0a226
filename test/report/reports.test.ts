import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsLine, reportFile, suiteResult, total, writeCounts } from './reports.js';

let dir: string;
/** Exit code of the fixture run, whose report is `tests` in `dir`. */
let fixtureExitCode: number;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tidings-reports-'));
  fixtureExitCode = await runFixtureSuite(reportFile('tests', dir));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs vitest on the fixtures (one file per outcome) with its JSON reporter; resolves to its exit code. */
function runFixtureSuite(report: string): Promise<number> {
  const vitest = path.resolve(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'vitest');
  const config = path.join(import.meta.dirname, 'fixtures', 'vitest.config.ts');
  return new Promise((resolve) =>
    execFile(vitest, ['run', '-c', config, '--reporter=json', `--outputFile.json=${report}`], (err) => resolve(err ? Number(err.code ?? 1) : 0)),
  );
}

describe('suite reports', () => {
  it("counts vitest's passed, failed, skipped and todo tests, and each file that broke before its tests as one failed", async () => {
    expect(fixtureExitCode).toBe(1);
    // outcomes: 1 passed, 1 failed, 1 skipped, 1 todo; broken-setup: 2 skipped and the file failed;
    // broken-load: no tests, the file failed.
    await expect(suiteResult('tests', fixtureExitCode, dir)).resolves.toEqual({ suite: 'tests', passed: 1, failed: 3, skipped: 4 });
  });

  it('sums the suites into the closing line', async () => {
    await writeCounts('fuzz', { passed: 26, failed: 0, skipped: 1 }, dir);
    const results = [await suiteResult('tests', fixtureExitCode, dir), await suiteResult('fuzz', 0, dir)];
    expect(countsLine(total(results))).toBe('27 passed, 3 failed, 5 skipped');
  });

  it('counts a suite that left no report as one failed test', async () => {
    const result = await suiteResult('faults', 137, dir);
    expect(result).toMatchObject({ passed: 0, failed: 1, skipped: 0 });
    expect(result.note).toBe(`no report at ${reportFile('faults', dir)} (exit code 137): counted as 1 failed`);
  });

  it('counts a suite that exited non-zero without a failed test as one failed test', async () => {
    await writeCounts('quiet', { passed: 12, failed: 0, skipped: 0 }, dir);
    await expect(suiteResult('quiet', 1, dir)).resolves.toMatchObject({ passed: 12, failed: 1, skipped: 0 });
  });

  it('counts a report that is not JSON as one failed test', async () => {
    await writeFile(reportFile('cut', dir), '{"numPassedTests": 4');
    await expect(suiteResult('cut', 0, dir)).resolves.toMatchObject({ passed: 0, failed: 1, skipped: 0 });
  });
});
