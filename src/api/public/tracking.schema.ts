import { z } from 'zod';
import { openApiRegistry } from '../openapi.js';

export const TokenParams = z.object({ token: z.string().meta({ description: 'Signed token from an email (see src/mail/links.ts).' }) });

const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
const tags = ['Tracking and unsubscribe'];

openApiRegistry.registerPath({
  method: 'get',
  path: '/t/o/{token}',
  tags,
  summary: 'Open pixel',
  description:
    'The 1×1 image in campaign and sequence email (when the sending config has `trackOpens`). Records one `opened` event per send. ' +
    'Always answers the same uncacheable GIF, whatever the token; HEAD requests and bot user agents record nothing.',
  request: { params: TokenParams },
  responses: { 200: { description: 'A transparent 1×1 GIF.', content: { 'image/gif': { schema: z.string().meta({ format: 'binary' }) } } } },
});

openApiRegistry.registerPath({
  method: 'get',
  path: '/t/c/{token}',
  tags,
  summary: 'Click redirect',
  description:
    'Tracked links of campaign and sequence email (when the sending config has `trackClicks`). Redirects to the URL the token was ' +
    'signed for, only if the token is in that send’s stored email (no open redirect), and records one `clicked` event per send ' +
    '(plus `opened` if none yet). HEAD requests and bot user agents are redirected but record nothing.',
  request: { params: TokenParams },
  responses: {
    302: { description: 'To the link’s original URL (`Location`).' },
    400: html('The signed URL is not an http(s) URL.'),
    404: html('The token is invalid, tampered with, or not part of its email.'),
  },
});
