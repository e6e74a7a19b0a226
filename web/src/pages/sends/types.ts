export const SEND_KINDS = ['transactional', 'campaign', 'sequence'] as const;
export const SEND_STATUSES = ['queued', 'sent', 'delivered', 'delivery_delayed', 'bounced', 'complained', 'failed', 'suppressed'] as const;
export type SendKind = (typeof SEND_KINDS)[number];
export type SendStatus = (typeof SEND_STATUSES)[number];

/** A row of GET /sends. */
export interface SendSummary {
  id: number;
  kind: SendKind;
  status: SendStatus;
  contactId: number | null;
  toEmail: string;
  subject: string;
  sendingConfigId: number;
  templateId: number | null;
  campaignId: number | null;
  sequenceId: number | null;
  stepId: number | null;
  enrollmentId: string | null;
  providerMessageId: string | null;
  error: string | null;
  attempts: number;
  idempotencyKey: string;
  sentAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SendEvent {
  id: number;
  type: string;
  data: Record<string, unknown>;
  occurredAt: string;
  createdAt: string;
}

/** GET /sends/:id */
export interface Send extends SendSummary {
  cc: string[] | null;
  bcc: string[] | null;
  replyTo: string | null;
  headers: Record<string, string> | null;
  /** Null once the body is pruned (bodyPruned). */
  html: string | null;
  text: string | null;
  bodyPruned: boolean;
  workflowId: string | null;
  events: SendEvent[];
}

export const STATUS_LABEL: Record<SendStatus, string> = {
  queued: 'Queued',
  sent: 'Sent',
  delivered: 'Delivered',
  delivery_delayed: 'Delayed',
  bounced: 'Bounced',
  complained: 'Complained',
  failed: 'Failed',
  suppressed: 'Suppressed',
};

export const STATUS_COLOR: Record<SendStatus, string> = {
  queued: 'gray',
  sent: 'blue',
  delivered: 'teal',
  delivery_delayed: 'yellow',
  bounced: 'orange',
  complained: 'red',
  failed: 'red',
  suppressed: 'grape',
};

export const KIND_LABEL: Record<SendKind, string> = { transactional: 'Transactional', campaign: 'Campaign', sequence: 'Sequence' };
