/** The webhook-outbox relay's contract: its type name and input, for the workers that ensure it runs. */

/** The workflow type as registered on the worker (the exported function's name). */
export const WEBHOOK_OUTBOX_WORKFLOW = 'webhookOutboxWorkflow';

export interface WebhookOutboxInput {
  /** How often to look for stranded deliveries (ms); one minute by default. */
  everyMs?: number;
  /** How long a delivery must have waited, pending, to count as stranded (ms); one minute by default. */
  strandedAfterMs?: number;
}
