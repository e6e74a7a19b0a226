/**
 * What the two builds a long-lived process needs at start have in common (the workflow bundle,
 * src/temporal/workflow-bundle.ts, and the dashboard, src/web/build.ts): they run in a short-lived
 * child Node process, so the bundler's memory and CPU do not stay with the server, and they cache
 * their output in a folder that may not be writable (an image whose app folder belongs to root).
 */
import { spawn } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';

/** Runs `node <args>` in `cwd`; resolves on exit code 0, else rejects with `what` failed and the end of its output. */
export function runNodeChild(args: string[], cwd: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (${signal ?? `exit code ${code}`}):\n${output.slice(-8000)}`));
    });
  });
}

/** True when `dir` exists (created if need be) and this process may write in it. */
export async function writableDir(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
