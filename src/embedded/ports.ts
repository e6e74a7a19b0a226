import net from 'node:net';
import { StartupError } from './errors.js';

/**
 * Fails with a one-line StartupError when something already listens on host:port. Checked before
 * spawning a server so the user reads "port 7233 is in use" instead of a child's log excerpt.
 */
export async function assertPortFree(port: number, what: string, fix: string, host = '127.0.0.1'): Promise<void> {
  const free = await new Promise<boolean>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
  if (!free) throw new StartupError(`Port ${port} is already in use (${what}): ${fix}`);
}

/**
 * A port that is free now and that the OS will not hand out again for about a minute, so a test can
 * pick several ports and start servers on them without racing the servers' own ephemeral ports.
 *
 * Linux randomises ports for `bind(0)` and reuses a just-closed one readily (measured here: 1 pick
 * in 1,000 came back within the next 8 `bind(0)` calls). The Temporal dev server picks its internal
 * ports that way after checking ours, so a plain pick could be handed to one of its internal
 * services (or one of its picks taken by our server) and a start fails. So, as Temporal's own
 * GetFreePort does: connect to the port and close that connection from the listening side first.
 * The port's side then sits in TIME_WAIT, which keeps it out of `bind(0)` for 60 s while still
 * letting a server bind it explicitly (Node, Go, PostgreSQL and Java all set SO_REUSEADDR).
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    // The server closes each accepted connection at once: that side is the one left in TIME_WAIT.
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const { port } = server.address() as net.AddressInfo;
      const client = net.connect({ port, host });
      client.once('error', (err) => server.close(() => reject(err)));
      client.once('close', () => server.close(() => resolve(port)));
      client.resume();
    });
  });
}

/** True once a TCP connection to host:port succeeds. */
export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
