import { createSigner } from '../crypto/signing.js';
import { escapeAttribute, findLinks, NO_TRACK_ATTRIBUTE, type HtmlDecoration } from './render.js';

export { NO_TRACK_ATTRIBUTE };

/*
 * Tracking and unsubscribe links of campaign and sequence email, all on PUBLIC_URL:
 *   /t/o/<token>  open pixel        token {s: sendId}
 *   /t/c/<token>  click redirect    token {s: sendId, u: original URL}
 *   /u/<token>    unsubscribe       token {t: siteId, c: contactId, s: sendId}
 * Each kind is signed under its own purpose (createSigner), so one kind of token can never be used as
 * another. A click token carries the URL it redirects to, so the redirect only goes where the signer
 * (this code, while decorating an email) pointed it; the click route additionally checks that the
 * token is in the stored email (src/api/public/tracking.ts).
 *
 * Only the HTML part is tracked: plain-text links stay as written, because a signed token makes a long
 * opaque URL the reader would see, and clients that show the text part rarely load pixels anyway.
 */

export interface OpenToken {
  sendId: number;
}

export interface ClickToken {
  sendId: number;
  url: string;
}

export interface UnsubscribeToken {
  siteId: number;
  contactId: number;
  sendId: number;
}

/** Signs and verifies the three kinds of link token; needs only TIDINGS_SECRET (the API side). */
export interface LinkTokens {
  signOpen(token: OpenToken): string;
  signClick(token: ClickToken): string;
  signUnsubscribe(token: UnsubscribeToken): string;
  /** The token's content when intact and signed by this secret for opens; otherwise null. */
  verifyOpen(token: string): OpenToken | null;
  verifyClick(token: string): ClickToken | null;
  verifyUnsubscribe(token: string): UnsubscribeToken | null;
}

const isId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

export function createLinkTokens(secret: string): LinkTokens {
  const open = createSigner(secret, 'open');
  const click = createSigner(secret, 'click');
  const unsubscribe = createSigner(secret, 'unsubscribe');
  return {
    signOpen: ({ sendId }) => open.sign({ s: sendId }),
    signClick: ({ sendId, url }) => click.sign({ s: sendId, u: url }),
    signUnsubscribe: ({ siteId, contactId, sendId }) => unsubscribe.sign({ t: siteId, c: contactId, s: sendId }),
    verifyOpen(token) {
      const p = open.verify<{ s?: unknown }>(token);
      return p && isId(p.s) ? { sendId: p.s } : null;
    },
    verifyClick(token) {
      const p = click.verify<{ s?: unknown; u?: unknown }>(token);
      return p && isId(p.s) && typeof p.u === 'string' ? { sendId: p.s, url: p.u } : null;
    },
    verifyUnsubscribe(token) {
      const p = unsubscribe.verify<{ t?: unknown; c?: unknown; s?: unknown }>(token);
      return p && isId(p.t) && isId(p.c) && isId(p.s) ? { siteId: p.t, contactId: p.c, sendId: p.s } : null;
    },
  };
}

/** The URL as an absolute http(s) URL, or null: the only kind of link we track or redirect to. */
export function httpUrl(value: string): URL | null {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
}

