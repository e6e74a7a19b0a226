/**
 * The dashboard's build: Vite bundles web/ into static files once, and they are cached on disk under
 * a hash of everything the build reads (web/ and the lockfile), so `npm start` builds the first time
 * (a few seconds) and reuses the files until a source or a package changes. No network: Vite and the
 * UI packages come from node_modules.
 *
 * An image builds ahead of time (`tsx src/web/build.ts <dir>`) and points TIDINGS_WEB_DIR at the
 * result; its runtime has no Vite at all.
 *
 * `tsx src/web/build.ts [outDir]` builds into outDir (default: the cache) and prints where.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runNodeChild, writableDir } from '../build-step.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WEB_ROOT = path.join(REPO_ROOT, 'web');
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'tidings');

/** Bumped when the build command or the cache layout changes. */
const FORMAT = 1;

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out.sort();
}

/** A hash of every input of the build: the dashboard's sources and the exact package versions. */
export async function webSourceHash(): Promise<string> {
  const hash = createHash('sha256').update(`${FORMAT}\0`);
  for (const file of [...(await filesUnder(WEB_ROOT)), path.join(REPO_ROOT, 'package-lock.json')]) {
    hash.update(path.relative(REPO_ROOT, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Runs `vite build` in a child process into `outDir`; rejects with its output when it fails. */
function viteBuild(outDir: string): Promise<void> {
  const vite = path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) {
    return Promise.reject(new Error('Vite is not installed (the dashboard is built from devDependencies): run `npm ci`, or set TIDINGS_WEB_DIR to a built dashboard'));
  }
  return runNodeChild([vite, 'build', '--config', path.join(WEB_ROOT, 'vite.config.ts'), '--outDir', outDir, '--emptyOutDir'], REPO_ROOT, 'building the dashboard');
}

/**
 * The directory holding the built dashboard (index.html and assets/): TIDINGS_WEB_DIR when given,
 * else the cached build for the current sources, built now when missing. Several processes starting
 * at once may each build; each writes a private folder and renames it into place, so none sees half.
 */
export async function ensureWebApp(opts: { webDir?: string; log?: (msg: string) => void } = {}): Promise<string> {
  if (opts.webDir) {
    if (!existsSync(path.join(opts.webDir, 'index.html'))) throw new Error(`TIDINGS_WEB_DIR=${opts.webDir} holds no index.html: build it with \`tsx src/web/build.ts ${opts.webDir}\``);
    return opts.webDir;
  }
  const key = await webSourceHash();
  const cacheable = await writableDir(CACHE_DIR);
  const base = cacheable ? CACHE_DIR : os.tmpdir();
  const target = path.join(base, `web-${key}`);
  if (existsSync(path.join(target, 'index.html'))) return target;
  const started = Date.now();
  const tmp = `${target}.${process.pid}.tmp`;
  await viteBuild(tmp);
  await rm(target, { recursive: true, force: true });
  await rename(tmp, target).catch(async (err: NodeJS.ErrnoException) => {
    // Another process renamed its build into place first: same inputs, same files.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'index.html'))) throw err;
  });
  opts.log?.(`built the dashboard in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return target;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const outDir = process.argv[2];
  if (outDir) {
    await viteBuild(path.resolve(outDir));
    console.log(path.resolve(outDir));
  } else {
    console.log(await ensureWebApp({ log: (m) => console.error(m) }));
  }
}
