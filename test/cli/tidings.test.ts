import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listApiKeys } from '../../src/db/repositories/api-keys.js';
import { writeRuntimeInfo } from '../../src/embedded/runtime.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { startStack, type Stack } from '../e2e/stack.js';

let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(path.join(inject('testTmpDir'), 'cli-'));
});
afterAll(() => stack?.close());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `tidings` bin exactly as npm links it, with a clean environment (no inherited DATABASE_URL etc.). */
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

async function csvFile(name: string, rows: number, extra: string[] = []): Promise<string> {
  const lines = ['email,first_name,tags'];
  for (let i = 0; i < rows; i++) lines.push(`cli${i}@example.com,Cli ${i},from-csv`);
  const file = path.join(dir, name);
  await writeFile(file, `${[...lines, ...extra].join('\n')}\n`);
  return file;
}

describe('tidings contacts import', () => {
  it('uploads the file, shows a progress bar until done, then a summary and the first errors', async () => {
    const file = await csvFile('people.csv', 3000, ['broken-address,Broken,', 'also@broken,Also,']);
    const run = await tidings(['contacts', 'import', file, '--tag', 'cli', '--api-url', stack.apiUrl, '--api-key', stack.siteA.key]);

    expect(run.stderr).toMatch(/^Import \d+ started \(workflow import:\d+\)\./);
    expect(run.stderr).toMatch(/Importing \[[█░]+\] 100% \| 3002\/3002 rows \| 3,000 created, 0 updated, 2 errors/);
    expect(run.stdout).toBe(
      'Imported 3,002 rows from people.csv: 3,000 created, 0 updated, 2 errors.\n' +
        '\nFirst errors:\n' +
        '  row 3002: Invalid email "broken-address"\n' +
        '  row 3003: Invalid email "also@broken"\n',
    );
    expect(run.code).toBe(0);
    const res = await fetch(`${stack.apiUrl}/api/v1/contacts?q=cli2999@example.com`, { headers: { authorization: `Bearer ${stack.siteA.key}` } });
    expect(((await res.json()) as { data: unknown }).data).toMatchObject([{ email: 'cli2999@example.com', tags: ['cli', 'from-csv'] }]);
  });

  it('finds the API of a running instance through runtime.json and the key in TIDINGS_API_KEY', async () => {
    const realDir = await mkdtemp(path.join(dir, 'running-'));
    await writeRuntimeInfo(realDir, {
      pid: process.pid,
      databaseUrl: stack.testDb.url,
      temporalAddress: stack.env.address,
      namespace: 'default',
      apiUrl: stack.apiUrl,
      uiUrl: null,
    });
    const file = await csvFile('few.csv', 3);
    const run = await tidings(['contacts', 'import', file], { TIDINGS_DATA_DIR: realDir, TIDINGS_API_KEY: stack.siteB.key });
    expect(run.stdout).toBe('Imported 3 rows from few.csv: 3 created, 0 updated, 0 errors.\n');
    expect(run.code).toBe(0);
  });

  it('exits non-zero with one line when the API refuses the file', async () => {
    const file = path.join(dir, 'no-email.csv');
    await writeFile(file, 'name,phone\nAda,1\n');
    const run = await tidings(['contacts', 'import', file, '--api-url', stack.apiUrl, '--api-key', stack.siteA.key]);
    expect(run.stderr).toBe('error: The CSV has no email column (its header is: "name", "phone")\n');
    expect(run.code).toBe(1);
  });

  it('exits non-zero with one line for a missing file, a bad key and a missing API', async () => {
    const missing = await tidings(['contacts', 'import', 'nope.csv', '--api-url', stack.apiUrl, '--api-key', stack.siteA.key]);
    expect([missing.code, missing.stderr]).toEqual([1, 'error: No such file: nope.csv\n']);

    const file = await csvFile('one.csv', 1);
    const badKey = await tidings(['contacts', 'import', file, '--api-url', stack.apiUrl, '--api-key', 'tk_live_notarealkeynotarealkey0000']);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/^error: .*API key.*\n$/i);

    const noApi = await tidings(['contacts', 'import', file, '--api-key', stack.siteA.key]);
    expect(noApi.code).toBe(1);
    expect(noApi.stderr).toMatch(/^error: No API to talk to: start Tidings with `npm start` .*TIDINGS_API_URL\n$/);
  });
});

