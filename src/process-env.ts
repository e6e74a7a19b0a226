/**
 * Environment defaults of every Tidings Node process, set by whatever starts it rather than by the
 * process itself: glibc reads MALLOC_ARENA_MAX once, when the process starts, before any JavaScript
 * runs. `npm start` sets them in its script (package.json), the image with ENV (Dockerfile), the
 * benches when they spawn src/main.ts (bench/lib/services.ts); test/compose/compose.test.ts keeps the
 * three in step. A value already in the environment always wins.
 *
 * MALLOC_ARENA_MAX=2: glibc gives each thread that contends for malloc an arena of its own, up to
 * 8 per core, and each arena keeps its freed memory resident. A worker runs the Temporal core's
 * Rust threads, libuv's pool and V8's helpers, so arenas hold a good part of its RSS; two trade a
 * little lock contention in malloc for less memory (with 10,000 sleeping journeys about 765 → 645
 * MB: README, "Durability of the embedded defaults"). Only glibc reads it; elsewhere it is inert.
 */
export const PROCESS_ENV_DEFAULTS: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** `env` with each of {@link PROCESS_ENV_DEFAULTS} added where it has no value of its own. */
export function withProcessEnvDefaults<T extends Record<string, string | undefined>>(env: T): T {
  const out: Record<string, string | undefined> = { ...env };
  for (const [key, value] of Object.entries(PROCESS_ENV_DEFAULTS)) if (!out[key]) out[key] = value;
  return out as T;
}
