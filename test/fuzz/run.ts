/**
 * `npm run test:fuzz`: property-based API fuzzing with schemathesis against a real stack (`npm start`
 * on a throwaway data dir), over every operation of /api/v1/openapi.json. Fails on any 5xx, any
 * status code the document does not list, any answer whose body, content type or headers do not
 * match the document (see CHECKS). Bounded and seeded, so a run is short and repeatable:
 *   FUZZ_MAX_EXAMPLES (default 15 per operation and phase), FUZZ_SEED (default 20261126),
 *   FUZZ_WORKERS (default 1), FUZZ_CHECKS (comma-separated, to explore with other checks),
 *   FUZZ_REPORT_DIR (keeps the JUnit report and the run's schemathesis.toml; default: a temp dir, removed).
 * The counts from the JUnit report also go to .reports/fuzz.json, which `.ci/run` sums.
 * Provision schemathesis first: `tsx src/embedded/provision.ts --fuzz` (the npm script does).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findSchemathesis } from '../../src/embedded/tools.js';
import { countsLine, writeCounts, type Counts } from '../report/reports.js';
import { probeMalformedUrls } from './malformed-urls.js';
import { seed, type Seeded } from './seed.js';
import { startStack } from './stack.js';

/**
 * What counts as a failure: every check about our own answers. No 5xx; only documented status
 * codes, content types, headers and body schemas; invalid input rejected (negative_data_rejection);
 * 401 without a valid key (ignored_auth); 405 with `Allow` for a method a path does not have, and
 * `OPTIONS` listing exactly the documented methods. Left out: positive_data_acceptance (many bodies
 * have cross-field rules JSON Schema cannot state, e.g. "`to` or `contactId`", so schema-valid
 * input is rightly refused) and the stateful use_after_free / ensure_resource_availability (deleting
 * a sequence that has enrollments archives it, so it is still readable by design).
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
  'ignored_auth',
  'unsupported_method',
  'allow_header_conformance',
];

// 15 keeps the CI run near 1.5 minutes on 2 cores (the whole of .ci/run must stay under 20); wider runs:
// FUZZ_MAX_EXAMPLES=100 found nothing more on this code.
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 15);
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
// One worker: CPython 3.11's ast.parse is not thread-safe ("AST constructor recursion depth mismatch"),
// which hypothesis hits from parallel workers; they share the GIL anyway, so little is lost.
const WORKERS = process.env.FUZZ_WORKERS ?? '1';

/** schemathesis.toml for this run: each DELETE is pointed at its bait resource (see seed.ts). */
function configToml(seeded: Seeded): string {
  const lines = [
    `seed = ${SEED}`,
    '',
    '[generation]',
    `max-examples = ${MAX_EXAMPLES}`,
    // No example database: a run must not depend on what an earlier run found.
    'database = "none"',
    '',
    // A rejection is any of these; 413 (body over the JSON limit) is one schemathesis does not list.
    '[checks.negative_data_rejection]',
    'expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]',
  ];
  for (const [path, params] of Object.entries(seeded.deleteOverrides)) {
    const values = Object.entries(params).map(([name, value]) => `"path.${name}" = ${value}`);
    lines.push('', '[[operations]]', `include-path = "${path}"`, 'include-method = "DELETE"', `parameters = { ${values.join(', ')} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `st` in `cwd`: schemathesis and hypothesis leave caches (.schemathesis/, .hypothesis/) there. */
function runSchemathesis(st: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(st, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

interface JunitCounts {
  /** One per operation, plus one for the stateful phase. */
  cases: number;
  failures: number;
  errors: number;
  skipped: number;
}

/** Counts from the JUnit report. */
async function junitCounts(file: string): Promise<JunitCounts | null> {
  const xml = await readFile(file, 'utf8').catch(() => null);
  if (!xml) return null;
  return {
    cases: (xml.match(/<testcase\b/g) ?? []).length,
    failures: (xml.match(/<failure\b/g) ?? []).length,
    errors: (xml.match(/<error\b/g) ?? []).length,
    skipped: (xml.match(/<skipped\b/g) ?? []).length,
  };
}

/** A case with a failure or an error failed; the rest passed unless skipped. */
function suiteCounts(junit: JunitCounts): Counts {
  const failed = junit.failures + junit.errors;
  return { passed: junit.cases - failed - junit.skipped, failed, skipped: junit.skipped };
}

async function main(): Promise<number> {
  const started = Date.now();
  const { path: st } = await findSchemathesis({ log: (line) => console.log(`  ${line}`) });
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'tidings-fuzz-run-'));
  const reportDir = path.resolve(process.env.FUZZ_REPORT_DIR ?? path.join(workDir, 'reports'));
  await mkdir(reportDir, { recursive: true });

  console.log('fuzz: starting the stack (npm start on a temporary data dir) ...');
  const stack = await startStack();
  let code: number;
  try {
    const seeded = await seed(stack.url, stack.key);
    console.log(`fuzz: stack up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${stack.url}; seeded ${JSON.stringify(seeded.ids)}`);
    const config = path.join(reportDir, 'schemathesis.toml');
    await writeFile(config, configToml(seeded));
    const fuzzStarted = Date.now();
    code = await runSchemathesis(st, [
      '--config-file',
      config,
      'run',
      `${stack.url}/api/v1/openapi.json`,
      '--url',
      stack.url,
      '--header',
      `Authorization: Bearer ${stack.key}`,
      '--checks',
      process.env.FUZZ_CHECKS ?? CHECKS.join(','),
      '--max-examples',
      String(MAX_EXAMPLES),
      '--seed',
      String(SEED),
      '--workers',
      WORKERS,
      '--request-timeout',
      '15',
      '--continue-on-failure',
      '--report',
      'junit',
      '--report-junit-path',
      path.join(reportDir, 'junit.xml'),
      '--no-color',
    ], workDir);
    const counts = await junitCounts(path.join(reportDir, 'junit.xml'));
    // Then what schemathesis cannot send: URLs whose escapes do not decode, on every route.
    const malformed = await probeMalformedUrls(stack.url, stack.key);
    for (const f of malformed.failures) {
      console.log(`fuzz: FAILED malformed URL ${f.method} ${f.path}: ${f.probes.map((p) => `${p.target} → ${p.status || 'no answer'}`).join(', ')}`);
    }
    console.log(`fuzz: malformed percent-encoding on every path parameter and query: ${malformed.cases} routes, ${malformed.failures.length} with a server error`);
    if (malformed.failures.length) code ||= 1;
    const seconds = ((Date.now() - fuzzStarted) / 1000).toFixed(1);
    console.log(
      `fuzz: ${counts ? `${counts.cases} test cases (every operation, and the stateful phase), ${counts.failures} failed, ${counts.errors} errored; ` : ''}` +
        `max ${MAX_EXAMPLES} examples per operation and phase, seed ${SEED}; schemathesis took ${seconds} s, ` +
        `the whole run ${((Date.now() - started) / 1000).toFixed(1)} s; exit code ${code}` +
        (process.env.FUZZ_REPORT_DIR ? `; reports in ${reportDir}` : ''),
    );
    // No summary without a JUnit report: .ci/run then counts this suite as failed.
    if (counts) {
      const schemathesis = suiteCounts(counts);
      const total: Counts = {
        passed: schemathesis.passed + malformed.cases - malformed.failures.length,
        failed: schemathesis.failed + malformed.failures.length,
        skipped: schemathesis.skipped,
      };
      await writeCounts('fuzz', total);
      console.log(`fuzz: ${countsLine(total)}`);
    }
  } finally {
    await stack.stop();
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`fuzz: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
