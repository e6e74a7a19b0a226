import type { Response } from 'express';

/** Text made safe for HTML content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Sends a minimal standalone HTML page to someone who followed a link from an email. `title` and
 * `message` are text (escaped here); `bodyHtml` is markup the caller built from escaped parts.
 */
export function sendPage(res: Response, status: number, page: { title: string; message: string; bodyHtml?: string }): void {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(page.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222;line-height:1.5}button{font:inherit;padding:.5rem 1.25rem;cursor:pointer}</style>
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.message)}</p>
${page.bodyHtml ?? ''}
</body>
</html>
`;
  res
    .status(status)
    .set({
      'Cache-Control': 'no-store',
      // Nothing on these pages loads from anywhere; forms post back to the same URL only.
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'Referrer-Policy': 'no-referrer',
    })
    .type('html')
    .send(html);
}
