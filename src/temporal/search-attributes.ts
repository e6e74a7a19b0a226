import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes Tidings sets on its workflows so a person can find any journey in the
 * Temporal Web UI (e.g. `ContactEmail = "ada@example.com"`). Registered at start on the embedded
 * dev server and by the operator service elsewhere.
 */
export const SEARCH_ATTRIBUTES = {
  // SQL visibility (the dev server's SQLite and PostgreSQL in production) has only 3 custom Int
  // columns per namespace (the server refuses to start with more); IDs beyond those are Keywords
  // (set them with String(id); query as SequenceId = "12").
  SiteId: defineSearchAttributeKey('SiteId', SearchAttributeType.INT),
  SequenceId: defineSearchAttributeKey('SequenceId', SearchAttributeType.KEYWORD),
  ContactId: defineSearchAttributeKey('ContactId', SearchAttributeType.INT),
  ContactEmail: defineSearchAttributeKey('ContactEmail', SearchAttributeType.KEYWORD),
  CampaignId: defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD),
  ImportId: defineSearchAttributeKey('ImportId', SearchAttributeType.INT),
} as const;

/** `Name=Type` pairs as the Temporal CLI's `--search-attribute` flag takes them. */
export const searchAttributeCliArgs = Object.values(SEARCH_ATTRIBUTES).map(
  (key) => `${key.name}=${key.type === SearchAttributeType.INT ? 'Int' : 'Keyword'}`,
);
