import type { Client } from '@temporalio/client';
import type { SecretBox } from '../src/crypto/secret-box.js';
import type { Db } from '../src/db/client.js';
import { createMailers, type Mailers } from '../src/mail/from-config.js';
import type { Links } from '../src/mail/links.js';
import type { Logger } from '../src/logger.js';
import { createCampaignActivities } from './campaign.js';
import { createContactImportActivities } from './contact-import.js';
import { createEnrollmentActivities } from './enrollment.js';
import { createDeliveryActivities } from './delivery.js';
import { createEnrollmentOutboxActivities } from './enrollment-outbox.js';
import type { Clock } from './support.js';
import { createWebhookDeliveryActivities } from './webhook-delivery.js';

/** What every activity factory may depend on; composition roots (worker, tests) build it. */
export interface ActivityDeps {
  db: Db;
  logger: Logger;
  /** Opens sending-config credentials (TIDINGS_SECRET); sends fail as unusable credentials without it. */
  secretBox?: SecretBox;
  /** One mailer per sending config, shared by every send of this process; built with defaults when absent. */
  mailers?: Mailers;
  /**
   * Unsubscribe links, List-Unsubscribe headers and open/click tracking on PUBLIC_URL for campaign and
   * sequence email; without it (tests of other features) that email carries none of them.
   */
  links?: Links;
  clock?: Clock;
  /** A Temporal client, for the one activity that starts workflows (the enrollment-outbox relay). */
  temporal?: Client;
  /**
   * `temporal` shares this process's worker connection: journeys the relay starts ask for eager start,
   * so the server hands each first workflow task straight to this process's main-queue worker.
   */
  eagerStart?: boolean;
}

/** All activities registered on the worker: one factory per feature, merged. Names must not collide. */
export function createActivities(deps: ActivityDeps) {
  // One set of mailers for every feature, so all sends through a config share its connection pool.
  const mailers = deps.mailers ?? createMailers();
  return {
    ...createContactImportActivities(deps),
    ...createDeliveryActivities({ ...deps, mailers }),
    ...createEnrollmentActivities({ ...deps, mailers }),
    ...createCampaignActivities({ ...deps, mailers }),
    ...createWebhookDeliveryActivities(deps),
    ...createEnrollmentOutboxActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
