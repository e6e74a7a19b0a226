import { z } from 'zod';
import { providerNames, type ProviderName } from '../../mail/providers.js';
import { conflict, dataOf, idempotencyKeyHeader, notFound, ok, pageOf, registerApiPath } from '../openapi.js';
import { IdParams, PaginationQuery, siteIdField } from '../validation.js';

const timestamp = z.iso.datetime().meta({ example: '2025-01-31T12:00:00.000Z' });

export const ProviderNameSchema = z
  .enum(providerNames as [ProviderName, ...ProviderName[]], { error: `provider must be one of ${providerNames.join(', ')}` })
  .meta({ example: 'resend' });

/** A sender or reply-to address; not lowercased, since recipients see it as typed. */
export const AddressSchema = z
  .string({ error: 'must be an email address' })
  .trim()
  .max(254)
  .check(z.email({ error: 'must be a valid email address' }))
  .meta({ example: 'hello@example.com' });

const fields = {
  name: z.string({ error: 'name is required' }).trim().min(1, { error: 'name must not be empty' }).max(200).meta({ example: 'Production (Resend)' }),
  fromEmail: AddressSchema,
  fromName: z.string().trim().max(200).nullish().meta({ example: 'Acme' }),
  replyTo: AddressSchema.nullish(),
  credentials: z
    .record(z.string(), z.unknown())
    .meta({
      description:
        'Checked against the provider’s fields (`GET /providers`): resend `{apiKey}`; smtp `{host, port?, secure?, user?, pass?}`; ' +
        'log `{}`. Stored encrypted (AES-256-GCM) and only ever returned masked.',
      example: { apiKey: 're_123456789' },
    }),
  maxPerSecond: z
    .int({ error: 'maxPerSecond must be an integer from 1 to 10000' })
    .min(1, { error: 'maxPerSecond must be an integer from 1 to 10000' })
    .max(10_000, { error: 'maxPerSecond must be an integer from 1 to 10000' })
    .nullish()
    .meta({ description: 'Provider rate limit shared by every send through this config; null means unlimited.', example: 10 }),
  trackOpens: z.boolean().optional().meta({ description: 'Open pixel in campaign and sequence email (default true).' }),
  trackClicks: z.boolean().optional().meta({ description: 'Click redirects in campaign and sequence email (default true).' }),
  webhookSecret: z
    .string()
    .trim()
    .max(500)
    .regex(/^whsec_[A-Za-z0-9+/=_-]+$/, { error: 'webhookSecret must be the Resend signing secret, starting with whsec_' })
    .nullish()
    .meta({ description: 'Resend webhook signing secret; stored encrypted, returned masked.', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
};

export const SendingConfigCreateBody = z
  .object({
    siteId: siteIdField,
    ...fields,
    provider: ProviderNameSchema,
    credentials: fields.credentials.optional().meta({ description: 'Required for resend and smtp.' }),
  })
  .meta({ id: 'SendingConfigCreate' });

export const SendingConfigUpdateBody = z
  .object({
    siteId: siteIdField,
    name: fields.name.optional(),
    provider: ProviderNameSchema.optional().meta({ description: 'Changing it requires the new provider’s credentials (except log).' }),
    fromEmail: AddressSchema.optional(),
    fromName: fields.fromName,
    replyTo: fields.replyTo,
    credentials: fields.credentials.optional().meta({ description: 'Replaces the stored credentials entirely.' }),
    maxPerSecond: fields.maxPerSecond,
    trackOpens: fields.trackOpens,
    trackClicks: fields.trackClicks,
    webhookSecret: fields.webhookSecret,
  })
  .meta({ id: 'SendingConfigUpdate' });

export const SendingConfig = z
  .object({
    id: z.int(),
    name: z.string(),
    provider: ProviderNameSchema,
    fromEmail: z.string(),
    fromName: z.string().nullable(),
    replyTo: z.string().nullable(),
    credentials: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({
        description: 'Masked: secrets are `********`, API keys keep a prefix and their last 4 characters. Null when they cannot be decrypted (TIDINGS_SECRET changed); PATCH new ones.',
        example: { apiKey: 're_****abcd' },
      }),
    maxPerSecond: z.int().nullable(),
    trackOpens: z.boolean(),
    trackClicks: z.boolean(),
    webhookSecret: z.string().nullable().meta({ description: 'Masked, e.g. `whsec_****abcd`.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'SendingConfig' });

export const VerifyResultSchema = z
  .object({
    ok: z.boolean(),
    message: z.string().meta({ example: 'API key accepted; verified domains: example.com' }),
  })
  .meta({ id: 'SendingConfigVerifyResult' });

export const SendingConfigQuery = PaginationQuery.extend({ siteId: siteIdField });

const tags = ['Sending configs'];
const body = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const idempotencyHeader = idempotencyKeyHeader('Retrying with the same key returns the first answer.');

registerApiPath({
  method: 'post',
  path: '/api/v1/sending-configs',
  tags,
  summary: 'Create a sending config',
  description: 'A provider account and sender identity. The credentials are validated for the provider, encrypted at rest and never returned.',
  request: { headers: idempotencyHeader, body: body(SendingConfigCreateBody) },
  responses: { 201: ok(dataOf(SendingConfig), 'The created config, credentials masked.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/sending-configs',
  tags,
  summary: 'List sending configs',
  request: { query: SendingConfigQuery },
  responses: { 200: ok(pageOf(SendingConfig), 'A page of configs, by id, credentials masked.') },
});
registerApiPath({
  method: 'get',
  path: '/api/v1/sending-configs/{id}',
  tags,
  summary: 'Get a sending config',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(SendingConfig), 'The config, credentials masked.'), ...notFound },
});
registerApiPath({
  method: 'patch',
  path: '/api/v1/sending-configs/{id}',
  tags,
  summary: 'Update a sending config',
  description: 'Only the given fields change. New credentials replace the old ones and are validated for the (new) provider.',
  request: { params: IdParams, body: body(SendingConfigUpdateBody) },
  responses: { 200: ok(dataOf(SendingConfig), 'The updated config, credentials masked.'), ...notFound },
});
registerApiPath({
  method: 'delete',
  path: '/api/v1/sending-configs/{id}',
  tags,
  summary: 'Delete a sending config',
  request: { params: IdParams },
  responses: {
    204: { description: 'Deleted.' },
    ...notFound,
    ...conflict('`sending_config_in_use`: the send log refers to this config.'),
  },
});
registerApiPath({
  method: 'post',
  path: '/api/v1/sending-configs/{id}/verify',
  tags,
  summary: 'Check the credentials against the provider',
  description: 'Resend: an authenticated API call; SMTP: connect and log in; log: always ok. Nothing is sent. `ok: false` explains why.',
  request: { params: IdParams },
  responses: { 200: ok(dataOf(VerifyResultSchema), 'Whether the provider accepted the credentials.'), ...notFound },
});
