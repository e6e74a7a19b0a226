import path from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable Tidings reads, validated at once so a bad deployment fails at start with
 * one message per bad value instead of a crash later. docker-compose.yml uses exactly these names.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, e.g. localhost:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** gRPC port of the embedded Temporal dev server (used only when TEMPORAL_ADDRESS is unset). */
  TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  TEMPORAL_UI_URL: z.url().optional(),
  TIDINGS_DATA_DIR: z.string().min(1).default('.data'),
  /** Port of the embedded PostgreSQL (used only when DATABASE_URL is unset). */
  TIDINGS_PG_PORT: z.coerce.number().int().min(1).max(65535).default(5488),
  TIDINGS_API_KEY: z
    .string()
    .regex(/^tk_live_[A-Za-z0-9_-]{16,}$/, 'must look like tk_live_<at least 16 letters, digits, _ or ->')
    .optional(),
  /** A prebuilt dashboard (`tsx src/web/build.ts <dir>`), as in the image; unset: built on start and cached. */
  TIDINGS_WEB_DIR: z.string().min(1).optional(),
  TIDINGS_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Base of unsubscribe and tracking links; required in production (src/main.ts defaults it to localhost otherwise). */
  PUBLIC_URL: z.url().optional(),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_TEST_SERVER_PATH: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Requests per minute per API key before 429. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Dashboard sessions end after this many hours without a request (sliding). */
  TIDINGS_SESSION_IDLE_HOURS: z.coerce.number().positive().max(24 * 365).default(12),
  /** Dashboard sessions end this many days after sign-in, however active (absolute). */
  TIDINGS_SESSION_MAX_DAYS: z.coerce.number().positive().max(365).default(7),
  /**
   * Days a send keeps its message body (rendered HTML and text, or a campaign copy's context); `0` or
   * `off` keeps every body for ever. Subject, status and events stay either way.
   */
  TIDINGS_MESSAGE_RETENTION_DAYS: z
    .union([z.literal('off').transform(() => 0), z.coerce.number().int().min(0).max(36_500)], {
      error: 'must be a whole number of days (0 to 36500) or off',
    })
    .default(30),
  /** Which roles this process plays: `npm start` runs all; compose runs api and worker apart. */
  TIDINGS_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
});

export type Env = z.infer<typeof configSchema>;

export interface Config extends Env {
  /** Absolute data directory. */
  dataDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings in a .env or compose file mean "unset", not "invalid".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const cfg = parsed.data;
  if (cfg.NODE_ENV === 'production') {
    const missing: string[] = [];
    if (!cfg.TIDINGS_SECRET) missing.push('TIDINGS_SECRET: required in production (at least 32 characters)');
    // Elsewhere it defaults to http://localhost:PORT, which in real email would be dead links.
    if (!cfg.PUBLIC_URL) {
      missing.push('PUBLIC_URL: required in production (the public base URL of the API, e.g. https://mail.example.com): unsubscribe and tracking links in emails point there');
    }
    if (missing.length > 0) throw new ConfigError(missing);
  }
  return { ...cfg, dataDir: path.resolve(cfg.TIDINGS_DATA_DIR) };
}

/** The names of every variable the schema knows, for checks such as the compose-file test. */
export const configKeys = Object.keys(configSchema.shape) as (keyof Env)[];
