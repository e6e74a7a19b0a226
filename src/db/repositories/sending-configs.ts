import { and, asc, count, eq, sql } from 'drizzle-orm';
import { ZodError } from 'zod';
import { AppError, zodDetails } from '../../errors.js';
import { maskCredentials, maskKey, type SecretBox } from '../../crypto/secret-box.js';
import { parseCredentials, type ProviderName } from '../../mail/providers.js';
import type { DbOrTx } from '../client.js';
import { sendingConfigs } from '../schema.js';

/** A stored sending config: credentials and webhook secret are ciphertext here. */
export type SendingConfigRow = typeof sendingConfigs.$inferSelect;

export interface SendingConfigInput {
  name: string;
  provider: ProviderName;
  fromEmail: string;
  fromName?: string | null;
  replyTo?: string | null;
  /** Raw credentials; validated against the provider's schema here (400 naming `credentials.<field>`). */
  credentials?: unknown;
  /** Provider rate limit shared by every send through this config; null = unlimited. */
  maxPerSecond?: number | null;
  trackOpens?: boolean;
  trackClicks?: boolean;
  /** Resend webhook signing secret (`whsec_…`). */
  webhookSecret?: string | null;
}

/** `undefined` = leave as is. Changing `provider` to one that takes credentials requires `credentials`. */
export type SendingConfigPatch = Partial<SendingConfigInput>;

/** What the API shows: never ciphertext, never a usable secret. */
export interface SendingConfigView {
  id: number;
  name: string;
  provider: ProviderName;
  fromEmail: string;
  fromName: string | null;
  replyTo: string | null;
  /** Masked (`re_****abcd`, `********`); null when they cannot be decrypted under the current secret. */
  credentials: Record<string, unknown> | null;
  maxPerSecond: number | null;
  trackOpens: boolean;
  trackClicks: boolean;
  /** Masked (`whsec_****abcd`) or null when none is set. */
  webhookSecret: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const LOG_CONFIG_DEFAULTS = { name: 'Local log', fromEmail: 'tidings@localhost' } as const;

// The ciphertext is bound to its site and field (AES-GCM associated data), so a token copied into
// another site's row or into the other column does not decrypt.
const credentialsContext = (siteId: number) => `site:${siteId}:sending-config:credentials`;
const webhookSecretContext = (siteId: number) => `site:${siteId}:sending-config:webhook-secret`;

const bySite = (siteId: number, id: number) => and(eq(sendingConfigs.siteId, siteId), eq(sendingConfigs.id, id))!;

/** Provider credentials checked and normalised (defaults applied); a mismatch is a 400 on `credentials.*`. */
function validCredentials(provider: ProviderName, input: unknown): Record<string, unknown> {
  try {
    return parseCredentials(provider, input) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ZodError) {
      throw AppError.validation(`Invalid credentials for provider ${provider}`, zodDetails(err, 'credentials'));
    }
    throw err;
  }
}

export async function createSendingConfig(
  db: DbOrTx,
  secretBox: SecretBox,
  siteId: number,
  input: SendingConfigInput,
): Promise<SendingConfigRow> {
  const credentials = validCredentials(input.provider, input.credentials);
  const [row] = await db
    .insert(sendingConfigs)
    .values({
      siteId,
      name: input.name,
      provider: input.provider,
      fromEmail: input.fromEmail,
      fromName: input.fromName ?? null,
      replyTo: input.replyTo ?? null,
      credentialsEncrypted: secretBox.encrypt(credentials, credentialsContext(siteId)),
      maxPerSecond: input.maxPerSecond ?? null,
      trackOpens: input.trackOpens,
      trackClicks: input.trackClicks,
      webhookSecretEncrypted: input.webhookSecret ? secretBox.encrypt(input.webhookSecret, webhookSecretContext(siteId)) : null,
    })
    .returning();
  return row!;
}

export async function listSendingConfigs(
  db: DbOrTx,
  siteId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: SendingConfigRow[]; total: number }> {
  const where = eq(sendingConfigs.siteId, siteId);
  const [rows, [totals]] = await Promise.all([
    db.select().from(sendingConfigs).where(where).orderBy(asc(sendingConfigs.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(sendingConfigs).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

/** The stored row (credentials still encrypted), or null when the site has no such config. */
export async function getSendingConfig(db: DbOrTx, siteId: number, id: number): Promise<SendingConfigRow | null> {
  const [row] = await db.select().from(sendingConfigs).where(bySite(siteId, id));
  return row ?? null;
}

/**
 * Applies a patch; new credentials are validated against the resulting provider and replace the old
 * ones wholesale. Null when the site has no such config.
 */
export async function updateSendingConfig(
  db: DbOrTx,
  secretBox: SecretBox,
  siteId: number,
  id: number,
  patch: SendingConfigPatch,
): Promise<SendingConfigRow | null> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(sendingConfigs).where(bySite(siteId, id)).for('update');
    if (!current) return null;
    const provider = patch.provider ?? current.provider;
    let credentialsEncrypted: string | undefined;
    if (patch.credentials !== undefined) {
      credentialsEncrypted = secretBox.encrypt(validCredentials(provider, patch.credentials), credentialsContext(siteId));
    } else if (provider !== current.provider) {
      // The old provider's credentials mean nothing to the new one; only `log` needs none.
      if (provider !== 'log') {
        throw AppError.validation(`Changing the provider to ${provider} requires its credentials`, [
          { path: 'credentials', message: `required when changing the provider to ${provider}` },
        ]);
      }
      credentialsEncrypted = secretBox.encrypt(validCredentials(provider, {}), credentialsContext(siteId));
    }
    const [row] = await tx
      .update(sendingConfigs)
      .set({
        name: patch.name,
        provider: patch.provider,
        fromEmail: patch.fromEmail,
        fromName: patch.fromName,
        replyTo: patch.replyTo,
        credentialsEncrypted,
        maxPerSecond: patch.maxPerSecond,
        trackOpens: patch.trackOpens,
        trackClicks: patch.trackClicks,
        ...(patch.webhookSecret !== undefined
          ? { webhookSecretEncrypted: patch.webhookSecret ? secretBox.encrypt(patch.webhookSecret, webhookSecretContext(siteId)) : null }
          : {}),
        updatedAt: new Date(),
      })
      .where(bySite(siteId, id))
      .returning();
    return row ?? null;
  });
}

/** PostgreSQL foreign_key_violation, possibly wrapped by drizzle. */
function isForeignKeyViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === '23503') return true;
  }
  return false;
}

