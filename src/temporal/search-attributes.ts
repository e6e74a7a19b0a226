import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes Tidings sets on its workflows so a person can find any journey in the
 * Temporal Web UI (e.g. `ContactEmail = "ada@example.com"`). Registered at start on the embedded
 * dev server and by the operator service elsewhere.
 */
export const SEARCH_ATTRIBUTES = {
  SiteId: defineSearchAttributeKey('SiteId', SearchAttributeType.INT),
  SequenceId: defineSearchAttributeKey('SequenceId', SearchAttributeType.INT),
  ContactId: defineSearchAttributeKey('ContactId', SearchAttributeType.INT),
  ContactEmail: defineSearchAttributeKey('ContactEmail', SearchAttributeType.KEYWORD),
  CampaignId: defineSearchAttributeKey('CampaignId', SearchAttributeType.INT),
  ImportId: defineSearchAttributeKey('ImportId', SearchAttributeType.INT),
} as const;

/** `Name=Type` pairs as the Temporal CLI's `--search-attribute` flag takes them. */
export const searchAttributeCliArgs = Object.values(SEARCH_ATTRIBUTES).map(
  (key) => `${key.name}=${key.type === SearchAttributeType.INT ? 'Int' : 'Keyword'}`,
);
