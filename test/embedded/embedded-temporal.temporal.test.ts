import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/embedded/ports.js';
import { isAlive } from '../../src/embedded/processes.js';
import { startEmbeddedTemporal } from '../../src/embedded/temporal.js';
import { connectTemporal } from '../../src/temporal/client.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tidings-temporal-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const cliPath = () => inject('temporalCliPath') || undefined;

describe('embedded Temporal dev server', () => {
  it('serves the namespace with search attributes and a Web UI, and keeps workflows across a restart', async () => {
    const [port, uiPort] = [await findFreePort(), await findFreePort()];
    const first = await startEmbeddedTemporal({ dataDir, port, uiPort, namespace: 'tidings-test', cliPath: cliPath() });
    let pid = first.pid;
    try {
      expect(first.address).toBe(`127.0.0.1:${port}`);
      expect(first.uiUrl).toBe(`http://localhost:${uiPort}`);
      const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
      expect(ui.status).toBe(200);

      const { connection, client } = await connectTemporal({ address: first.address, namespace: 'tidings-test' });
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'tidings-test' });
        expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)));
        // No worker polls this queue: the workflow just waits, persisted in SQLite.
        await client.workflow.start('nobodyRunsThis', { taskQueue: 'nobody', workflowId: 'survives-restart' });
      } finally {
        await connection.close();
      }
    } finally {
      await first.stop();
    }
    expect(isAlive(pid)).toBe(false);
    await expect(readFile(path.join(dataDir, 'temporal.log'), 'utf8')).resolves.toBeDefined();

    const second = await startEmbeddedTemporal({ dataDir, port, uiPort: false, namespace: 'tidings-test', cliPath: cliPath() });
    pid = second.pid;
    try {
      expect(second.uiUrl).toBeNull();
      const { connection, client } = await connectTemporal({ address: second.address, namespace: 'tidings-test' });
      try {
        const description = await client.workflow.getHandle('survives-restart').describe();
        expect(description.status.name).toBe('RUNNING');
      } finally {
        await connection.close();
      }
    } finally {
      await second.stop();
    }
    expect(isAlive(pid)).toBe(false);
  });

  it('reports a gRPC port that is already taken in one line that says what to do', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const error = await startEmbeddedTemporal({ dataDir, port, uiPort: false, cliPath: cliPath() }).catch((err: unknown) => err as Error);
      expect((error as Error).message).toBe(
        `Port ${port} is already in use (Temporal dev server): stop the other Temporal server, set TEMPORAL_PORT to a free port, ` +
          'or set TEMPORAL_ADDRESS to use a running server',
      );
    } finally {
      blocker.close();
    }
  });

  it('reports a Web UI port that is already taken, naming TEMPORAL_UI_PORT', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port: uiPort } = blocker.address() as net.AddressInfo;
    try {
      await expect(
        startEmbeddedTemporal({ dataDir, port: await findFreePort(), uiPort, cliPath: cliPath() }),
      ).rejects.toThrow(`Port ${uiPort} is already in use (Temporal Web UI): stop whatever listens there or set TEMPORAL_UI_PORT to a free port`);
    } finally {
      blocker.close();
    }
  });
});
