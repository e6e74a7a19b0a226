/**
 * The transactional send workflow's contract, shared by the workflow and the API that starts it: its
 * type name, input and search attributes.
 */
import { SEARCH_ATTRIBUTES } from '../src/domain/search-attributes.js';

/** The workflow type as registered on the worker (the exported function's name). */
export const TRANSACTIONAL_WORKFLOW = 'transactionalSendWorkflow';

export interface TransactionalSendInput {
  /** The queued row of the send log; it holds the rendered message and its idempotency key. */
  sendId: number;
}

/** The custom search attributes of a send's workflow: find every email to an address in the Web UI. */
export function transactionalSearchAttributes(send: { siteId: number; toEmail: string; contactId: number | null }) {
  return [
    { key: SEARCH_ATTRIBUTES.SiteId, value: send.siteId },
    { key: SEARCH_ATTRIBUTES.ContactEmail, value: send.toEmail },
    ...(send.contactId !== null ? [{ key: SEARCH_ATTRIBUTES.ContactId, value: send.contactId }] : []),
  ];
}
