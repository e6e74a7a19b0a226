import type { Command } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey } from '../../db/repositories/api-keys.js';
import { getSite } from '../../db/repositories/sites.js';
import type { Db } from '../../db/client.js';
import { withDatabase } from '../database.js';
import { CliError, positiveInt } from '../errors.js';
import { formatTable, printJson } from '../output.js';

async function requireSite(db: Db, siteId: number): Promise<void> {
  if (!(await getSite(db, siteId))) throw new CliError(`Site ${siteId} does not exist (see: tidings sites list)`);
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('manage API keys of a site; talks to the database');

  keys
    .command('create')
    .description('create an API key (the key is shown once)')
    .requiredOption('--site <id>', 'site id', positiveInt('--site'))
    .option('--name <name>', 'a label for the key', 'default')
    .option('--json', 'print JSON')
    .action(async (opts: { site: number; name: string; json?: boolean }) => {
      const { apiKey, key } = await withDatabase(async (db) => {
        await requireSite(db, opts.site);
        return createApiKey(db, { siteId: opts.site, name: opts.name });
      });
      if (opts.json) {
        printJson({ ...apiKey, key });
        return;
      }
      console.log(`Created API key ${apiKey.id} "${apiKey.name}" for site ${apiKey.siteId}. It is shown only this once:`);
      console.log(`\n  ${key}\n`);
      console.log(`Use it as: Authorization: Bearer ${apiKey.prefix}…  (or TIDINGS_API_KEY for this CLI)`);
    });

  keys
    .command('list')
    .description('list the API keys of a site (prefix only)')
    .requiredOption('--site <id>', 'site id', positiveInt('--site'))
    .option('--json', 'print JSON')
    .action(async (opts: { site: number; json?: boolean }) => {
      const rows = await withDatabase(async (db) => {
        await requireSite(db, opts.site);
        return listApiKeys(db, opts.site);
      });
      if (opts.json) printJson(rows);
      else console.log(formatTable(rows, ['id', 'name', 'prefix', 'lastUsedAt', 'revokedAt', 'createdAt']));
    });

  keys
    .command('revoke')
    .description('revoke an API key; requests with it get 401 from then on')
    .argument('<id>', 'key id', positiveInt('key id'))
    .requiredOption('--site <id>', 'site id', positiveInt('--site'))
    .action(async (id: number, opts: { site: number }) => {
      const revoked = await withDatabase((db) => revokeApiKey(db, opts.site, id));
      if (!revoked) throw new CliError(`Site ${opts.site} has no API key ${id} (see: tidings keys list --site ${opts.site})`);
      console.log(`Revoked API key ${id} of site ${opts.site}.`);
    });
}
