import type { RequestHandler } from 'express';
import { AppError } from '../../errors.js';

/** True when every %XX sequence of `raw` is well formed and they decode to valid UTF-8. */
function decodable(raw: string): boolean {
  try {
    decodeURIComponent(raw);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses a request whose path or query cannot be percent-decoded (`/contacts/%E0%A4%A`, a lone `%`,
 * invalid UTF-8) with a 400 before any router sees it. Express would otherwise throw a URIError while
 * matching a route parameter, which surfaces as a 500 and is logged as a server error; it is the
 * client's mistake, on every route, public pages and provider webhooks included.
 */
export const requireDecodableUrl: RequestHandler = (req, _res, next) => {
  const url = req.originalUrl;
  const q = url.indexOf('?');
  const pathPart = q === -1 ? url : url.slice(0, q);
  // In a query `+` means a space and is always valid; only the %XX sequences can be malformed.
  const queryPart = q === -1 ? '' : url.slice(q + 1);
  for (const [where, raw] of [
    ['path', pathPart],
    ['query', queryPart],
  ] as const) {
    if (!decodable(raw)) {
      throw new AppError('malformed_url', 'invalid', `The request ${where} is not valid percent-encoded UTF-8`, [
        { path: where, message: 'every % must start a valid %XX escape, and the escapes must decode to UTF-8' },
      ]);
    }
  }
  next();
};
