import { Command, CommanderError } from 'commander';
import { registerCampaignCommands } from './commands/campaigns.js';
import { registerContactCommands } from './commands/contacts.js';
import { registerDbCommands } from './commands/db.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerSiteCommands } from './commands/sites.js';
import { registerSuppressionCommands } from './commands/suppressions.js';
import { registerUserCommands } from './commands/users.js';
import { CliError } from './errors.js';

/**
 * `tidings` — sites, API keys and dashboard users (straight to the database: DATABASE_URL or the running `npm start`)
 * and, through the HTTP API, CSV imports of contacts and suppressions and following campaigns.
 */
export function buildProgram(): Command {
  const program = new Command('tidings')
    .description('Tidings command line: sites, API keys, dashboard users, contact and suppression imports, campaigns')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerSiteCommands(program);
  registerKeyCommands(program);
  registerUserCommands(program);
  registerContactCommands(program);
  registerCampaignCommands(program);
  registerSuppressionCommands(program);
  registerDbCommands(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    // Commander has already printed usage errors, help and the version.
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.TIDINGS_DEBUG) console.error(err);
    return 1;
  }
}

process.exitCode = await main(process.argv);
