import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  json,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/pg-core';
import type { CampaignCopyContext } from '../mail/campaign-copy.js';
import type { TemplateSource } from '../mail/render.js';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

/** A site is one isolated tenant: every other row hangs off a site id. */
export const sites = pgTable('sites', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  /** Minimum days between two sequence emails to one contact (0 = no cap). */
  sendFrequencyCapDays: integer('send_frequency_cap_days').notNull().default(0),
  ...timestamps,
});

/** The tenant column every site-owned table carries; deleting a site deletes what it owns. */
const siteIdColumn = () =>
  integer('site_id')
    .notNull()
    .references(() => sites.id, { onDelete: 'cascade' });

/** A contact's row, gone with the contact. */
const contactIdColumn = () =>
  integer('contact_id')
    .notNull()
    .references(() => contacts.id, { onDelete: 'cascade' });

/** A sequence's row, gone with the sequence. */
const sequenceIdColumn = () =>
  integer('sequence_id')
    .notNull()
    .references(() => sequences.id, { onDelete: 'cascade' });

/** API keys are stored as SHA-256 hashes; only the prefix is kept readable for listing. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    name: text('name').notNull().default('default'),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamps.createdAt,
  },
  (t) => [uniqueIndex('api_keys_key_hash_uq').on(t.keyHash), index('api_keys_site_idx').on(t.siteId)],
);

// ---------------------------------------------------------------------------------------------
// Accounts and sign-in (the web dashboard): people, their browser sessions, one-time sign-up links

export const userRole = pgEnum('user_role', ['owner', 'editor', 'viewer']);

/**
 * A person who signs in to the dashboard, in one site. The email is stored lowercased (the check makes
 * any other writer fail loudly) and is unique across sites: sign-in asks only for email and password.
 * Passwords are argon2id hashes (src/crypto/passwords.ts).
 */
export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: userRole('role').notNull(),
    passwordHash: text('password_hash').notNull(),
    createdAt: timestamps.createdAt,
    lastLoginAt: timestamp('last_login_at', { withTimezone: true, mode: 'date' }),
    /** Set while the account may not sign in; its sessions are deleted when it is set. */
    disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('users_email_uq').on(t.email),
    index('users_site_idx').on(t.siteId),
    check('users_email_lowercase', sql`${t.email} = lower(${t.email})`),
  ],
);

/**
 * A signed-in browser. The id is the SHA-256 of the random cookie token, so a copy of this table signs
 * nobody in. Idle expiry is `last_seen_at` + TIDINGS_SESSION_IDLE_HOURS; `expires_at` is the absolute end.
 */
export const userSessions = pgTable(
  'user_sessions',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Sent back by the dashboard as X-CSRF-Token on every write. */
    csrfToken: text('csrf_token').notNull(),
    createdAt: timestamps.createdAt,
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    userAgent: text('user_agent'),
    ip: text('ip'),
  },
  (t) => [index('user_sessions_user_idx').on(t.userId), index('user_sessions_expires_at_idx').on(t.expiresAt)],
);

/** One-time sign-up links (`/app/setup?token=…`), stored as the SHA-256 of the token. */
export const setupTokens = pgTable(
  'setup_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    siteId: siteIdColumn(),
    role: userRole('role').notNull(),
    createdAt: timestamps.createdAt,
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('setup_tokens_site_idx').on(t.siteId)],
);

/**
 * Failed sign-ins of the last minutes, one row each, read by the login rate limit (per email and per
 * client address). In PostgreSQL rather than in memory so every API process counts the same attempts.
 */
export const loginFailures = pgTable(
  'login_failures',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    email: text('email').notNull(),
    ip: text('ip').notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    index('login_failures_email_idx').on(t.email, t.createdAt),
    index('login_failures_ip_idx').on(t.ip, t.createdAt),
    // The purge of failures older than the window.
    index('login_failures_created_at_idx').on(t.createdAt),
  ],
);

export const contactStatus = pgEnum('contact_status', ['subscribed', 'unsubscribed', 'bounced', 'complained']);

