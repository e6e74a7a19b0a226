import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/embedded/errors.js';
import { findTemporalCli, findTestServer, TEMPORAL_CLI_VERSION, toolPaths } from '../../src/embedded/tools.js';

let dir: string;

async function fakeExecutable(file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '#!/bin/sh\necho fake\n');
  await chmod(file, 0o755);
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tidings-tools-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('finding the Temporal CLI', () => {
  it('uses TEMPORAL_CLI_PATH before anything else', async () => {
    const own = await fakeExecutable(path.join(dir, 'own', 'temporal'));
    const onPath = await fakeExecutable(path.join(dir, 'bin', 'temporal'));
    const found = await findTemporalCli({
      env: { TEMPORAL_CLI_PATH: own, PATH: path.dirname(onPath), TIDINGS_TOOLS_DIR: path.join(dir, 'tools') },
      provision: false,
    });
    expect(found).toMatchObject({ path: own, source: 'env' });
  });

  it('refuses a TEMPORAL_CLI_PATH that is not an executable, in one line naming the variable', async () => {
    const error = await findTemporalCli({ env: { TEMPORAL_CLI_PATH: path.join(dir, 'missing') }, provision: false }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(/^TEMPORAL_CLI_PATH=.*missing is not an executable file: /);
    expect((error as Error).message).not.toContain('\n');
  });

  it('takes `temporal` from PATH when the variable is unset', async () => {
    const onPath = await fakeExecutable(path.join(dir, 'bin', 'temporal'));
    const found = await findTemporalCli({
      env: { PATH: path.dirname(onPath), TIDINGS_TOOLS_DIR: path.join(dir, 'tools') },
      provision: false,
    });
    expect(found).toMatchObject({ path: onPath, source: 'path' });
  });

  it('uses a completed tools cache without provisioning again', async () => {
    const env = { PATH: '', TIDINGS_TOOLS_DIR: path.join(dir, 'cache') };
    const paths = toolPaths(env);
    expect(paths.cli).toBe(path.join(dir, 'cache', `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'bin', 'temporal'));
    await fakeExecutable(paths.cli);
    await writeFile(paths.cliDone, 'done');
    await expect(findTemporalCli({ env, provision: false })).resolves.toMatchObject({ path: paths.cli, source: 'cache' });
  });

  it('ignores a half-provisioned cache and says how to get the CLI', async () => {
    const env = { PATH: '', TIDINGS_TOOLS_DIR: path.join(dir, 'half') };
    await fakeExecutable(toolPaths(env).cli); // no .complete marker: pip was interrupted
    await expect(findTemporalCli({ env, provision: false })).rejects.toThrow(/set TEMPORAL_CLI_PATH/);
  });
});

describe('finding the time-skipping test server', () => {
  it('uses TEMPORAL_TEST_SERVER_PATH when it is set', async () => {
    const own = await fakeExecutable(path.join(dir, 'own', 'test-server'));
    await expect(
      findTestServer({ env: { TEMPORAL_TEST_SERVER_PATH: own, TIDINGS_TOOLS_DIR: path.join(dir, 'tools') }, provision: false }),
    ).resolves.toMatchObject({ path: own, source: 'env' });
  });

  it('says which variable to set when nothing is provisioned', async () => {
    await expect(
      findTestServer({ env: { PATH: '', TIDINGS_TOOLS_DIR: path.join(dir, 'empty') }, provision: false }),
    ).rejects.toThrow(/set TEMPORAL_TEST_SERVER_PATH/);
  });
});
