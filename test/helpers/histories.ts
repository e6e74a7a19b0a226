/**
 * Recorded workflow histories for replay tests (test/workflows/histories/*.binpb): a change that would
 * break a workflow already running in production fails its replay test and must go behind `patched()`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

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
