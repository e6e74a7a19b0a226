import { readdir, readFile, readlink } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';

/**
 * What a Temporal dev server did for some work: the history events of workflow executions, by type,
 * and the server's own request counters (its Prometheus endpoint).
 */

// A CommonJS module: Node's ESM loader sees no named exports in it.
const { EventType } = proto.temporal.api.enums.v1;

/** `EVENT_TYPE_WORKFLOW_TASK_SCHEDULED` → `WorkflowTaskScheduled`. */
function eventTypeName(type: proto.temporal.api.enums.v1.EventType | null | undefined): string {
  const raw = EventType[type ?? 0] ?? `Unknown${type}`;
  return raw
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _s: string, c: string) => c.toUpperCase());
}

/**
 * An event's type, with what tells same-typed events apart: a marker's name (`core_local_activity`,
 * `core_patch`) and the search attributes an upsert sets.
 */
function eventName(event: proto.temporal.api.history.v1.IHistoryEvent): string {
  const type = eventTypeName(event.eventType);
  const marker = event.markerRecordedEventAttributes?.markerName;
  if (marker) return `${type} (${marker})`;
  const upserted = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
  if (upserted) return `${type} (${Object.keys(upserted).sort().join(', ')})`;
  return type;
}

export interface HistoryCount {
  /** Workflow executions (runs: a continue-as-new chain counts each run). */
  executions: number;
  events: number;
  byType: Record<string, number>;
  /** The same, per workflow type. */
  byWorkflowType: Record<string, { executions: number; events: number }>;
}

export const emptyHistoryCount = (): HistoryCount => ({ executions: 0, events: 0, byType: {}, byWorkflowType: {} });

/**
 * Counts the events of a workflow's runs (the latest, then back along continue-as-new) into `into`.
 * With `window`, only events recorded within [fromMs, toMs] count, and runs that ended before it are
 * not fetched: for long-lived workflows (the outbox relays) that also ran before and after the work.
 */
export async function countWorkflowHistory(
  client: Client,
  workflowId: string,
  into: HistoryCount,
  window?: { fromMs: number; toMs: number },
): Promise<void> {
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    const type = started?.workflowType?.name ?? 'unknown';
    let counted = 0;
    for (const event of events) {
      const at = tsToMs(event.eventTime);
      if (window && (at < window.fromMs || at > window.toMs)) continue;
      const name = eventName(event);
      into.byType[name] = (into.byType[name] ?? 0) + 1;
      counted += 1;
    }
    if (counted > 0 || !window) {
      into.executions += 1;
      into.events += counted;
      const perType = (into.byWorkflowType[type] ??= { executions: 0, events: 0 });
      perType.executions += 1;
      perType.events += counted;
    }
    const previous = started?.continuedExecutionRunId;
    if (!previous) return;
    if (window && events[0] && tsToMs(events[0].eventTime) < window.fromMs) return;
    runId = previous;
  }
}

/** Runs `fn` over `items`, `limit` at a time. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The counters of Temporal work in a dev server's metrics, by `<service> <operation>`. */
export interface ServerCounters {
  /** gRPC requests each service handled (frontend: what clients and workers asked; history, matching: internal). */
  requests: Record<string, number>;
  /** Persistence (SQLite) operations by service and operation. */
  persistence: Record<string, number>;
}

/** TCP ports a process listens on (Linux /proc: its socket inodes matched against the listening sockets). */
async function listeningPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode) inodes.add(inode);
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      // Column 4 is the state (0A = LISTEN), column 10 the socket inode.
      if (cols[3] === '0A' && inodes.has(cols[9] ?? '')) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports];
}

/**
 * The dev server's Prometheus endpoint. `temporal server start-dev` serves one on a random port unless
 * told otherwise; it is found among the ports the server process listens on.
 */
export async function findMetricsUrl(pid: number): Promise<string> {
  for (const port of await listeningPorts(pid)) {
    const url = `http://127.0.0.1:${port}/metrics`;
    const text = await fetch(url, { signal: AbortSignal.timeout(2000) })
      .then((r) => (r.ok ? r.text() : ''))
      .catch(() => '');
    if (text.includes('# TYPE service_requests')) return url;
  }
  throw new Error(`no Prometheus endpoint among the ports Temporal (pid ${pid}) listens on`);
}

export async function scrapeServerCounters(url: string): Promise<ServerCounters> {
  const text = await (await fetch(url)).text();
  const counters: ServerCounters = { requests: {}, persistence: {} };
  for (const line of text.split('\n')) {
    const m = /^(service_requests|persistence_requests)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = `${labels.service_name ?? '?'} ${labels.operation ?? '?'}`;
    const into = m[1] === 'service_requests' ? counters.requests : counters.persistence;
    into[key] = (into[key] ?? 0) + Number(m[3]);
  }
  return counters;
}

/** `after - before`, key by key, dropping zeros. */
export function diffCounts(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}

/** Where one woken journey's timer lag went, from its history (ms). */
export interface WakeTiming {
  /** When the timer was due (TimerStarted + its duration), epoch ms. */
  dueMs: number;
  /** TimerFired minus due: the server's timer queue. */
  timerFiredLateMs: number;
  /** The first workflow task after the timer: scheduled → started (waiting in a task queue for a poll or a worker slot). */
  taskQueueWaitMs: number | null;
  /** When that task started, epoch ms: what follows until the send is the worker's (a replay on a cache miss, local activities). */
  taskStartedMs: number | null;
  /** Workflow tasks of the run that timed out (a sticky task not picked up in time, a worker too slow). */
  workflowTaskTimeouts: number;
}

/** {@link WakeTiming} of a workflow that slept on one timer; null when it has no fired timer. */
export async function wakeTiming(client: Client, workflowId: string): Promise<WakeTiming | null> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const T = EventType;
  const fired = events.findIndex((e) => e.eventType === T.EVENT_TYPE_TIMER_FIRED);
  if (fired < 0) return null;
  const timerId = events[fired]!.timerFiredEventAttributes?.timerId;
  const started = events.find((e) => e.eventType === T.EVENT_TYPE_TIMER_STARTED && e.timerStartedEventAttributes?.timerId === timerId);
  if (!started) return null;
  const dueMs = tsToMs(started.eventTime) + tsToMs(started.timerStartedEventAttributes?.startToFireTimeout);
  const after = events.slice(fired + 1);
  const first = (type: proto.temporal.api.enums.v1.EventType) => {
    const e = after.find((x) => x.eventType === type);
    return e ? tsToMs(e.eventTime) : null;
  };
  const scheduled = first(T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  const taskStartedMs = first(T.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  return {
    dueMs,
    timerFiredLateMs: tsToMs(events[fired]!.eventTime) - dueMs,
    taskQueueWaitMs: scheduled !== null && taskStartedMs !== null ? taskStartedMs - scheduled : null,
    taskStartedMs,
    workflowTaskTimeouts: events.filter((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT).length,
  };
}
