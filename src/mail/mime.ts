import * as mimeFuncs from 'nodemailer/lib/mime-funcs/index.js';
import * as qp from 'nodemailer/lib/qp/index.js';
import { formatAddress, sha256Hex, type OutgoingEmail } from './mailer.js';

/*
 * The RFC 5322 / MIME message of one email, built in a single pass into one buffer.
 *
 * nodemailer's MailComposer builds a tree of MIME nodes and streams it out in dozens of chunks, each
 * its own socket write: profiling a 100,000-recipient campaign put about 40% of the worker's CPU in
 * that composition and those writes. Our messages always have one shape (multipart/alternative of a
 * text and an HTML part, no attachments), so the SMTP adapter builds that shape here and hands
 * nodemailer the finished bytes (`raw`), which it sends in one write. Header encoding, folding and
 * quoted-printable still come from nodemailer's own mime-funcs and qp modules.
 */

/** RFC 5322's hard limit on a line, CRLF excluded; a part with a longer line is quoted-printable. */
const MAX_LINE = 998;

/** Whether a CRLF text has a line longer than MAX_LINE; a scan of line ends (a regex for it backtracks at every character). */
function hasLongLine(crlf: string): boolean {
  for (let start = 0; ; ) {
    const end = crlf.indexOf('\r\n', start);
    if ((end < 0 ? crlf.length : end) - start > MAX_LINE) return true;
    if (end < 0) return false;
    start = end + 2;
  }
}

/** Header values go out as given when they are printable ASCII; anything else as RFC 2047 encoded words. */
function encodeHeaderValue(value: string): string {
  const oneLine = value.replace(/[\r\n]+/g, ' ');
  return mimeFuncs.isPlainText(oneLine) ? oneLine : mimeFuncs.encodeWords(oneLine, 'Q', 52);
}

function header(name: string, value: string): string {
  return mimeFuncs.foldLines(`${name}: ${value}`, 76) + '\r\n';
}

/** A mailbox with its display name encoded when it is not plain ASCII. */
function mailbox(name: string | null | undefined, email: string): string {
  const trimmed = name?.trim();
  if (!trimmed) return email;
  if (mimeFuncs.isPlainText(trimmed)) return formatAddress({ name: trimmed, email });
  return `${mimeFuncs.encodeWords(trimmed, 'Q', 52)} <${email}>`;
}

/** `Mon, 07 Dec 2026 05:40:00 +0000` (RFC 5322 date-time). */
function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** A text part: as it is when it is 7-bit with short lines (most templates), quoted-printable otherwise. */
function part(contentType: string, body: string): string {
  const crlf = body.replace(/\r?\n/g, '\r\n');
  // eslint-disable-next-line no-control-regex
  const sevenBit = !/[^\x00-\x7f]/.test(crlf) && !hasLongLine(crlf);
  const encoding = sevenBit ? '7bit' : 'quoted-printable';
  const encoded = sevenBit ? crlf : qp.wrap(qp.encode(crlf), 76);
  return `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${encoded}\r\n`;
}

export interface MimeOptions {
  messageId: string;
  date: Date;
  /** Headers beyond the standard ones (List-Unsubscribe, X-Tidings-*); CR/LF in values become spaces. */
  headers: Record<string, string>;
}

/**
 * The whole message as bytes, CRLF line ends: From, To, Cc, Reply-To, Subject, Date, Message-ID, the
 * extra headers, then a multipart/alternative body (text first, HTML last, as RFC 2046 orders them by
 * preference). Bcc never appears. The boundary derives from the Message-ID, so a retried send is the
 * same bytes.
 */
export function buildMime(message: OutgoingEmail, options: MimeOptions): Buffer {
  const boundary = `--_tidings_${sha256Hex(options.messageId).slice(0, 24)}`;
  let head =
    header('From', mailbox(message.from.name, message.from.email)) +
    header('To', message.to) +
    (message.cc?.length ? header('Cc', message.cc.join(', ')) : '') +
    (message.replyTo ? header('Reply-To', message.replyTo) : '') +
    header('Subject', encodeHeaderValue(message.subject)) +
    header('Date', rfc5322Date(options.date)) +
    header('Message-ID', options.messageId);
  for (const [name, value] of Object.entries(options.headers)) head += header(name, encodeHeaderValue(value));
  head += `MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n`;
  const body = `--${boundary}\r\n${part('text/plain', message.text)}--${boundary}\r\n${part('text/html', message.html)}--${boundary}--\r\n`;
  return Buffer.from(head + body, 'utf8');
}