export const contacts = pgTable(
  'contacts',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    email: text('email').notNull(),
    firstName: text('first_name'),
    lastName: text('last_name'),
    phone: text('phone'),
    company: text('company'),
    city: text('city'),
    country: text('country'),
    timezone: text('timezone'),
    customFields: jsonb('custom_fields').$type<Record<string, unknown>>().notNull().default({}),
    source: text('source'),
    status: contactStatus('status').notNull().default('subscribed'),
    subscribedAt: timestamp('subscribed_at', { withTimezone: true, mode: 'date' }),
    unsubscribedAt: timestamp('unsubscribed_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('contacts_site_email_uq').on(t.siteId, t.email),
    index('contacts_site_status_idx').on(t.siteId, t.status),
    index('contacts_site_id_idx').on(t.siteId, t.id),
  ],
);

export const lists = pgTable(
  'lists',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    name: text('name').notNull(),
    description: text('description'),
    ...timestamps,
  },
  (t) => [index('lists_site_idx').on(t.siteId)],
);

export const listMembers = pgTable(
  'list_members',
  {
    listId: integer('list_id')
      .notNull()
      .references(() => lists.id, { onDelete: 'cascade' }),
    contactId: contactIdColumn(),
    addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.listId, t.contactId] }), index('list_members_contact_idx').on(t.contactId)],
);

export const tags = pgTable(
  'tags',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    name: text('name').notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [uniqueIndex('tags_site_name_uq').on(t.siteId, t.name)],
);

export const contactTags = pgTable(
  'contact_tags',
  {
    contactId: contactIdColumn(),
    tagId: integer('tag_id')
      .notNull()
      .references(() => tags.id, { onDelete: 'cascade' }),
    addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.contactId, t.tagId] }), index('contact_tags_tag_idx').on(t.tagId)],
);

export const importStatus = pgEnum('import_status', ['queued', 'running', 'completed', 'failed']);

/**
 * A CSV import. The uploaded file is kept in the database (not on a worker's disk) so that any worker,
 * after any restart, can resume the workflow from its last committed row offset.
 */
export const imports = pgTable(
  'imports',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    filename: text('filename'),
    csv: text('csv').notNull(),
    status: importStatus('status').notNull().default('queued'),
    totalRows: integer('total_rows'),
    processedRows: integer('processed_rows').notNull().default(0),
    createdCount: integer('created_count').notNull().default(0),
    updatedCount: integer('updated_count').notNull().default(0),
    errorCount: integer('error_count').notNull().default(0),
    /** Options: list ids / tags applied to every imported row. */
    options: jsonb('options').$type<{ listIds?: number[]; tags?: string[] }>().notNull().default({}),
    workflowId: text('workflow_id').notNull(),
    /** Header fields and delimiter as read once by the prepare step; every batch maps its rows with them. */
    header: jsonb('header').$type<string[]>(),
    delimiter: text('delimiter'),
    /** Number of staged batches (import_batches); null until the file has been split. */
    batchCount: integer('batch_count'),
    /**
     * The commit cursor: the next batch to import. A batch commits its rows and advances this in one
     * transaction, so a re-run of an already-committed batch sees `nextBatch > seq` and does nothing.
     */
    nextBatch: integer('next_batch').notNull().default(0),
    /** Why the import failed (malformed CSV, missing email column), for status = failed. */
    error: text('error'),
    ...timestamps,
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('imports_site_idx').on(t.siteId)],
);

/**
 * An import's file split at record boundaries into batches of N data rows (the staging step). The file
 * is parsed in full once; each batch then reads and parses only its own slice, so total work stays
 * linear in file size. Rows are deleted when the import completes.
 */
export const importBatches = pgTable(
  'import_batches',
  {
    importId: integer('import_id')
      .notNull()
      .references(() => imports.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    /** Line of the file on which this slice starts (for row numbers in errors). */
    firstLine: integer('first_line').notNull(),
    /** The slice of the CSV text, header excluded. */
    csv: text('csv').notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.seq] })],
);

/** Per-row problems of an import; (import, row) is unique so a retried batch records each once. */
export const importErrors = pgTable(
  'import_errors',
  {
    importId: integer('import_id')
      .notNull()
      .references(() => imports.id, { onDelete: 'cascade' }),
    row: integer('row').notNull(),
    message: text('message').notNull(),
    raw: jsonb('raw').$type<Record<string, string>>(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.row] })],
);

