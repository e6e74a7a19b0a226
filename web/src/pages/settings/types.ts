/** GET /sending-configs rows: credentials come back masked (`re_****abcd`, `********`). */
export interface SendingConfig {
  id: number;
  name: string;
  provider: string;
  fromEmail: string;
  fromName: string | null;
  replyTo: string | null;
  credentials: Record<string, unknown> | null;
  maxPerSecond: number | null;
  trackOpens: boolean;
  trackClicks: boolean;
  webhookSecret: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CredentialField {
  name: string;
  type: string;
  required: boolean;
  secret: boolean;
  description?: string;
  default?: unknown;
}

/** GET /providers */
export interface ProviderInfo {
  name: string;
  description: string;
  capabilities: { batch: boolean; maxBatchSize: number; webhooks: boolean };
  credentialFields: CredentialField[];
}

export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  lastUsedAt: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface WebhookEndpoint {
  id: number;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  /** In full only in the answers to create and rotate-secret. */
  secret: string;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDelivery {
  id: number;
  endpointId: number;
  messageId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed';
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  payload: Record<string, unknown>;
  attempts: Array<{ attempt: number; statusCode: number | null; error: string | null; responseBody: string | null; durationMs: number; createdAt: string }>;
  createdAt: string;
  updatedAt: string;
}

/** Event types an outgoing webhook endpoint can subscribe to (src/domain/email-events.ts). */
export const WEBHOOK_EVENT_TYPES = [
  'email.sent',
  'email.delivered',
  'email.delivery_delayed',
  'email.bounced',
  'email.complained',
  'email.opened',
  'email.clicked',
  'email.failed',
  'contact.unsubscribed',
] as const;

export interface Site {
  id: number;
  name: string;
  sendFrequencyCapDays: number;
  createdAt: string;
  updatedAt: string;
}

export interface SiteUser {
  id: number;
  email: string;
  name: string;
  role: 'owner' | 'editor' | 'viewer';
  disabled?: boolean;
  disabledAt?: string | null;
  lastLoginAt?: string | null;
  lastSignInAt?: string | null;
  createdAt?: string;
}
