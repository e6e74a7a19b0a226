import { z } from 'zod';
import { createLogMailer, logCapabilities, type LogSink } from './log.js';
import type { Mailer, MailerCapabilities } from './mailer.js';
import { createResendMailer, resendCapabilities } from './resend.js';
import { createSmtpMailer, smtpCapabilities } from './smtp.js';

/*
 * The provider registry: which providers exist, what they can do, which credentials each takes (the
 * zod schemas validate `POST /sending-configs` and feed `GET /providers`), and how to build a Mailer.
 * Fields marked `secret` are encrypted at rest like the rest of the credentials and masked in output.
 */

export const credentialSchemas = {
  resend: z
    .object({
      apiKey: z.string().trim().min(1).meta({ secret: true, description: 'Resend API key (re_…)' }),
    })
    .strict(),
  smtp: z
    .object({
      host: z.string().trim().min(1).meta({ description: 'SMTP server host name' }),
      port: z.number().int().min(1).max(65535).default(587).meta({ description: 'SMTP port (587 STARTTLS, 465 TLS)' }),
      secure: z.boolean().default(false).meta({ description: 'TLS from the first byte (port 465)' }),
      user: z.string().min(1).optional().meta({ description: 'Login user name; omit for no AUTH' }),
      pass: z.string().optional().meta({ secret: true, description: 'Login password' }),
      maxConnections: z
        .number()
        .int()
        .min(1)
        .max(50)
        .default(5)
        .meta({ description: 'Connections kept open to the server and reused for every message (the pool size)' }),
    })
    .strict(),
  log: z.object({}).strict(),
} as const;

export type ProviderName = keyof typeof credentialSchemas;
export const providerNames = Object.keys(credentialSchemas) as ProviderName[];
export type ProviderCredentials<P extends ProviderName> = z.output<(typeof credentialSchemas)[P]>;

const descriptions: Record<ProviderName, { capabilities: MailerCapabilities; description: string }> = {
  resend: { capabilities: resendCapabilities, description: 'Resend API: single and batch endpoint, delivery webhooks' },
  smtp: { capabilities: smtpCapabilities, description: 'Any SMTP server over a pooled connection' },
  log: { capabilities: logCapabilities, description: 'Sends nothing; records the rendered message in the send log' },
};

/**
 * Recipients per campaign batch, at most and by default. A batch is one Temporal activity, whose
 * overhead (a round trip, history events, a transaction) is shared by every recipient in it; a batch
 * API takes it in calls of its own limit (Resend: 100), SMTP over the config's pooled connections.
 */
export const CAMPAIGN_MAX_BATCH_SIZE = 1000;

export interface CredentialField {
  name: string;
  type: string;
  required: boolean;
  secret: boolean;
  description?: string;
  default?: unknown;
}

export interface ProviderInfo {
  name: ProviderName;
  description: string;
  capabilities: MailerCapabilities;
  credentialFields: CredentialField[];
}

export function isProviderName(value: string): value is ProviderName {
  return Object.hasOwn(credentialSchemas, value);
}

/** The `GET /providers` listing, derived from the same schemas that validate credentials. */
export function listProviders(): ProviderInfo[] {
  return providerNames.map((name) => ({
    name,
    ...descriptions[name],
    credentialFields: credentialFieldsOf(name),
  }));
}

function credentialFieldsOf(name: ProviderName): CredentialField[] {
  const json = z.toJSONSchema(credentialSchemas[name], { io: 'input' }) as {
    properties?: Record<string, { type?: string; description?: string; default?: unknown; secret?: boolean }>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([field, prop]) => ({
    name: field,
    type: prop.type ?? 'string',
    required: json.required?.includes(field) ?? false,
    secret: prop.secret === true,
    ...(prop.description ? { description: prop.description } : {}),
    ...(prop.default !== undefined ? { default: prop.default } : {}),
  }));
}

/** Names of a provider's secret credential fields (masked in API output). */
export function secretFieldsOf(name: ProviderName): string[] {
  return credentialFieldsOf(name)
    .filter((f) => f.secret)
    .map((f) => f.name);
}

/** Validates credentials for a provider; throws a ZodError (a 400 at the API edge) when they are wrong. */
export function parseCredentials<P extends ProviderName>(provider: P, input: unknown): ProviderCredentials<P> {
  return credentialSchemas[provider].parse(input ?? {}) as ProviderCredentials<P>;
}

export interface CreateMailerOptions {
  /** Where the log provider records messages (the send log). */
  logSink?: LogSink;
  /** Resend API origin; defaults to RESEND_BASE_URL, then the real API. */
  resendBaseUrl?: string;
  /** SMTP pool size, instead of the config's own (a connection test needs one). */
  smtpMaxConnections?: number;
  /** Per-request timeout for network providers. */
  timeoutMs?: number;
}

/** Builds the Mailer for one sending config from its (decrypted) credentials. */
export function createMailer(provider: ProviderName, credentials: unknown, opts: CreateMailerOptions = {}): Mailer {
  switch (provider) {
    case 'resend': {
      const creds = parseCredentials('resend', credentials);
      return createResendMailer({
        apiKey: creds.apiKey,
        ...(opts.resendBaseUrl ? { baseUrl: opts.resendBaseUrl } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      });
    }
    case 'smtp': {
      const creds = parseCredentials('smtp', credentials);
      return createSmtpMailer({
        host: creds.host,
        port: creds.port,
        secure: creds.secure,
        ...(creds.user ? { user: creds.user } : {}),
        ...(creds.pass !== undefined ? { pass: creds.pass } : {}),
        maxConnections: opts.smtpMaxConnections ?? creds.maxConnections,
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      });
    }
    case 'log':
      parseCredentials('log', credentials);
      return createLogMailer(opts.logSink ? { sink: opts.logSink } : {});
    default: {
      const unknown: never = provider;
      throw new Error(`Unknown provider ${String(unknown)}`);
    }
  }
}