/** Stored answers to POSTs sent with an Idempotency-Key, so a retry gets the first answer back. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    siteId: siteIdColumn(),
    key: text('key').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    statusCode: integer('status_code').notNull(),
    body: jsonb('body'),
    createdAt: timestamps.createdAt,
  },
  // created_at: the hourly purge of expired keys (src/api/idempotency-purge.ts).
  (t) => [primaryKey({ columns: [t.siteId, t.key] }), index('idempotency_keys_created_at_idx').on(t.createdAt)],
);


export const providerName = pgEnum('provider_name', ['resend', 'smtp', 'log']);

/**
 * How a site sends: provider, sender identity and credentials. Credentials are stored only as
 * AES-256-GCM ciphertext under TIDINGS_SECRET (src/crypto/secret-box.ts) and never returned.
 */
export const sendingConfigs = pgTable(
  'sending_configs',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    name: text('name').notNull(),
    provider: providerName('provider').notNull(),
    fromEmail: text('from_email').notNull(),
    fromName: text('from_name'),
    replyTo: text('reply_to'),
    credentialsEncrypted: text('credentials_encrypted').notNull(),
    /** Provider rate limit shared by every send of every kind through this config; null = unlimited. */
    maxPerSecond: integer('max_per_second'),
    trackOpens: boolean('track_opens').notNull().default(true),
    trackClicks: boolean('track_clicks').notNull().default(true),
    /** Resend webhook signing secret (whsec_...), encrypted like the credentials. */
    webhookSecretEncrypted: text('webhook_secret_encrypted'),
    ...timestamps,
  },
  (t) => [index('sending_configs_site_idx').on(t.siteId)],
);

/**
 * The distributed rate limiter's state, one row per sending config: a GCRA "theoretical arrival
 * time". Every worker reserves send slots with one UPDATE, so the limit holds across processes.
 */
export const sendRateLimits = pgTable('send_rate_limits', {
  sendingConfigId: integer('sending_config_id')
    .primaryKey()
    .references(() => sendingConfigs.id, { onDelete: 'cascade' }),
  tat: timestamp('tat', { withTimezone: true, mode: 'date', precision: 6 }).notNull().defaultNow(),
});

/**
 * The API's per-key request counters, shared by every API process (src/api/middleware/rate-limit.ts).
 * The layout is rate-limiter-flexible's RateLimiterPostgres table: `expire` in epoch milliseconds.
 */
export const apiRateLimits = pgTable('api_rate_limits', {
  key: varchar('key', { length: 255 }).primaryKey(),
  points: integer('points').notNull().default(0),
  expire: bigint('expire', { mode: 'number' }),
});

export const templates = pgTable(
  'templates',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    name: text('name').notNull(),
    subject: text('subject').notNull(),
    html: text('html').notNull(),
    text: text('text'),
    ...timestamps,
  },
  (t) => [index('templates_site_idx').on(t.siteId)],
);

export const sendKind = pgEnum('send_kind', ['transactional', 'campaign', 'sequence']);
export const sendStatus = pgEnum('send_status', [
  'queued',
  'sent',
  'delivered',
  'delivery_delayed',
  'bounced',
  'complained',
  'failed',
  'suppressed',
]);

/**
 * The send log: one row per email of any kind. `idempotencyKey` is unique and derived from business
 * identity, and the same key goes to the provider, so a retried or duplicated send is a no-op.
 *
 * The message is stored in one of two ways. Most rows hold their rendered `html` and `text`. A campaign
 * copy holds `copyContext` instead (the contact fields and tracking switches it was rendered with) and
 * is rendered again from the campaign's frozen content whenever it is sent or shown
 * (src/mail/campaign-copy.ts). The retention purge nulls both after TIDINGS_MESSAGE_RETENTION_DAYS.
 */
