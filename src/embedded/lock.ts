import { open, readFile, rm, stat } from 'node:fs/promises';
import { isAlive, sleep } from './processes.js';

/**
 * Runs `fn` while holding an exclusive lock file (created with O_EXCL, holding our pid), so two
 * processes provisioning the same tool (two test runs, `npm start` and `npm test`) do not write into
 * one folder at once. A lock whose holder died is taken over.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      // An empty file is a lock being written this instant, unless it has been empty for long
      // (its writer died between creating and writing it). Otherwise only a dead holder's lock is stale.
      const age = Date.now() - ((await stat(lockPath).catch(() => null))?.mtimeMs ?? Date.now());
      if (holder ? !isAlive(holder) : age > 10_000) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${lockPath} (held by pid ${holder})`, { cause: err });
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}
