import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { startTestApi, type TestApi } from '../api/support.js';

let api: TestApi;
let dir: string;

beforeAll(async () => {
  // The import talks only to the HTTP API and the database: no Temporal needed.
  api = await startTestApi();
  dir = await mkdtemp(path.join(inject('testTmpDir'), 'cli-suppressions-'));
});
afterAll(() => api?.close());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `tidings` bin exactly as npm links it, with a clean environment. */
function tidings(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'src', 'cli', 'tidings.js'), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TIDINGS_DATA_DIR: path.join(dir, 'no-instance'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function file(name: string, content: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, content);
  return p;
}

const suppressionOf = async (email: string) =>
  (await api.call('GET', `/api/v1/suppressions?email=${encodeURIComponent(email)}`)).body.data[0] as { reason: string; note: string | null } | undefined;

describe('tidings suppressions import', () => {
  it('streams the file to the API with a progress bar, then prints a summary and the first errors', async () => {
    const lines = ['email,reason,note'];
    for (let i = 0; i < 3000; i++) lines.push(`gone${i}@cli.test,,bulk`);
    lines.push('not-an-address,,', 'gone0@cli.test,complaint,', 'late@cli.test,annoyed,');
    const csv = await file('bounces.csv', `${lines.join('\n')}\n`);

    const run = await tidings(['suppressions', 'import', csv, '--reason', 'hard_bounce', '--api-url', api.url, '--api-key', api.siteA.key]);
    expect(run.stderr).toMatch(/Importing \[[█░]+\] 100% \| \d+ KB of \d+ KB/);
    expect(run.stdout).toBe(
      'Imported 3,003 rows from bounces.csv: 3,000 new suppressions, 1 updated, 2 errors.\n' +
        '\nFirst errors:\n' +
        '  row 3002: Invalid email "not-an-address"\n' +
        '  row 3004: Invalid reason "annoyed" (one of hard_bounce, complaint, unsubscribe, manual)\n',
    );
    expect(run.code).toBe(0);
    expect(await suppressionOf('gone2999@cli.test')).toMatchObject({ reason: 'hard_bounce', note: 'bulk' });
    expect(await suppressionOf('gone0@cli.test')).toMatchObject({ reason: 'complaint', note: 'bulk' });
  });

  it('finds the key in TIDINGS_API_KEY and caps the printed errors with --show-errors', async () => {
    const csv = await file('few.csv', 'email\nok@few.test\nbad1\nbad2\nbad3\n');
    const run = await tidings(['suppressions', 'import', csv, '--api-url', api.url, '--show-errors', '1'], { TIDINGS_API_KEY: api.siteA.key });
    expect(run.stdout).toBe('Imported 4 rows from few.csv: 1 new suppressions, 0 updated, 3 errors.\n\nFirst errors:\n  row 3: Invalid email "bad1"\n  … and 2 more\n');
    expect(run.code).toBe(0);
    expect(await suppressionOf('ok@few.test')).toMatchObject({ reason: 'manual' });
  });

  it('exits non-zero with one line for a file without an email column, a missing file or a bad reason', async () => {
    const noEmail = await file('no-email.csv', 'name\nAda\n');
    const refused = await tidings(['suppressions', 'import', noEmail, '--api-url', api.url, '--api-key', api.siteA.key]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error: The CSV has no email column \(its header is: "name"\)\n$/);

    const missing = await tidings(['suppressions', 'import', 'nope.csv', '--api-url', api.url, '--api-key', api.siteA.key]);
    expect([missing.code, missing.stderr]).toEqual([1, 'error: No such file: nope.csv\n']);

    const badReason = await tidings(['suppressions', 'import', noEmail, '--reason', 'annoyed', '--api-url', api.url, '--api-key', api.siteA.key]);
    expect(badReason.code).toBe(1);
    expect(badReason.stderr).toMatch(/option '--reason <reason>' argument 'annoyed' is invalid\. Allowed choices are hard_bounce, complaint, unsubscribe, manual/);
  });
});
