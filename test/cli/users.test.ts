import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyPassword } from '../../src/crypto/passwords.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { findUserForLogin } from '../../src/db/repositories/users.js';
import { REPO_ROOT } from '../../src/embedded/tools.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

let t: TestDb;
let dir: string;
let siteId: number;

beforeAll(async () => {
  // The users commands talk only to the database: no API, no Temporal.
  t = await createTestDb();
  siteId = (await createSite(t.db, { name: 'CLI users' })).id;
  dir = await mkdtemp(path.join(inject('testTmpDir'), 'cli-users-'));
});
afterAll(() => t?.close());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `tidings` bin exactly as npm links it, with a clean environment and no terminal. */
function tidings(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'src', 'cli', 'tidings.js'), ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TIDINGS_DATA_DIR: path.join(dir, 'no-instance'),
        DATABASE_URL: t.url,
        ...env,
      },
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

const create = (email: string, role: string, env: Record<string, string> = { TIDINGS_USER_PASSWORD: 'a long enough password' }) =>
  tidings(['users', 'create', '--site', String(siteId), '--email', email, '--name', 'Ada Lovelace', '--role', role], env);

describe('tidings users', () => {
  it('creates a user with the password from TIDINGS_USER_PASSWORD, hashed, and lists it', async () => {
    const run = await create('Ada@Example.com', 'owner');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Created owner \\d+ <ada@example.com> in site ${siteId}\\.`));
    expect(run.stdout).not.toContain('a long enough password');

    const found = await findUserForLogin(t.db, 'ada@example.com');
    expect(found?.user).toMatchObject({ siteId, role: 'owner', name: 'Ada Lovelace' });
    expect(found!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(found!.passwordHash, 'a long enough password')).toBe(true);

    const list = await tidings(['users', 'list', '--site', String(siteId)]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^id\s+email\s+name\s+role\s+lastLoginAt\s+disabledAt\s+createdAt$/m);
    expect(list.stdout).toMatch(/^\d+\s+ada@example\.com\s+Ada Lovelace\s+owner\s+-\s+-\s+\d{4}-/m);
    const json = JSON.parse((await tidings(['users', 'list', '--site', String(siteId), '--json'])).stdout) as Record<string, unknown>[];
    expect(json.map((u) => u.email)).toEqual(['ada@example.com']);
    expect(Object.keys(json[0]!)).not.toContain('passwordHash');
  });

  it('exits non-zero with one line for a taken email, a bad role, a short password, an unknown site and no password', async () => {
    const taken = await create('ADA@example.com', 'editor');
    expect([taken.code, taken.stderr]).toEqual([1, 'error: An account with this email already exists\n']);

    const role = await create('role@example.com', 'admin');
    expect(role.code).toBe(1);
    expect(role.stderr).toMatch(/argument 'admin' is invalid. Allowed choices are owner, editor, viewer/);

    const short = await create('short@example.com', 'viewer', { TIDINGS_USER_PASSWORD: 'short' });
    expect([short.code, short.stderr]).toEqual([1, 'error: the password must be at least 10 characters\n']);

    const site = await tidings(['users', 'list', '--site', '99999']);
    expect([site.code, site.stderr]).toEqual([1, 'error: Site 99999 does not exist (see: tidings sites list)\n']);

    // No TIDINGS_USER_PASSWORD and no terminal to type it on.
    const none = await create('none@example.com', 'viewer', {});
    expect([none.code, none.stderr]).toEqual([1, 'error: No password: set TIDINGS_USER_PASSWORD, or run this in a terminal to type it\n']);
    expect(await findUserForLogin(t.db, 'none@example.com')).toBeNull();
  });
});
