/**
 * The suites' own results, which `.ci/run` sums into its closing line. Each suite writes
 * `.reports/<suite>.json` (git-ignored): vitest's JSON reporter for `npm test` (`tests`) and
 * `npm run test:faults` (`faults`), a {@link Counts} summary of schemathesis' JUnit report for
 * `npm run test:fuzz` (`fuzz`).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const REPORTS_DIR = path.resolve(import.meta.dirname, '..', '..', '.reports');

export const reportFile = (suite: string, dir = REPORTS_DIR) => path.join(dir, `${suite}.json`);

const count = z.number().int().nonnegative();
const countsSchema = z.object({ passed: count, failed: count, skipped: count });
export type Counts = z.infer<typeof countsSchema>;

/** The part of vitest's JSON report (vitest 4) the counts come from. */
const vitestReportSchema = z.object({
  numPassedTests: count,
  numFailedTests: count,
  numPendingTests: count,
  numTodoTests: count,
  testResults: z.array(z.object({ status: z.string(), assertionResults: z.array(z.object({ status: z.string() })) })),
});
type VitestReport = z.infer<typeof vitestReportSchema>;

/**
 * Vitest reports the tests of a file whose `beforeAll` threw as skipped, and a file that failed to
 * load has no tests at all; each such file counts as one failed test, so it cannot hide among the
 * skipped.
 */
function vitestCounts(report: VitestReport): Counts {
  const brokenFiles = report.testResults.filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
  ).length;
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + brokenFiles,
    skipped: report.numPendingTests + report.numTodoTests,
  };
}

export interface SuiteResult extends Counts {
  suite: string;
  /** Why the counts differ from the report, when they do. */
  note?: string;
}

/**
 * A suite's counts from its report and exit code. A suite without a readable report (it crashed), or
 * one that exited non-zero without a failed test (an unhandled error, a failed global setup), counts
 * as one failed test: a failing run never sums to "0 failed".
 */
export async function suiteResult(suite: string, exitCode: number, dir = REPORTS_DIR): Promise<SuiteResult> {
  const file = reportFile(suite, dir);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no report' : 'an unreadable report';
    return { suite, passed: 0, failed: 1, skipped: 0, note: `${reason} at ${file} (exit code ${exitCode}): counted as 1 failed` };
  }
  const vitest = vitestReportSchema.safeParse(json);
  const summary = countsSchema.safeParse(json);
  const counts = vitest.success ? vitestCounts(vitest.data) : summary.success ? summary.data : null;
  if (!counts) {
    return { suite, passed: 0, failed: 1, skipped: 0, note: `${file} is neither a vitest report nor a counts summary: counted as 1 failed` };
  }
  if (exitCode !== 0 && counts.failed === 0) {
    return { suite, ...counts, failed: 1, note: `exit code ${exitCode} without a failed test: counted as 1 failed` };
  }
  return { suite, ...counts };
}

export function total(results: readonly Counts[]): Counts {
  return results.reduce((sum, r) => ({ passed: sum.passed + r.passed, failed: sum.failed + r.failed, skipped: sum.skipped + r.skipped }), {
    passed: 0,
    failed: 0,
    skipped: 0,
  });
}

/** The form of `.ci/run`'s closing line. */
export const countsLine = (c: Counts) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;

/** Writes a runner's counts as its suite's report (for runners without a JSON reporter of their own). */
export async function writeCounts(suite: string, counts: Counts, dir = REPORTS_DIR): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(reportFile(suite, dir), `${JSON.stringify(countsSchema.parse(counts), null, 2)}\n`);
}
