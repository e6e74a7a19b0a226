import type { Db } from '../src/db/client.js';
import type { Logger } from '../src/logger.js';
import { createContactImportActivities } from './contact-import.js';

/** What every activity factory may depend on; composition roots (worker, tests) build it. */
export interface ActivityDeps {
  db: Db;
  logger: Logger;
}

/** All activities registered on the worker: one factory per feature, merged. Names must not collide. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createContactImportActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
