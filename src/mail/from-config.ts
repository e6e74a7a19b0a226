import type { LogSink } from './log.js';
import type { Mailer } from './mailer.js';
import { createMailer, type ProviderName } from './providers.js';

/** A sending config as the worker loads it: the row's identity plus its decrypted credentials. */
export interface LoadedSendingConfig {
  config: { id: number; provider: ProviderName; updatedAt: Date };
  credentials: Record<string, unknown>;
}

export interface MailersOptions {
  /**
   * Resend API origin (a local fake in tests and benchmarks). When absent the SDK itself falls back to
   * RESEND_BASE_URL, then the real API.
   */
  resendBaseUrl?: string;
  /** Where the `log` provider hands each message; the send row already holds the rendered message. */
  logSink?: LogSink;
  /** Per-request provider timeout; must stay well under the sending activity's heartbeat timeout. */
  timeoutMs?: number;
  /** How long a replaced mailer stays open for sends already using it. */
  retireAfterMs?: number;
}

/**
 * The Mailers of one worker process, one per sending config. Building a mailer per send would open a
 * new SMTP pool (TCP + TLS + AUTH) for every email, so they are cached by config id and `updatedAt`:
 * editing a config (new credentials, another provider) yields a fresh mailer and retires the old one.
 */
export interface Mailers {
  forConfig(loaded: LoadedSendingConfig): Mailer;
  /** Closes every mailer (SMTP pools); call on worker shutdown. */
  close(): Promise<void>;
}

export function createMailers(options: MailersOptions = {}): Mailers {
  const { resendBaseUrl } = options;
  const retireAfterMs = options.retireAfterMs ?? 60_000;
  const cache = new Map<number, { version: number; mailer: Mailer }>();
  const retiring = new Set<Mailer>();

  function retire(mailer: Mailer): void {
    retiring.add(mailer);
    // Sends in flight on the old pool finish first; unref so a retiring mailer never holds the process.
    setTimeout(() => {
      retiring.delete(mailer);
      void mailer.close().catch(() => {});
    }, retireAfterMs).unref();
  }

  return {
    forConfig({ config, credentials }) {
      const version = config.updatedAt.getTime();
      const cached = cache.get(config.id);
      if (cached && cached.version === version) return cached.mailer;
      // A read that raced an edit saw the older row: the newer mailer is the one the user wants.
      if (cached && cached.version > version) return cached.mailer;
      const mailer = createMailer(config.provider, credentials, mailerOptions());
      cache.set(config.id, { version, mailer });
      if (cached) retire(cached.mailer);
      return mailer;
    },

    async close() {
      const all = [...[...cache.values()].map((c) => c.mailer), ...retiring];
      cache.clear();
      retiring.clear();
      await Promise.allSettled(all.map((m) => m.close()));
    },
  };

  function mailerOptions() {
    return {
      ...(resendBaseUrl ? { resendBaseUrl } : {}),
      ...(options.logSink ? { logSink: options.logSink } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    };
  }
}
