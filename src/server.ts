import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from './api/app.js';
import { startAuthPurge } from './api/auth-purge.js';
import { startIdempotencyPurge, startStrandedSendSweep } from './api/idempotency-purge.js';
import { startMessageRetention } from './api/message-retention.js';

export interface RunningApi {
  /** Base URL clients can use (`http://localhost:3000` when bound to all interfaces). */
  url: string;
  /** Stops accepting connections, lets in-flight requests finish (up to `graceMs`), then closes. */
  close(): Promise<void>;
}

/** How long close() waits for in-flight requests before cutting connections. */
const DEFAULT_GRACE_MS = 10_000;

/**
 * Serves the API. Resolves once listening; a port already in use (or not permitted) rejects with a
 * one-line message that says what to do, not a stack trace.
 */
export async function startApi(
  deps: AppDeps,
  opts: { port: number; host: string; graceMs?: number },
): Promise<RunningApi> {
  const app = createApp(deps);
  const server = http.createServer(app);
  // Keep-alive sockets would otherwise hold close() open until their timeout.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(new Error(`API port ${opts.port} on ${opts.host} is already in use: stop the other process or set PORT to a free port`));
      } else if (err.code === 'EACCES') {
        reject(new Error(`Not allowed to listen on ${opts.host}:${opts.port}: choose a port above 1023 with PORT`));
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(new Error(`Cannot listen on ${opts.host}: the address is not on this machine; set HOST (e.g. 0.0.0.0)`));
      } else {
        reject(err);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts.port, opts.host);
  });

  const { port } = server.address() as AddressInfo;
  const displayHost = ['0.0.0.0', '::', ''].includes(opts.host) ? 'localhost' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${displayHost}:${port}`;
  deps.logger.info({ url }, 'API listening');
  const stopIdempotencyPurge = startIdempotencyPurge(deps.db, deps.logger);
  const stopAuthPurge = startAuthPurge(deps.db, deps.config, deps.logger);
  const stopSweep = startStrandedSendSweep(deps, deps.logger);
  const stopRetention = startMessageRetention(deps.db, deps.config, deps.logger);
  const stopPurge = () => Promise.all([stopIdempotencyPurge(), stopAuthPurge(), stopSweep(), stopRetention()]).then(() => {});

  let closing: Promise<void> | undefined;
  // A keep-alive socket that finishes its last response while we close would otherwise stay open
  // until keepAliveTimeout and hold close() for that long.
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.on('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });
  return {
    url,
    close() {
      // The purges in flight finish too: the caller closes the database next.
      closing ??= new Promise<void>((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), opts.graceMs ?? DEFAULT_GRACE_MS);
        force.unref();
        server.close((err) => {
          clearTimeout(force);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      }).finally(stopPurge);
      return closing;
    },
  };
}