export const sends = pgTable(
  'sends',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    kind: sendKind('kind').notNull(),
    contactId: integer('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    toEmail: text('to_email').notNull(),
    cc: jsonb('cc').$type<string[]>(),
    bcc: jsonb('bcc').$type<string[]>(),
    replyTo: text('reply_to'),
    headers: jsonb('headers').$type<Record<string, string>>(),
    subject: text('subject').notNull(),
    html: text('html'),
    text: text('text'),
    /**
     * json, not jsonb: kept as written, so the fields read back are the very object the copy was
     * rendered from, key order included (a Liquid `for` over them would show another order).
     */
    copyContext: json('copy_context').$type<CampaignCopyContext>(),
    sendingConfigId: integer('sending_config_id')
      .notNull()
      .references(() => sendingConfigs.id, { onDelete: 'restrict' }),
    templateId: integer('template_id').references(() => templates.id, { onDelete: 'set null' }),
    campaignId: integer('campaign_id'),
    sequenceId: integer('sequence_id'),
    stepId: integer('step_id'),
    enrollmentId: text('enrollment_id'),
    providerMessageId: text('provider_message_id'),
    status: sendStatus('status').notNull().default('queued'),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    idempotencyKey: text('idempotency_key').notNull(),
    workflowId: text('workflow_id'),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('sends_idempotency_key_uq').on(t.idempotencyKey),
    index('sends_site_created_idx').on(t.siteId, t.id),
    index('sends_contact_idx').on(t.contactId),
    // Partial: a send has no provider id until it is sent, and a campaign or transactional send no
    // sequence; leaving those rows out spares every campaign email two index entries.
    index('sends_provider_message_idx').on(t.providerMessageId).where(sql`${t.providerMessageId} is not null`),
    index('sends_campaign_idx').on(t.campaignId),
    index('sends_sequence_idx').on(t.sequenceId).where(sql`${t.sequenceId} is not null`),
    // Only rows that still hold a body: the retention purge finds its next rows without walking the pruned ones.
    index('sends_body_kept_idx')
      .on(t.createdAt)
      .where(sql`${t.html} is not null or ${t.copyContext} is not null`),
  ],
);

export const suppressionReason = pgEnum('suppression_reason', ['hard_bounce', 'complaint', 'unsubscribe', 'manual']);

/** Addresses no email of any kind may reach on this site; checked before every send. */
export const suppressions = pgTable(
  'suppressions',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    email: text('email').notNull(),
    reason: suppressionReason('reason').notNull(),
    note: text('note'),
    createdAt: timestamps.createdAt,
  },
  (t) => [uniqueIndex('suppressions_site_email_uq').on(t.siteId, t.email)],
);

// ---------------------------------------------------------------------------------------------
// Events: delivery feedback (provider webhooks, tracking) and contact events (POST /contacts/:id/events)

/**
 * Normalized email events (sent, delivered, opened, clicked, bounced, complained, unsubscribed, ...),
 * each linked to its send when known. `dedupeKey` (provider event id, or `open:<sendId>` for our own
 * pixel) is unique so retried webhooks and repeated opens record once.
 */
export const emailEvents = pgTable(
  'email_events',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    type: text('type').notNull(),
    sendId: integer('send_id').references(() => sends.id, { onDelete: 'cascade' }),
    contactId: integer('contact_id').references(() => contacts.id, { onDelete: 'cascade' }),
    campaignId: integer('campaign_id'),
    sequenceId: integer('sequence_id'),
    stepId: integer('step_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    dedupeKey: text('dedupe_key'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    uniqueIndex('email_events_dedupe_uq').on(t.siteId, t.dedupeKey),
    index('email_events_contact_idx').on(t.contactId, t.type, t.occurredAt),
    index('email_events_send_idx').on(t.sendId),
    index('email_events_step_idx').on(t.stepId, t.type),
    index('email_events_campaign_idx').on(t.campaignId, t.type),
    index('email_events_site_time_idx').on(t.siteId, t.occurredAt),
  ],
);

/** Named things a contact did in the customer's product (`purchased`), posted by the API. */
export const contactEvents = pgTable(
  'contact_events',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    contactId: contactIdColumn(),
    name: text('name').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamps.createdAt,
  },
  (t) => [index('contact_events_contact_idx').on(t.contactId, t.name, t.createdAt)],
);

// ---------------------------------------------------------------------------------------------
// Sequences

export const sequenceStatus = pgEnum('sequence_status', ['active', 'paused', 'archived']);
export const delayUnit = pgEnum('delay_unit', ['minutes', 'hours', 'days', 'weeks']);
export const stepType = pgEnum('step_type', ['email', 'condition', 'wait_for_event']);
export const enrollmentStatus = pgEnum('enrollment_status', ['active', 'completed', 'exited', 'unenrolled', 'failed']);

/** Trigger that enrolls contacts automatically (manual = only through the API). */
export type SequenceTrigger =
  | { type: 'manual' }
  | { type: 'list_add'; listId: number }
  | { type: 'tag_add'; tagId: number }
  | { type: 'event'; name: string };

/** Days are ISO weekdays (1 = Monday … 7 = Sunday); hours are [startHour, endHour) in the contact's timezone. */
export interface SendWindow {
  days: number[];
  startHour: number;
  endHour: number;
  /** Used when the contact has no timezone. */
  timezone?: string;
}

export interface ExitOn {
  events?: string[];
  tags?: string[];
}

