import { z } from 'zod';
import { dataOf, ok, registerApiPath } from '../openapi.js';
import { ProviderNameSchema } from './sending-configs.schema.js';

export const Provider = z
  .object({
    name: ProviderNameSchema,
    description: z.string(),
    capabilities: z.object({
      batch: z.boolean().meta({ description: 'One provider call sends many messages.' }),
      maxBatchSize: z.int(),
      webhooks: z.boolean().meta({ description: 'The provider reports delivery events by webhook.' }),
    }),
    credentialFields: z.array(
      z.object({
        name: z.string(),
        type: z.string().meta({ example: 'string' }),
        required: z.boolean(),
        secret: z.boolean().meta({ description: 'Masked in every answer.' }),
        description: z.string().optional(),
        default: z.unknown().optional(),
      }),
    ),
  })
  .meta({ id: 'Provider' });

registerApiPath({
  method: 'get',
  path: '/api/v1/providers',
  tags: ['Sending configs'],
  summary: 'List email providers',
  description: 'Each provider with its capabilities and the credential fields a sending config for it takes.',
  responses: { 200: ok(dataOf(z.array(Provider)), 'Every provider.') },
});
