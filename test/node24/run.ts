/**
 * `npm run test:node24`: runs vitest with vitest.node24.config.ts on Node 24 LTS, the production
 * image's Node. Node 24 comes from the npm registry (the `node-<platform>-<arch>` package the `node`
 * package installs), provisioned once into `.tools/node24/` (git-ignored) and reused after.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../src/embedded/tools.js';

const MAJOR = 24;
const pkg = `node-${process.platform}-${process.arch}`;
const prefix = path.join(REPO_ROOT, '.tools', `node${MAJOR}`);
const binary = path.join(prefix, 'node_modules', pkg, 'bin', 'node');

function run(cmd: string, args: string[], cwd = REPO_ROOT): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function provision(): Promise<void> {
  if (existsSync(binary)) return;
  console.log(`node${MAJOR}: installing ${pkg}@${MAJOR} from the npm registry into ${prefix} ...`);
  await mkdir(prefix, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const code = await run(npm, ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@${MAJOR}`]);
  if (code !== 0 || !existsSync(binary)) throw new Error(`could not install ${pkg}@${MAJOR} (npm exit code ${code})`);
}

async function main(): Promise<number> {
  await provision();
  const version = await new Promise<string>((resolve) => {
    const child = spawn(binary, ['--version']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => resolve(out.trim()));
  });
  console.log(`node${MAJOR}: running the API, database and start-up tests on Node ${version}`);
  return run(binary, [path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '-c', 'vitest.node24.config.ts']);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`node${MAJOR}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
