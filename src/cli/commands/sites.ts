import type { Command } from 'commander';
import { createSite, listSites } from '../../db/repositories/sites.js';
import { withDatabase } from '../database.js';
import { CliError } from '../errors.js';
import { formatTable, printJson } from '../output.js';

export function registerSiteCommands(program: Command): void {
  const sites = program.command('sites').description('manage sites (isolated tenants); talks to the database');

  sites
    .command('create')
    .description('create a site')
    .argument('<name>', 'site name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      if (!name.trim()) throw new CliError('site name must not be empty');
      const site = await withDatabase((db) => createSite(db, { name: name.trim() }));
      if (opts.json) printJson(site);
      else console.log(`Created site ${site.id} "${site.name}". Create an API key for it: tidings keys create --site ${site.id}`);
    });

  sites
    .command('list')
    .description('list sites')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withDatabase((db) => listSites(db));
      if (opts.json) printJson(rows);
      else console.log(formatTable(rows, ['id', 'name', 'createdAt']));
    });
}
