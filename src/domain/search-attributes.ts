/** A search attribute key, shaped as the SDK's `defineSearchAttributeKey` makes one (no SDK import needed). */
function key<T extends 'INT' | 'KEYWORD'>(name: string, type: T): { name: string; type: T } {
  return { name, type };
}

/**
 * Custom search attributes Tidings sets on its workflows so a person can find any journey in the
 * Temporal Web UI (e.g. `ContactEmail = "ada@example.com"`). Plain data, so workflows (which upsert
 * them) and starters (which set them) share one definition; src/temporal/search-attributes.ts
 * registers them on the server.
 */
export const SEARCH_ATTRIBUTES = {
  // SQL visibility (the dev server's SQLite and PostgreSQL in production) has only 3 custom Int
  // columns per namespace (the server refuses to start with more); IDs beyond those are Keywords
  // (set them with String(id); query as SequenceId = "12").
  SiteId: key('SiteId', 'INT'),
  SequenceId: key('SequenceId', 'KEYWORD'),
  ContactId: key('ContactId', 'INT'),
  ContactEmail: key('ContactEmail', 'KEYWORD'),
  CampaignId: key('CampaignId', 'KEYWORD'),
  ImportId: key('ImportId', 'INT'),
} as const;