export const sequences = pgTable(
  'sequences',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    name: text('name').notNull(),
    sendingConfigId: integer('sending_config_id')
      .notNull()
      .references(() => sendingConfigs.id, { onDelete: 'restrict' }),
    status: sequenceStatus('status').notNull().default('active'),
    trigger: jsonb('trigger').$type<SequenceTrigger>().notNull().default({ type: 'manual' }),
    allowReenrollment: boolean('allow_reenrollment').notNull().default(false),
    sendWindow: jsonb('send_window').$type<SendWindow>(),
    exitOn: jsonb('exit_on').$type<ExitOn>().notNull().default({}),
    ...timestamps,
  },
  (t) => [index('sequences_site_idx').on(t.siteId)],
);

/** Condition of a `condition` step. */
export type StepCondition =
  | { kind: 'opened' | 'clicked'; stepId: number }
  | { kind: 'has_tag'; tag: string }
  | { kind: 'field'; field: string; op: string; value?: unknown };

/**
 * One step. Steps are soft-deleted (`deletedAt`) so a running enrollment that already points at a
 * removed step can still move past it; content is read at send time so edits reach future sends.
 */
export const sequenceSteps = pgTable(
  'sequence_steps',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    sequenceId: sequenceIdColumn(),
    position: integer('position').notNull(),
    type: stepType('type').notNull().default('email'),
    delayValue: integer('delay_value').notNull().default(0),
    delayUnit: delayUnit('delay_unit').notNull().default('minutes'),
    subject: text('subject'),
    html: text('html'),
    text: text('text'),
    templateId: integer('template_id').references(() => templates.id, { onDelete: 'set null' }),
    condition: jsonb('condition').$type<StepCondition>(),
    /** For condition / wait_for_event: where to go; null ends the enrollment. */
    thenStepId: integer('then_step_id'),
    elseStepId: integer('else_step_id'),
    event: text('event'),
    timeoutValue: integer('timeout_value'),
    timeoutUnit: delayUnit('timeout_unit'),
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [index('sequence_steps_sequence_idx').on(t.sequenceId, t.position)],
);

/**
 * One contact's journey through a sequence, mirrored from its workflow. At most one active
 * enrollment per (sequence, contact); `run` counts re-enrollments and is part of the workflow ID.
 */
export const enrollments = pgTable(
  'enrollments',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    sequenceId: sequenceIdColumn(),
    contactId: contactIdColumn(),
    run: integer('run').notNull().default(1),
    workflowId: text('workflow_id').notNull(),
    status: enrollmentStatus('status').notNull().default('active'),
    exitReason: text('exit_reason'),
    currentStepId: integer('current_step_id'),
    nextStepAt: timestamp('next_step_at', { withTimezone: true, mode: 'date' }),
    enrolledAt: timestamp('enrolled_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('enrollments_workflow_uq').on(t.workflowId),
    uniqueIndex('enrollments_seq_contact_run_uq').on(t.sequenceId, t.contactId, t.run),
    uniqueIndex('enrollments_one_active_uq')
      .on(t.sequenceId, t.contactId)
      .where(sql`status = 'active'`),
    index('enrollments_contact_idx').on(t.contactId, t.status),
    index('enrollments_sequence_status_idx').on(t.sequenceId, t.status),
  ],
);

/**
 * A bulk enrollment (`POST /sequences/:id/enroll` with a list, tag or segment): the request stages one
 * outbox row per member with the job's id and answers 202; the enrollment-outbox relay turns them into
 * enrollments and starts their journeys in batches, counting each outcome here (`GET /enrollment-jobs/:id`).
 */
export const enrollmentJobs = pgTable(
  'enrollment_jobs',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    sequenceId: sequenceIdColumn(),
    /** Where the contacts came from: `list`, `tag` or `segment`, and its id. */
    sourceKind: text('source_kind').notNull(),
    sourceId: integer('source_id').notNull(),
    /** Contacts staged (the source's members when the request was made). */
    total: integer('total').notNull().default(0),
    enrolled: integer('enrolled').notNull().default(0),
    /** Enrolled contacts whose journey's workflow is started. */
    started: integer('started').notNull().default(0),
    alreadyActive: integer('already_active').notNull().default(0),
    alreadyEnrolled: integer('already_enrolled').notNull().default(0),
    /** Not subscribed or suppressed by the time their row was taken, or the sequence stopped being active. */
    skipped: integer('skipped').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** When the last staged row was settled (null while running). */
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('enrollment_jobs_sequence_idx').on(t.sequenceId)],
);

