/**
 * `tsx test/report/sum.ts <suite>=<exit code> ...`, run by `.ci/run` after every suite: prints each
 * suite's counts from its report in `.reports/`, then, alone on the last line, their sum
 * (`N passed, N failed, N skipped`). Exits 1 if anything failed.
 */
import { countsLine, suiteResult, total } from './reports.js';

async function main(args: string[]): Promise<number> {
  const suites = args.map((arg) => {
    const match = /^([\w-]+)=(\d+)$/.exec(arg);
    if (!match) throw new Error(`expected <suite>=<exit code>, got "${arg}"`);
    return { suite: match[1]!, exitCode: Number(match[2]) };
  });
  if (suites.length === 0) throw new Error('usage: tsx test/report/sum.ts <suite>=<exit code> ...');
  const results = await Promise.all(suites.map(({ suite, exitCode }) => suiteResult(suite, exitCode)));
  for (const result of results) console.log(`${result.suite}: ${countsLine(result)}${result.note ? ` (${result.note})` : ''}`);
  const sum = total(results);
  console.log(countsLine(sum));
  return sum.failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`sum: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
