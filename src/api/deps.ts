import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Links } from '../mail/links.js';

/** Everything the HTTP API needs; built by the composition root (src/server.ts, src/main.ts, tests). */
export interface AppDeps {
  db: Db;
  temporal: Client;
  config: Config;
  logger: Logger;
  /**
   * Encrypts provider credentials. Optional: createApp builds it from `config.TIDINGS_SECRET` when
   * absent, and without a secret only the routes that handle credentials fail (500, logged).
   */
  secretBox?: SecretBox;
  /**
   * Renders campaign copies for the send log and the click check (their unsubscribe and tracking links).
   * Optional: createApp builds it from `config.TIDINGS_SECRET` and `PUBLIC_URL` when both are set.
   */
  links?: Links;
  /**
   * Transactional sends start their workflow eagerly: the server hands the first workflow task back in
   * its answer to this process's own worker instead of through the task queue. Only for a `temporal`
   * client built on the worker's NativeConnection in the same process (npm start's default).
   */
  eagerStart?: boolean;
  /** The built dashboard's folder, once built (src/web/build.ts); absent: /app answers 503. */
  webApp?: Promise<string>;
}