/**
 * The outbox of journeys to start. PostgreSQL itself writes a row (triggers on list_members and
 * contact_tags, migration 0006) in the transaction that adds a contact to a list or a tag, for every
 * active sequence whose list_add or tag_add trigger that is, whichever way the contact was added (API,
 * bulk upsert, CSV import); `POST /sequences/:id/enroll` writes one with each enrollment it makes. A
 * row becomes its enrollment (`enrollmentId` set, in the enrollment's transaction) and is deleted
 * once that enrollment's workflow has started, so a crash or a Temporal outage in between delays a
 * journey but neither loses nor doubles it (src/services/enrollment-outbox.ts).
 */
export const enrollmentOutbox = pgTable(
  'enrollment_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    siteId: siteIdColumn(),
    sequenceId: sequenceIdColumn(),
    contactId: contactIdColumn(),
    /** `list_add`, `tag_add` (staged by PostgreSQL), `api` (an enroll request) or `job` (a bulk enrollment). */
    source: text('source').notNull(),
    /** The bulk enrollment that staged this row, whose counters its outcome updates. */
    jobId: integer('job_id').references(() => enrollmentJobs.id, { onDelete: 'cascade' }),
    /** Set when the row became this enrollment; its workflow may not have started yet. */
    enrollmentId: integer('enrollment_id').references(() => enrollments.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('enrollment_outbox_contact_idx').on(t.contactId),
    index('enrollment_outbox_enrollment_idx').on(t.enrollmentId),
    index('enrollment_outbox_job_idx').on(t.jobId),
  ],
);

/** What happened at each step of an enrollment (sent, skipped, branch taken, timed out, ...). */
export const enrollmentSteps = pgTable(
  'enrollment_steps',
  {
    enrollmentId: integer('enrollment_id')
      .notNull()
      .references(() => enrollments.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    stepId: integer('step_id').notNull(),
    outcome: text('outcome').notNull(),
    sendId: integer('send_id').references(() => sends.id, { onDelete: 'set null' }),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.enrollmentId, t.seq] }), index('enrollment_steps_step_idx').on(t.stepId)],
);

// ---------------------------------------------------------------------------------------------
// Segments and campaigns

export const segments = pgTable(
  'segments',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    name: text('name').notNull(),
    /** The rule tree of SPEC §3 (validated by src/domain/segment-rules.ts). */
    rules: jsonb('rules').$type<Record<string, unknown>>().notNull(),
    ...timestamps,
  },
  (t) => [index('segments_site_idx').on(t.siteId)],
);

export const campaignStatus = pgEnum('campaign_status', [
  'draft',
  'scheduled',
  'sending',
  'sent',
  'paused',
  'cancelled',
  'failed',
]);

export interface CampaignAudience {
  listIds?: number[];
  tagIds?: number[];
  segmentIds?: number[];
  excludeListIds?: number[];
  excludeSegmentIds?: number[];
}

export const campaigns = pgTable(
  'campaigns',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    name: text('name').notNull(),
    subject: text('subject'),
    html: text('html'),
    text: text('text'),
    templateId: integer('template_id').references(() => templates.id, { onDelete: 'set null' }),
    /**
     * The Liquid source every copy renders from, taken when the audience is frozen (its template's or
     * its own), so editing or deleting the template later changes nothing sent or shown.
     */
    frozenContent: jsonb('frozen_content').$type<TemplateSource>(),
    sendingConfigId: integer('sending_config_id')
      .notNull()
      .references(() => sendingConfigs.id, { onDelete: 'restrict' }),
    audience: jsonb('audience').$type<CampaignAudience>().notNull(),
    status: campaignStatus('status').notNull().default('draft'),
    scheduledAt: timestamp('scheduled_at', { withTimezone: true, mode: 'date' }),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
    /** Recipients per batch activity (≤ provider batch size for the batch API). */
    batchSize: integer('batch_size').notNull().default(100),
    /** The campaign's own throttle on top of the sending config's limit; null = none. */
    maxPerSecond: integer('max_per_second'),
    pausedReason: text('paused_reason'),
    workflowId: text('workflow_id'),
    totalRecipients: integer('total_recipients').notNull().default(0),
    sentCount: integer('sent_count').notNull().default(0),
    failedCount: integer('failed_count').notNull().default(0),
    suppressedCount: integer('suppressed_count').notNull().default(0),
    skippedCount: integer('skipped_count').notNull().default(0),
    deliveredCount: integer('delivered_count').notNull().default(0),
    openedCount: integer('opened_count').notNull().default(0),
    clickedCount: integer('clicked_count').notNull().default(0),
    bouncedCount: integer('bounced_count').notNull().default(0),
    complainedCount: integer('complained_count').notNull().default(0),
    unsubscribedCount: integer('unsubscribed_count').notNull().default(0),
    ...timestamps,
  },
  (t) => [index('campaigns_site_idx').on(t.siteId)],
);