/** RFC 2369 + RFC 8058 headers: mailbox providers show an unsubscribe button that POSTs to `url`. */
export function listUnsubscribeHeaders(url: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/**
 * Rewrites the href of every `<a>` and `<area>` for which `rewrite` returns a URL, and inserts `tail`
 * (if given) before the closing `</body>`, or at the end when there is none. Works on parser offsets
 * and splices the source, so everything else (conditional comments for Outlook, entities, whitespace)
 * stays byte for byte as rendered. `rewrite` receives the decoded attribute value.
 */
export function rewriteHtml(html: string, rewrite: (href: string) => string | null, tail?: string): string {
  const { links, bodyClose } = findLinks(html);
  const edits: { start: number; end: number; text: string }[] = [];
  for (const link of links) {
    const target = rewrite(link.value);
    if (target !== null) edits.push({ start: link.start, end: link.end, text: `href="${escapeAttribute(target)}"` });
  }

  let out = '';
  let at = 0;
  for (const edit of edits) {
    out += html.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  if (tail === undefined) return out + html.slice(at);
  if (bodyClose >= at) return out + html.slice(at, bodyClose) + tail + html.slice(bodyClose);
  return out + html.slice(at) + tail;
}

function unsubscribeFooter(url: string): string {
  return `<p style="margin:24px 0 0;font-size:12px;line-height:18px;color:#6b7280;text-align:center">Don't want these emails? <a href="${escapeAttribute(url)}" style="color:#6b7280">Unsubscribe</a></p>`;
}

export interface SendLinkInput {
  siteId: number;
  contactId: number;
  sendId: number;
  /** The sending config's switches. */
  trackOpens: boolean;
  trackClicks: boolean;
}

/** What one campaign or sequence email gets: its unsubscribe link and headers, and its HTML decorated. */
export interface SendLinks {
  /** For `{{ unsubscribeUrl }}` when rendering. */
  unsubscribeUrl: string;
  /** List-Unsubscribe and List-Unsubscribe-Post, stored in sends.headers so every delivery path sends them. */
  headers: Record<string, string>;
  /** The decoration itself, for a template that compiles it into its render (src/mail/render.ts). */
  decoration: HtmlDecoration;
  /**
   * The rendered HTML with tracked links and the open pixel, per the config's switches, and a small
   * unsubscribe footer when the template did not place `{{ unsubscribeUrl }}` itself.
   */
  decorate(html: string): string;
  /** The text part with the unsubscribe link appended when the template did not include it. */
  decorateText(text: string): string;
}

/** Builds links on PUBLIC_URL for the worker, which decorates email as it records each send. */
export interface Links extends LinkTokens {
  readonly publicUrl: string;
  forSend(input: SendLinkInput): SendLinks;
}

export function createLinks(options: { secret: string; publicUrl: string }): Links {
  const tokens = createLinkTokens(options.secret);
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  const unsubscribePrefix = `${publicUrl}/u/`;
  const trackingPrefix = `${publicUrl}/t/`;

  return {
    ...tokens,
    publicUrl,
    forSend(input) {
      const unsubscribeUrl = `${unsubscribePrefix}${tokens.signUnsubscribe(input)}`;
      const decoration: HtmlDecoration = {
        link(href) {
          if (!input.trackClicks) return null;
          const trimmed = href.trim();
          // mailto:, tel:, #anchors and relative links are not redirects we could serve; our own
          // unsubscribe and tracking links must keep working without a detour.
          if (!httpUrl(trimmed) || trimmed.startsWith(unsubscribePrefix) || trimmed.startsWith(trackingPrefix)) return null;
          return `${trackingPrefix}c/${tokens.signClick({ sendId: input.sendId, url: trimmed })}`;
        },
        tail(html) {
          // Marketing mail must show a way out (CAN-SPAM, and mailbox providers' bulk-sender rules),
          // so a template without the link gets a footer rather than relying on the header alone.
          const footer = html.includes(unsubscribeUrl) ? '' : unsubscribeFooter(unsubscribeUrl);
          const pixel = input.trackOpens
            ? `<img src="${escapeAttribute(`${trackingPrefix}o/${tokens.signOpen({ sendId: input.sendId })}`)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`
            : '';
          return footer + pixel;
        },
      };
      return {
        unsubscribeUrl,
        headers: listUnsubscribeHeaders(unsubscribeUrl),
        decoration,
        decorate(html) {
          const tail = decoration.tail(html);
          return rewriteHtml(html, decoration.link, tail || undefined);
        },
        decorateText(text) {
          return text.includes(unsubscribeUrl) ? text : `${text.replace(/\s+$/, '')}\n\n--\nUnsubscribe: ${unsubscribeUrl}\n`;
        },
      };
    },
  };
}
