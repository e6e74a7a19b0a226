import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';

/** `Name=Type` pairs as the Temporal CLI's `--search-attribute` flag takes them. */
export const searchAttributeCliArgs = Object.values(SEARCH_ATTRIBUTES).map(
  (key) => `${key.name}=${key.type === 'INT' ? 'Int' : 'Keyword'}`,
);