/**
 * Deletes a config; false when the site has none with this id. The send log keeps its rows
 * (sends.sending_config_id is ON DELETE RESTRICT), so a config that has sent mail is a 409.
 */
export async function deleteSendingConfig(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  try {
    const rows = await db.delete(sendingConfigs).where(bySite(siteId, id)).returning({ id: sendingConfigs.id });
    return rows.length > 0;
  } catch (err) {
    if (!isForeignKeyViolation(err)) throw err;
    throw new AppError(
      'sending_config_in_use',
      'conflict',
      `Sending config ${id} has sent email; the send log refers to it, so it cannot be deleted (create another config instead)`,
    );
  }
}

/**
 * A config with its decrypted credentials and webhook secret, for the worker that builds a Mailer.
 * Null when no config has this id. Throws SecretBoxError when TIDINGS_SECRET changed since they were saved.
 */
export async function loadSendingConfigWithCredentials(
  db: DbOrTx,
  secretBox: SecretBox,
  id: number,
): Promise<{ config: SendingConfigRow; credentials: Record<string, unknown>; webhookSecret: string | null } | null> {
  const [config] = await db.select().from(sendingConfigs).where(eq(sendingConfigs.id, id));
  if (!config) return null;
  return {
    config,
    credentials: secretBox.decrypt<Record<string, unknown>>(config.credentialsEncrypted, credentialsContext(config.siteId)),
    webhookSecret: config.webhookSecretEncrypted
      ? secretBox.decrypt<string>(config.webhookSecretEncrypted, webhookSecretContext(config.siteId))
      : null,
  };
}

/** A config's decrypted webhook signing secret (`whsec_…`), or null when none is set. Throws SecretBoxError under another TIDINGS_SECRET. */
export function webhookSecretOf(row: SendingConfigRow, secretBox: SecretBox): string | null {
  return row.webhookSecretEncrypted ? secretBox.decrypt<string>(row.webhookSecretEncrypted, webhookSecretContext(row.siteId)) : null;
}

/**
 * Gives a site that has no sending config at all a `log` one ("Local log", tidings@localhost), so a
 * fresh install can send at once without a provider account. Returns the site's first config and
 * whether it was created now. Serialised per site on an advisory lock so concurrent starts create one.
 */
export async function ensureLogSendingConfig(
  db: DbOrTx,
  secretBox: SecretBox,
  siteId: number,
): Promise<{ config: SendingConfigRow; created: boolean }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(727276, ${siteId})`);
    const [existing] = await tx.select().from(sendingConfigs).where(eq(sendingConfigs.siteId, siteId)).orderBy(asc(sendingConfigs.id)).limit(1);
    if (existing) return { config: existing, created: false };
    const config = await createSendingConfig(tx, secretBox, siteId, { ...LOG_CONFIG_DEFAULTS, provider: 'log', credentials: {} });
    return { config, created: true };
  });
}

/** The API shape of a config: credentials decrypted only to be masked; never ciphertext. */
export function toSendingConfigView(row: SendingConfigRow, secretBox: SecretBox): SendingConfigView {
  let credentials: Record<string, unknown> | null;
  try {
    credentials = maskCredentials(row.provider, secretBox.decrypt<Record<string, unknown>>(row.credentialsEncrypted, credentialsContext(row.siteId)));
  } catch {
    // Saved under another TIDINGS_SECRET: still list the config, so the user can PATCH new credentials.
    credentials = null;
  }
  let webhookSecret: string | null = null;
  if (row.webhookSecretEncrypted) {
    try {
      webhookSecret = maskKey(secretBox.decrypt<string>(row.webhookSecretEncrypted, webhookSecretContext(row.siteId)));
    } catch {
      webhookSecret = 'whsec_****';
    }
  }
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    fromEmail: row.fromEmail,
    fromName: row.fromName,
    replyTo: row.replyTo,
    credentials,
    maxPerSecond: row.maxPerSecond,
    trackOpens: row.trackOpens,
    trackClicks: row.trackClicks,
    webhookSecret,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
