import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';

/**
 * The server's type for each kind of search attribute Tidings defines, from the public protocol
 * package (the SDK's own encoder lives in @temporalio/common's internals, which are not an API).
 */
// A CommonJS package: Node's ESM loader sees only its default export.
const { IndexedValueType } = proto.temporal.api.enums.v1;
const INDEXED_VALUE_TYPE: Record<'INT' | 'KEYWORD', proto.temporal.api.enums.v1.IndexedValueType> = {
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
};

export interface TemporalClients {
  connection: Connection;
  client: Client;
}

/** Connects a Temporal client; the caller owns the connection and closes it on shutdown. */
export async function connectTemporal(opts: { address: string; namespace: string }): Promise<TemporalClients> {
  const connection = await Connection.connect({ address: opts.address });
  return { connection, client: new Client({ connection, namespace: opts.namespace }) };
}

const isAlreadyExists = (err: unknown) =>
  /already exists|ALREADY_EXISTS/i.test(String((err as Error)?.message ?? err)) || (err as { code?: number })?.code === 6;

/**
 * Registers Tidings' custom search attributes in `namespace` through the operator service. Idempotent:
 * attributes already present are left alone, so it runs on every start and against any server
 * (dev server, production cluster, the Java test server). Returns the names it added.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  let existing = new Set<string>();
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    existing = new Set(Object.keys(listed.customAttributes ?? {}));
  } catch {
    // Some servers (the Java test server) cannot list; adding is still idempotent below.
  }
  const missing = Object.values(SEARCH_ATTRIBUTES).filter((key) => !existing.has(key.name));
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_VALUE_TYPE[key.type]])),
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    // Another process (api and worker start together) registered them first: add one by one to
    // pick up any that are still missing.
    for (const key of missing) {
      await connection.operatorService
        .addSearchAttributes({ namespace, searchAttributes: { [key.name]: INDEXED_VALUE_TYPE[key.type] } })
        .catch((e: unknown) => {
          if (!isAlreadyExists(e)) throw e;
        });
    }
  }
  return missing.map((key) => key.name);
}
