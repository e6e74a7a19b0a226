import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The Content-Security-Policy of every HTML page the product serves (the dashboard at /app, Swagger
 * UI at /docs): scripts and styles only from this server — no inline script, no eval — data only
 * from this origin, and no page framed by anyone. Styles allow 'unsafe-inline' because Mantine and
 * Swagger UI set style attributes. Images may come from any https host: email previews (in sandboxed
 * srcdoc iframes, which inherit this policy) show the images the email links to. The unsubscribe and
 * preference pages set a stricter one of their own (src/api/public/page.ts).
 */
export const HTML_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'https:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  frameSrc: ["'self'"],
  frameAncestors: ["'none'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
};

/**
 * Security headers on every response, from helmet: `nosniff`, `Referrer-Policy: no-referrer` (a
 * tracking redirect or an unsubscribe page tells the next site nothing), the CSP above with
 * `frame-ancestors 'none'` (and X-Frame-Options for old browsers), and Strict-Transport-Security only
 * under NODE_ENV=production — in development the API is plain http on localhost, where HSTS would
 * pin a browser to https for every app on that host.
 *
 * Cross-Origin-Resource-Policy is `same-origin` except where other origins must load a response:
 * the open-tracking pixel sets `cross-origin` itself (webmail shows it from its own origin).
 */
export function securityHeaders(opts: { production: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: HTML_CSP_DIRECTIVES },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: opts.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    frameguard: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  });
}