export const recipientStatus = pgEnum('recipient_status', ['pending', 'sent', 'failed', 'suppressed', 'skipped']);

/**
 * The frozen audience of a campaign: one row per contact (unique), paged by id as a keyset cursor.
 * A recipient moves from pending to exactly one final state; the send's idempotency key
 * `campaign:<id>:<contactId>` makes a re-run batch a no-op at the provider.
 */
export const campaignRecipients = pgTable(
  'campaign_recipients',
  {
    id: serial('id').primaryKey(),
    campaignId: integer('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    contactId: contactIdColumn(),
    email: text('email').notNull(),
    status: recipientStatus('status').notNull().default('pending'),
    sendId: integer('send_id').references(() => sends.id, { onDelete: 'set null' }),
    error: text('error'),
    /** Increments on retry-failed so the retry gets a fresh idempotency key. */
    attempt: integer('attempt').notNull().default(1),
    updatedAt: timestamps.updatedAt,
  },
  (t) => [
    uniqueIndex('campaign_recipients_campaign_contact_uq').on(t.campaignId, t.contactId),
    index('campaign_recipients_campaign_id_idx').on(t.campaignId, t.id),
    index('campaign_recipients_campaign_status_idx').on(t.campaignId, t.status),
  ],
);

// ---------------------------------------------------------------------------------------------
// Delivery feedback: provider webhook receipts, outgoing webhooks

/**
 * One row per provider webhook message ever accepted (Svix `svix-id` for Resend). Providers retry a
 * message for about a day; the unique index turns every retry into a no-op.
 */
export const providerWebhookReceipts = pgTable(
  'provider_webhook_receipts',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    provider: providerName('provider').notNull(),
    /** The provider's message id (Svix `svix-id`). */
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    sendingConfigId: integer('sending_config_id').references(() => sendingConfigs.id, { onDelete: 'set null' }),
    receivedAt: timestamps.createdAt,
  },
  (t) => [uniqueIndex('provider_webhook_receipts_event_uq').on(t.siteId, t.provider, t.eventId)],
);

/** A customer's HTTPS endpoint that receives Tidings events, signed per the Standard Webhooks spec. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    url: text('url').notNull(),
    description: text('description'),
    /** Event types delivered (`email.opened`, …); empty means every type. */
    events: jsonb('events').$type<string[]>().notNull().default([]),
    /** `whsec_<base64>` signing secret, encrypted under TIDINGS_SECRET like provider credentials. */
    secretEncrypted: text('secret_encrypted').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    ...timestamps,
  },
  (t) => [index('webhook_endpoints_site_idx').on(t.siteId)],
);

export const webhookDeliveryStatus = pgEnum('webhook_delivery_status', ['pending', 'succeeded', 'failed']);

/**
 * One event for one endpoint: the message (its `webhook-id` is `messageId`, stable across retries so
 * receivers can de-duplicate) and where its delivery stands. Unique per endpoint and message, so
 * dispatching an event twice delivers it once.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: serial('id').primaryKey(),
    siteId: siteIdColumn(),
    endpointId: integer('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    messageId: text('message_id').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: webhookDeliveryStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    workflowId: text('workflow_id'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('webhook_deliveries_endpoint_message_uq').on(t.endpointId, t.messageId),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.id),
  ],
);

/** The delivery log: every HTTP attempt of a delivery, with the receiver's answer. */
export const webhookDeliveryAttempts = pgTable(
  'webhook_delivery_attempts',
  {
    id: serial('id').primaryKey(),
    deliveryId: integer('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    /** First bytes of the receiver's answer, for debugging a failing endpoint. */
    responseBody: text('response_body'),
    durationMs: integer('duration_ms').notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [uniqueIndex('webhook_delivery_attempts_delivery_attempt_uq').on(t.deliveryId, t.attempt)],
);
