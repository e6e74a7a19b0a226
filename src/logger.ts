import { pino, type Logger } from 'pino';

export type { Logger };

/** One structured JSON logger per process; children carry a `component` field. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'tidings' } });
}
