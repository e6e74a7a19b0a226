import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../crypto/passwords.js';
import { getSite } from '../../db/repositories/sites.js';
import { createUser, listUsers, type UserRole } from '../../db/repositories/users.js';
import type { Db } from '../../db/client.js';
import { withDatabase } from '../database.js';
import { CliError, positiveInt } from '../errors.js';
import { formatTable, printJson } from '../output.js';

const ROLES: UserRole[] = ['owner', 'editor', 'viewer'];

async function requireSite(db: Db, siteId: number): Promise<void> {
  if (!(await getSite(db, siteId))) throw new CliError(`Site ${siteId} does not exist (see: tidings sites list)`);
}

/** Reads one line from the terminal without showing what is typed (readline writing to a muted stream). */
async function askHidden(prompt: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    process.stderr.write(prompt);
    muted = true;
    return await rl.question('');
  } finally {
    muted = false;
    process.stderr.write('\n');
    rl.close();
  }
}

/**
 * The new user's password: TIDINGS_USER_PASSWORD (scripts), else typed twice on a terminal. Never a
 * command-line option, which would land in the shell history and the process list.
 */
async function readPassword(): Promise<string> {
  const fromEnv = process.env.TIDINGS_USER_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new CliError('No password: set TIDINGS_USER_PASSWORD, or run this in a terminal to type it');
  const password = await askHidden('Password: ');
  if ((await askHidden('Password again: ')) !== password) throw new CliError('The two passwords differ');
  return password;
}

const UserInput = z.object({
  email: z.string().trim().toLowerCase().max(254).check(z.email({ error: '--email must be a valid email address' })),
  name: z.string().trim().min(1, { error: '--name must not be empty' }).max(100),
  password: z
    .string()
    .min(PASSWORD_MIN_LENGTH, { error: `the password must be at least ${PASSWORD_MIN_LENGTH} characters` })
    .max(PASSWORD_MAX_LENGTH, { error: `the password must be at most ${PASSWORD_MAX_LENGTH} characters` }),
});

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('manage the web dashboard’s users of a site; talks to the database');

  users
    .command('create')
    .description('create a dashboard user (password from TIDINGS_USER_PASSWORD, or typed without echo)')
    .requiredOption('--site <id>', 'site id', positiveInt('--site'))
    .requiredOption('--email <email>', 'sign-in email (case-insensitive)')
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--role <role>', 'what the user may do').choices(ROLES).makeOptionMandatory())
    .option('--json', 'print JSON')
    .action(async (opts: { site: number; email: string; name: string; role: UserRole; json?: boolean }) => {
      const password = await readPassword();
      const parsed = UserInput.safeParse({ email: opts.email, name: opts.name, password });
      if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join('; '));
      const passwordHash = await hashPassword(parsed.data.password);
      const user = await withDatabase(async (db) => {
        await requireSite(db, opts.site);
        return createUser(db, { siteId: opts.site, email: parsed.data.email, name: parsed.data.name, role: opts.role, passwordHash });
      });
      if (opts.json) printJson(user);
      else console.log(`Created ${user.role} ${user.id} <${user.email}> in site ${user.siteId}. Sign in at /app/ with this email and password.`);
    });

  users
    .command('list')
    .description('list the dashboard users of a site')
    .requiredOption('--site <id>', 'site id', positiveInt('--site'))
    .option('--json', 'print JSON')
    .action(async (opts: { site: number; json?: boolean }) => {
      const rows = await withDatabase(async (db) => {
        await requireSite(db, opts.site);
        return listUsers(db, opts.site);
      });
      if (opts.json) printJson(rows);
      else console.log(formatTable(rows, ['id', 'email', 'name', 'role', 'lastLoginAt', 'disabledAt', 'createdAt']));
    });
}
