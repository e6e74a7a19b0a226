import type { Command } from 'commander';
import { migrationsFolder } from '../../db/migrate.js';
import { withDatabase } from '../database.js';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('database maintenance; talks to the database');

  db.command('migrate')
    .description(`apply the committed migrations (${migrationsFolder}); npm start does this too`)
    .action(async () => {
      // withDatabase migrates before it hands out the connection; nothing else to do.
      await withDatabase(async () => undefined);
      console.log('Database is up to date.');
    });
}
