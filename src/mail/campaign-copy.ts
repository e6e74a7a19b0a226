import { composeSendContent, type SendContent } from './compose.js';
import type { Links } from './links.js';
import type { CompiledTemplate, TemplateContact, TemplateSource } from './render.js';

/*
 * A campaign keeps its content once (campaigns.frozen_content) and each recipient's send row only what
 * makes that recipient's copy differ (sends.copy_context). Delivery, its retries and every view of the
 * send log render the copy with renderCampaignCopy, the one function, so what is shown is what was
 * sent, byte for byte, whatever happened to the contact or the template since.
 */

/** What a campaign copy was rendered with, besides the campaign's frozen content and the send's ids. */
export interface CampaignCopyContext {
  /** The send's contact when it was rendered; the contact may be changed or deleted since. */
  contactId: number;
  /** The contact fields the template saw, as they were then. */
  contact: TemplateContact;
  /** The sending config's tracking switches then; null when the worker had no links (no TIDINGS_SECRET). */
  tracking: { opens: boolean; clicks: boolean } | null;
}

/** The parts of a send row that say how its message is stored. */
export interface StoredMessage {
  id: number;
  siteId: number;
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string> | null;
  copyContext: CampaignCopyContext | null;
}

// Lone UTF-16 surrogates (a Liquid `slice` can split a pair): PostgreSQL's text columns store U+FFFD for
// each, so every message is made well-formed the same way, stored or rendered again.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The string a text column will hold: lone surrogates become U+FFFD, as the driver's UTF-8 encoding stores them. */
export function storedText(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

// The date filters read the clock for "now" and "today", and `sample` picks at random: a template using
// any of them renders differently later, so its copies are stored rendered instead. A false match
// only costs storage.
const UNREPEATABLE = /\|\s*(date\w*|sample)\b/;

/** Whether rendering this content again for the same context gives the same bytes. */
export function rendersAlike(content: TemplateSource): boolean {
  return ![content.subject, content.html, content.text ?? ''].some((part) => UNREPEATABLE.test(part));
}

/**
 * The context a copy is rendered with, in the form it is stored: the JSON of it read back, so a copy
 * rendered from this object and one rendered from the stored column cannot differ.
 */
export function copyContextOf(contactId: number, contact: TemplateContact, tracking: CampaignCopyContext['tracking']): CampaignCopyContext {
  return JSON.parse(JSON.stringify({ contactId, contact, tracking })) as CampaignCopyContext;
}

/**
 * Renders one recipient's copy of a campaign: the content with its contact fields, the unsubscribe
 * link, tracking and List-Unsubscribe headers of that send. Throws the renderer's errors, and when the
 * copy was tracked but this process has no links to rebuild them with.
 */
export function renderCampaignCopy(
  content: TemplateSource | CompiledTemplate,
  send: { id: number; siteId: number },
  context: CampaignCopyContext,
  links: Links | undefined,
): SendContent {
  if (context.tracking && !links) throw new Error(`Send ${send.id} is a tracked campaign copy: rendering it needs TIDINGS_SECRET and PUBLIC_URL`);
  const sendLinks =
    context.tracking &&
    links?.forSend({ siteId: send.siteId, contactId: context.contactId, sendId: send.id, trackOpens: context.tracking.opens, trackClicks: context.tracking.clicks });
  const copy = composeSendContent(content, { contact: context.contact }, sendLinks || undefined);
  return { ...copy, subject: storedText(copy.subject), html: storedText(copy.html), text: storedText(copy.text) };
}

/**
 * A send's message as it was sent: its stored body, or its campaign copy rendered again from the
 * campaign's frozen content. Null once the retention purge took the body (or the content is gone).
 */
export function sendMessage(send: StoredMessage, campaignContent: TemplateSource | null, links: Links | undefined): SendContent | null {
  if (send.html !== null && send.text !== null) {
    return { subject: send.subject, html: send.html, text: send.text, ...(send.headers ? { headers: send.headers } : {}) };
  }
  if (!send.copyContext || !campaignContent) return null;
  return renderCampaignCopy(campaignContent, send, send.copyContext, links);
}
