import type { Client } from '@temporalio/client';
import { workflowIds } from '../domain/ids.js';
import type { Logger } from '../logger.js';
import { ENROLLMENT_OUTBOX_WORKFLOW, type EnrollmentOutboxInput } from '../../workflows/enrollment-outbox.contract.js';
import { WEBHOOK_OUTBOX_WORKFLOW, type WebhookOutboxInput } from '../../workflows/webhook-outbox.contract.js';
import { TASK_QUEUES } from './task-queues.js';

/**
 * Ensures the outbox relays run (one each per namespace; any worker may ask, the ids make it once):
 * the outgoing-webhook one starts deliveries whose workflow could not be started when their event was
 * recorded (Temporal down); the enrollment one starts the journeys list and tag additions staged and those a crash left unstarted.
 * A failure is logged: the relays are started again by the next worker start.
 */
export async function ensureOutboxRelays(
  client: Client,
  logger: Logger,
  inputs: { webhooks?: WebhookOutboxInput; triggers?: EnrollmentOutboxInput } = {},
): Promise<void> {
  const relays = [
    { type: WEBHOOK_OUTBOX_WORKFLOW, workflowId: workflowIds.webhookOutbox(), input: inputs.webhooks ?? {}, waiting: 'stranded webhook deliveries' },
    { type: ENROLLMENT_OUTBOX_WORKFLOW, workflowId: workflowIds.enrollmentOutbox(), input: inputs.triggers ?? {}, waiting: 'journeys staged by list and tag additions' },
  ];
  await Promise.all(
    relays.map((relay) =>
      client.workflow
        .start(relay.type, { taskQueue: TASK_QUEUES.main, workflowId: relay.workflowId, workflowIdConflictPolicy: 'USE_EXISTING', args: [relay.input] })
        .catch((err: unknown) => logger.warn({ err }, `could not start the ${relay.workflowId} relay; ${relay.waiting} wait for the next worker start`)),
    ),
  );
}
