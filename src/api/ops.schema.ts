import { z } from 'zod';
import { openApiRegistry } from './openapi.js';

const Check = z.object({ status: z.enum(['ok', 'error']), error: z.string().optional() });
const tags = ['Operations'];

openApiRegistry.registerPath({
  method: 'get',
  path: '/healthz',
  tags,
  summary: 'Liveness: the process answers',
  responses: { 200: { description: 'Up.', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const Readiness = z
  .object({ status: z.enum(['ok', 'unavailable']), checks: z.object({ database: Check, temporal: Check }) })
  .meta({ id: 'Readiness' });

openApiRegistry.registerPath({
  method: 'get',
  path: '/readyz',
  tags,
  summary: 'Readiness: PostgreSQL and Temporal answer',
  responses: {
    200: { description: 'Ready.', content: { 'application/json': { schema: Readiness } } },
    503: { description: 'A dependency is down.', content: { 'application/json': { schema: Readiness } } },
  },
});

openApiRegistry.registerPath({
  method: 'get',
  path: '/metrics',
  tags,
  summary: 'Prometheus metrics',
  responses: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: z.string() } } } },
});

openApiRegistry.registerPath({
  method: 'get',
  path: '/api/v1/openapi.json',
  tags,
  summary: 'This OpenAPI 3.1 document',
  responses: { 200: { description: 'The document.', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
});
