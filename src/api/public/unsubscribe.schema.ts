import { z } from 'zod';
import { openApiRegistry } from '../openapi.js';
import { TokenParams } from './tracking.schema.js';

const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
const tags = ['Tracking and unsubscribe'];

openApiRegistry.registerPath({
  method: 'get',
  path: '/u/{token}',
  tags,
  summary: 'Unsubscribe page',
  description:
    'The per-recipient `{{ unsubscribeUrl }}` and `List-Unsubscribe` link of campaign and sequence email. Shows a confirmation ' +
    'page whose button POSTs back; a GET changes nothing (mail scanners fetch links).',
  request: { params: TokenParams },
  responses: { 200: html('The confirmation page (or, when already unsubscribed, a note saying so).'), 404: html('Invalid token.') },
});

openApiRegistry.registerPath({
  method: 'post',
  path: '/u/{token}',
  tags,
  summary: 'Unsubscribe (one click, RFC 8058)',
  description:
    'Unsubscribes the contact at once: the `List-Unsubscribe-Post` one-click request of mailbox providers (body ' +
    '`List-Unsubscribe=One-Click`, urlencoded or multipart) and the confirmation page’s button. The signed token authorises it; the body ' +
    'is not needed. The contact becomes `unsubscribed` and its enrollments end; transactional mail still reaches it. Repeats change nothing.',
  request: {
    params: TokenParams,
    body: {
      required: false,
      content: {
        'application/x-www-form-urlencoded': { schema: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional() }) },
        'multipart/form-data': { schema: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional() }) },
      },
    },
  },
  responses: { 200: html('Unsubscribed.'), 404: html('Invalid token.') },
});
