/**
 * The workflow bundle of a long-lived worker, built by webpack in a short-lived child process and
 * cached on disk, so neither webpack's memory (about 100 MB of a worker's resident set when it bundled
 * in-process) nor its seconds of CPU stay with the worker.
 *
 * `tsx src/temporal/workflow-bundle.ts [workflowsPath]` builds the cache ahead of time (e.g. in an image).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runNodeChild, writableDir } from '../build-step.js';

const thisFile = fileURLToPath(import.meta.url);
const REPO_ROOT = path.resolve(path.dirname(thisFile), '../..');

/** Where bundles are cached: build output, git-ignored, and emptied by `npm ci` along with the SDK it was built by. */
export const WORKFLOW_BUNDLE_CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'tidings');

/** Bumped when the cache layout or the bundler options change. */
const FORMAT = 1;

interface Manifest {
  format: number;
  workflowsPath: string;
  /** Every file webpack read for the bundle (sources and the SDK's own), with its content hash. */
  files: Record<string, string>;
  /** Files webpack looked for and did not find under the repository (outside node_modules): one appearing changes a resolution. */
  missing: string[];
}

function cacheFiles(cacheDir: string, workflowsPath: string) {
  const key = createHash('sha256').update(`${FORMAT}\0${path.resolve(workflowsPath)}`).digest('hex').slice(0, 16);
  return { manifest: path.join(cacheDir, `workflows-${key}.json`), bundle: path.join(cacheDir, `workflows-${key}.js`) };
}

const hashOf = (content: Buffer) => createHash('sha256').update(content).digest('hex');

/** The cached bundle for these workflows if every file it was built from is unchanged; else null. */
export async function readCachedWorkflowBundle(cacheDir: string, workflowsPath: string): Promise<string | null> {
  const files = cacheFiles(cacheDir, workflowsPath);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(files.manifest, 'utf8')) as Manifest;
  } catch {
    return null;
  }
  if (manifest.format !== FORMAT || manifest.workflowsPath !== path.resolve(workflowsPath)) return null;
  for (const [file, hash] of Object.entries(manifest.files)) {
    const content = await readFile(file).catch(() => null);
    if (!content || hashOf(content) !== hash) return null;
  }
  if (manifest.missing.some((file) => existsSync(file))) return null;
  return readFile(files.bundle, 'utf8').catch(() => null);
}

/**
 * Builds the bundle in this process and writes it with its manifest into `cacheDir` (each file written
 * whole, then renamed into place, so a concurrent reader sees the old pair or the new one).
 */
async function buildIntoCache(cacheDir: string, workflowsPath: string): Promise<void> {
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  let fileDependencies: string[] = [];
  let missingDependencies: string[] = [];
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: new DefaultLogger('WARN'),
    webpackConfigHook: (config) => ({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        {
          apply(compiler) {
            compiler.hooks.done.tap('TidingsBundleManifest', (stats) => {
              fileDependencies = [...stats.compilation.fileDependencies];
              missingDependencies = [...stats.compilation.missingDependencies];
            });
          },
        },
      ],
    }),
  });
  const files: Record<string, string> = {};
  // The bundler's generated entry lives in an in-memory file system: it follows from the options alone.
  for (const file of fileDependencies.sort()) {
    const content = await readFile(file).catch(() => null);
    if (content) files[file] = hashOf(content);
  }
  const inRepo = (file: string) => file.startsWith(REPO_ROOT + path.sep) && !file.split(path.sep).includes('node_modules');
  const manifest: Manifest = { format: FORMAT, workflowsPath: path.resolve(workflowsPath), files, missing: missingDependencies.filter(inRepo).sort() };
  const target = cacheFiles(cacheDir, workflowsPath);
  await mkdir(cacheDir, { recursive: true });
  const tmp = `.${process.pid}.tmp`;
  // Bundle first, manifest last: a manifest always describes the bundle beside it.
  await writeFile(target.bundle + tmp, code);
  await rename(target.bundle + tmp, target.bundle);
  await writeFile(target.manifest + tmp, JSON.stringify(manifest));
  await rename(target.manifest + tmp, target.manifest);
}

/** Runs {@link buildIntoCache} in a child Node process (this file under tsx); rejects with its output if it fails. */
function buildInChild(cacheDir: string, workflowsPath: string): Promise<void> {
  // --import resolves `tsx` from the working directory: the repository's own.
  return runNodeChild(['--import', 'tsx', thisFile, path.resolve(workflowsPath), cacheDir], REPO_ROOT, 'bundling the workflow code');
}

/**
 * The workflow bundle for `workflowsPath`: from the cache when no file it was built from changed,
 * else built in a child process (a few seconds) and cached. A read-only cache dir (an image whose app
 * folder belongs to root) only costs the rebuild on every start.
 */
export async function loadWorkflowBundle(
  workflowsPath: string,
  opts: { cacheDir?: string; log?: (msg: string) => void } = {},
): Promise<{ code: string; cached: boolean }> {
  const cacheDir = opts.cacheDir ?? WORKFLOW_BUNDLE_CACHE_DIR;
  const cached = await readCachedWorkflowBundle(cacheDir, workflowsPath);
  if (cached !== null) return { code: cached, cached: true };
  const useCache = await writableDir(cacheDir);
  if (!useCache) opts.log?.(`${cacheDir} is not writable: the workflow bundle is rebuilt on every start`);
  const dir = useCache ? cacheDir : await mkdtemp(path.join(os.tmpdir(), 'tidings-bundle-'));
  try {
    await buildInChild(dir, workflowsPath);
    const code = await readFile(cacheFiles(dir, workflowsPath).bundle, 'utf8');
    return { code, cached: false };
  } finally {
    if (!useCache) await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const [workflowsPath = path.join(REPO_ROOT, 'workflows', 'index.ts'), cacheDir = WORKFLOW_BUNDLE_CACHE_DIR] = process.argv.slice(2);
  await buildIntoCache(cacheDir, workflowsPath);
}