describe('tidings sites and keys', () => {
  it('creates and lists sites, and creates, lists and revokes keys in the database', async () => {
    const env = { DATABASE_URL: stack.testDb.url };
    const created = await tidings(['sites', 'create', 'Marketing', '--json'], env);
    expect(created.code).toBe(0);
    const site = JSON.parse(created.stdout) as { id: number; name: string };
    expect(site.name).toBe('Marketing');

    const sites = await tidings(['sites', 'list'], env);
    expect(sites.stdout).toMatch(new RegExp(`^${site.id}\\s+Marketing\\s`, 'm'));

    const key = await tidings(['keys', 'create', '--site', String(site.id), '--name', 'ci'], env);
    expect(key.code).toBe(0);
    const plaintext = /\btk_live_[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])/.exec(key.stdout)?.[0];
    expect(plaintext).toBeDefined();
    const [stored] = await listApiKeys(stack.testDb.db, site.id);
    expect(stored).toMatchObject({ name: 'ci', prefix: plaintext!.slice(0, 12), revokedAt: null });

    // The new key works against the API...
    const before = await fetch(`${stack.apiUrl}/api/v1/contacts`, { headers: { authorization: `Bearer ${plaintext}` } });
    expect(before.status).toBe(200);

    const listed = await tidings(['keys', 'list', '--site', String(site.id)], env);
    expect(listed.stdout).toMatch(new RegExp(`^${stored!.id}\\s+ci\\s+${stored!.prefix}\\s`, 'm'));
    expect(listed.stdout).not.toContain(plaintext);

    const revoked = await tidings(['keys', 'revoke', String(stored!.id), '--site', String(site.id)], env);
    expect([revoked.code, revoked.stdout]).toEqual([0, `Revoked API key ${stored!.id} of site ${site.id}.\n`]);
    // ...and no longer after revocation.
    const after = await fetch(`${stack.apiUrl}/api/v1/contacts`, { headers: { authorization: `Bearer ${plaintext}` } });
    expect(after.status).toBe(401);

    const again = await tidings(['keys', 'revoke', '999999', '--site', String(site.id)], env);
    expect([again.code, again.stderr]).toEqual([1, `error: Site ${site.id} has no API key 999999 (see: tidings keys list --site ${site.id})\n`]);
  });

  it('refuses a key for a site that does not exist and a non-numeric site id', async () => {
    const env = { DATABASE_URL: stack.testDb.url };
    const missing = await tidings(['keys', 'create', '--site', '999999'], env);
    expect([missing.code, missing.stderr]).toEqual([1, 'error: Site 999999 does not exist (see: tidings sites list)\n']);
    const bad = await tidings(['keys', 'list', '--site', 'abc'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: option '--site <id>' argument 'abc' is invalid/);
  });

  it('tells the user to run npm start or set DATABASE_URL when there is no database to talk to', async () => {
    const run = await tidings(['sites', 'list']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: No database to talk to: start Tidings with `npm start` \(no instance is running on .*\) or set DATABASE_URL\n$/);
  });

  it('uses the database of a running instance found through runtime.json', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'db-instance-'));
    await writeRuntimeInfo(dataDir, {
      pid: process.pid,
      databaseUrl: stack.testDb.url,
      temporalAddress: stack.env.address,
      namespace: 'default',
      apiUrl: stack.apiUrl,
      uiUrl: null,
    });
    const run = await tidings(['sites', 'list', '--json'], { TIDINGS_DATA_DIR: dataDir });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { name: string }[]).map((s) => s.name)).toEqual(expect.arrayContaining(['Site A', 'Site B']));
  });
});
