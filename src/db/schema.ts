import {

  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

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

/** API keys are stored as SHA-256 hashes; only the prefix is kept readable for listing. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: serial('id').primaryKey(),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    name: text('name').notNull().default('default'),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamps.createdAt,
  },
  (t) => [uniqueIndex('api_keys_key_hash_uq').on(t.keyHash), index('api_keys_site_idx').on(t.siteId)],
);

export const contactStatus = pgEnum('contact_status', ['subscribed', 'unsubscribed', 'bounced', 'complained']);

export const contacts = pgTable(
  'contacts',
  {
    id: serial('id').primaryKey(),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
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
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
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
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.listId, t.contactId] }), index('list_members_contact_idx').on(t.contactId)],
);

export const tags = pgTable(
  'tags',
  {
    id: serial('id').primaryKey(),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [uniqueIndex('tags_site_name_uq').on(t.siteId, t.name)],
);

export const contactTags = pgTable(
  'contact_tags',
  {
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
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
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
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
    ...timestamps,
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('imports_site_idx').on(t.siteId)],
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
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    statusCode: integer('status_code').notNull(),
    body: jsonb('body'),
    createdAt: timestamps.createdAt,
  },
  (t) => [primaryKey({ columns: [t.siteId, t.key] })],
);

