/**
 * Recorded workflow histories for replay tests (test/workflows/histories/*.binpb): a change that would
 * break a workflow already running in production fails its replay test and must go behind `patched()`.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { expect } from 'vitest';
import { getWorkflowBundle } from './temporal.js';

export const HISTORIES_DIR = path.join(import.meta.dirname, '../workflows/histories');

/**
 * With RECORD_HISTORIES=1, saves the workflow's history as binary protobuf next to the replay test's
 * other histories (JSON histories trip over duplicated protobufjs copies in this install). After a
 * versioned change, record with RECORD_HISTORIES_SUFFIX=-<patch> so the older histories stay.
 */
export async function maybeRecordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  const file = `${name}${process.env.RECORD_HISTORIES_SUFFIX ?? ''}.binpb`;
  await writeFile(path.join(HISTORIES_DIR, file), temporal.api.history.v1.History.encode(history).finish());
}

export async function readHistory(file: string) {
  return temporal.api.history.v1.History.decode(await readFile(path.join(HISTORIES_DIR, file)));
}

/**
 * Replays every recorded history whose file name starts with `prefix` against today's workflow bundle,
 * after checking there are at least `atLeast` of them (a renamed or lost file must not pass silently).
 */
export async function expectRecordedHistoriesReplay(prefix: string, atLeast: number): Promise<void> {
  const files = (await readdir(HISTORIES_DIR)).filter((f) => f.startsWith(prefix) && f.endsWith('.binpb'));
  expect(files.length).toBeGreaterThanOrEqual(atLeast);
  const workflowBundle = await getWorkflowBundle();
  for (const file of files) {
    await expect(Worker.runReplayHistory({ workflowBundle }, await readHistory(file), file), file).resolves.toBeUndefined();
  }
}
