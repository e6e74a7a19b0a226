import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configKeys, loadConfig } from '../../src/config.js';
import { PROCESS_ENV_DEFAULTS } from '../../src/process-env.js';
import { searchAttributeCliArgs } from '../../src/temporal/search-attributes.js';

// No Docker engine runs on these machines, so the production shape is checked statically: the
// compose file and Dockerfile are read as data and held against the code they deploy.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

type EnvSpec = Record<string, string | number | boolean | null> | string[];
type PortSpec = string | number | { target: number; published?: string | number; host_ip?: string };
type DependsSpec = string[] | Record<string, { condition?: string }>;

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  container_name?: string;
  environment?: EnvSpec;
  ports?: PortSpec[];
  depends_on?: DependsSpec;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  entrypoint?: string | string[];
  command?: string | string[];
  volumes?: string[];
}

interface ComposeFile {
  services: Record<string, Service>;
}

// Merge keys (`<<: *anchor`) are how api and worker share one environment; Compose honours them.
const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

function envOf(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const eq = entry.indexOf('=');
        return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

interface Port {
  hostIp?: string;
  published?: number;
  target: number;
}

/** Reads both the short ("[ip:]published:target") and the long port syntax. */
function portsOf(name: string): Port[] {
  return (service(name).ports ?? []).map((p): Port => {
    if (typeof p === 'object') {
      return { hostIp: p.host_ip, published: p.published === undefined ? undefined : Number(p.published), target: p.target };
    }
    const parts = String(p).split('/')[0]!.split(':');
    const target = Number(parts.pop());
    const published = parts.length ? Number(parts.pop()) : undefined;
    return { hostIp: parts.pop(), published, target };
  });
}

function dependsOn(name: string): Record<string, string> {
  const deps = service(name).depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([d, spec]) => [d, spec.condition ?? 'service_started']));
}

/** The shell script a one-shot job runs (entrypoint `sh -c` plus its command). */
function scriptOf(name: string): string {
  const { entrypoint = [], command = [] } = service(name);
  return [entrypoint, command].flat().join('\n');
}

/**
 * Applies Compose variable interpolation to one value the way `docker compose up` would, with
 * `provided` as the shell environment. Throws for `${VAR:?message}` when VAR is missing.
 */
function interpolate(value: string, provided: Record<string, string>): string {
  return value
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (_m, name: string, colon: string, op: string, arg: string) => {
      const v = provided[name];
      const missing = v === undefined || (colon === ':' && v === '');
      if (!op) return v ?? '';
      if (op === '-') return missing ? arg : v!;
      if (missing) throw new Error(`required variable ${name} is missing: ${arg}`);
      return v!;
    })
    .replace(/\$\$/g, '$');
}

/** Services in an order Compose could start them: every dependency before its dependants. */
function startOrder(): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name)) return;
    if (visiting.has(name)) throw new Error(`depends_on cycle through ${name}`);
    visiting.add(name);
    for (const dep of Object.keys(dependsOn(name))) visit(dep);
    visiting.delete(name);
    order.push(name);
  };
  for (const name of Object.keys(services)) visit(name);
  return order;
}

const APP_SERVICES = ['api', 'worker'] as const;

describe('docker-compose.yml', () => {
  it('defines PostgreSQL, the Temporal schema job, server, namespace job and Web UI, and the Tidings api and worker', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'postgres', 'temporal', 'temporal-admin-tools', 'temporal-namespace', 'temporal-ui', 'worker'].sort(),
    );
    expect(service('postgres').image).toMatch(/^postgres:16[.-]/);
    expect(service('temporal-admin-tools').image).toMatch(/^temporalio\/admin-tools:/);
    expect(service('temporal-namespace').image).toBe(service('temporal-admin-tools').image);
    expect(service('temporal').image).toMatch(/^temporalio\/server:/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:/);
  });

  it('publishes the API on 3000, Temporal gRPC on 7233 and the Temporal Web UI on 8080', () => {
    expect(portsOf('api')).toContainEqual(expect.objectContaining({ published: 3000, target: 3000 }));
    expect(portsOf('temporal')).toContainEqual(expect.objectContaining({ published: 7233, target: 7233 }));
    expect(portsOf('temporal-ui')).toContainEqual(expect.objectContaining({ published: 8080, target: 8080 }));
    expect(envOf('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('keeps PostgreSQL off the host network', () => {
    expect(portsOf('postgres')).toEqual([]);
  });

  it('pins every image to a concrete version', () => {
    for (const [name, s] of Object.entries(services)) {
      if (!s.image) continue;
      const tag = s.image.split(':')[1];
      expect(tag, `${name} uses ${s.image}`).toMatch(/^\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$/);
    }
  });

  it('builds api and worker from the Dockerfile at the repository root', () => {
    for (const name of APP_SERVICES) {
      const build = service(name).build;
      const spec = typeof build === 'string' ? { context: build } : build;
      expect(spec, name).toBeDefined();
      expect(path.resolve(root, spec!.context ?? '.'), name).toBe(root);
      expect(spec!.dockerfile ?? 'Dockerfile', name).toBe('Dockerfile');
    }
  });

  it('gives api and worker only environment variable names that the config schema knows', () => {
    const known = new Set<string>(configKeys);
    for (const name of APP_SERVICES) {
      const unknown = Object.keys(envOf(name)).filter((key) => !known.has(key));
      expect(unknown, `${name} sets variables src/config.ts does not read`).toEqual([]);
    }
  });

  it('gives api and worker every variable production needs, wired to the compose services', () => {
    for (const name of APP_SERVICES) {
      const env = envOf(name);
      expect(env.TIDINGS_ROLE, name).toBe(name);
      expect(env.NODE_ENV, name).toBe('production');
      expect(new URL(interpolate(env.DATABASE_URL ?? '', {})).host, name).toBe('postgres:5432');
      expect(env.TEMPORAL_ADDRESS, name).toBe('temporal:7233');
      expect(env.TEMPORAL_NAMESPACE, name).toBeTruthy();
      // Compose itself refuses to start when the secret or the public URL is missing, with the message after `:?`.
      expect(env.TIDINGS_SECRET, name).toMatch(/^\$\{TIDINGS_SECRET:\?.+\}$/);
      expect(env.PUBLIC_URL, name).toMatch(/^\$\{PUBLIC_URL:\?.+\}$/);
    }
    expect(envOf('api').PORT).toBe('3000');
  });

  it('hands api and worker a configuration the config schema accepts in production once TIDINGS_SECRET and PUBLIC_URL are set', () => {
    const shell = { TIDINGS_SECRET: 'a'.repeat(64), PUBLIC_URL: 'https://mail.example.com' };
    for (const name of APP_SERVICES) {
      const env = Object.fromEntries(Object.entries(envOf(name)).map(([k, v]) => [k, interpolate(v, shell)]));
      const config = loadConfig(env);
      expect(config.NODE_ENV).toBe('production');
      expect(config.TIDINGS_ROLE).toBe(name);
      expect(config.DATABASE_URL).toBe('postgres://tidings:tidings@postgres:5432/tidings');
      expect(config.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(config.PORT).toBe(3000);
    }
    expect(() => interpolate(envOf('api').TIDINGS_SECRET ?? '', {})).toThrow(/TIDINGS_SECRET/);
    expect(() => interpolate(envOf('worker').PUBLIC_URL ?? '', {})).toThrow(/PUBLIC_URL/);
  });

  it('points the app, Temporal and the schema job at the same PostgreSQL credentials', () => {
    const pg = envOf('postgres');
    const url = new URL(interpolate(envOf('api').DATABASE_URL ?? '', {}));
    expect(url.username).toBe(pg.POSTGRES_USER);
    expect(url.password).toBe(interpolate(pg.POSTGRES_PASSWORD ?? '', {}));
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
    expect(envOf('temporal').POSTGRES_USER).toBe(pg.POSTGRES_USER);
    expect(envOf('temporal').POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
    expect(envOf('temporal-admin-tools').SQL_USER).toBe(pg.POSTGRES_USER);
    expect(envOf('temporal-admin-tools').SQL_PASSWORD).toBe(pg.POSTGRES_PASSWORD);
  });

  it('starts postgres, then the schema job to completion, then Temporal, then api and worker', () => {
    expect(dependsOn('temporal-admin-tools')).toEqual({ postgres: 'service_healthy' });
    expect(dependsOn('temporal')).toEqual({ 'temporal-admin-tools': 'service_completed_successfully' });
    expect(dependsOn('temporal-namespace')).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn('temporal-ui')).toEqual({ temporal: 'service_healthy' });
    for (const name of APP_SERVICES) {
      expect(dependsOn(name), name).toEqual({
        postgres: 'service_healthy',
        temporal: 'service_healthy',
        'temporal-namespace': 'service_completed_successfully',
      });
    }

    const order = startOrder();
    const at = (name: string) => order.indexOf(name);
    expect(at('postgres')).toBeLessThan(at('temporal-admin-tools'));
    expect(at('temporal-admin-tools')).toBeLessThan(at('temporal'));
    expect(at('temporal')).toBeLessThan(at('temporal-namespace'));
    for (const name of APP_SERVICES) expect(at('temporal-namespace')).toBeLessThan(at(name));
  });

  it('declares a healthcheck on every service that another waits on as healthy', () => {
    for (const name of Object.keys(services)) {
      for (const [dep, condition] of Object.entries(dependsOn(name))) {
        if (condition !== 'service_healthy') continue;
        const check = service(dep).healthcheck;
        expect(check?.test, `${name} waits for ${dep} to be healthy`).toBeDefined();
        expect(check?.disable, dep).not.toBe(true);
      }
    }
  });

  it('creates and updates the temporal and temporal_visibility schemas with temporal-sql-tool on postgres12', () => {
    const env = envOf('temporal-admin-tools');
    expect(env.SQL_PLUGIN).toBe('postgres12');
    expect(env.SQL_HOST).toBe('postgres');
    const script = scriptOf('temporal-admin-tools');
    expect(script).toMatch(/temporal-sql-tool .*create-database/);
    expect(script).toMatch(/temporal-sql-tool .*setup-schema -v 0\.0/);
    expect(script).toMatch(/temporal-sql-tool .*update-schema -d .*versioned/);
    expect(script).toContain('/etc/temporal/schema/postgresql/v12');
    expect(script).toContain('temporal:temporal');
    expect(script).toContain('temporal_visibility:visibility');

    const server = envOf('temporal');
    expect(server.DB).toBe('postgres12');
    expect(server.POSTGRES_SEEDS).toBe('postgres');
    expect(server.DBNAME ?? 'temporal').toBe('temporal');
    expect(server.VISIBILITY_DBNAME ?? 'temporal_visibility').toBe('temporal_visibility');
  });

  it('creates the namespace the app uses and registers exactly the search attributes the workflows set', () => {
    const env = envOf('temporal-namespace');
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(env.TEMPORAL_NAMESPACE).toBe(envOf('api').TEMPORAL_NAMESPACE);
    expect(env.TEMPORAL_NAMESPACE).toBe(envOf('worker').TEMPORAL_NAMESPACE);
    const registered = (env.TIDINGS_SEARCH_ATTRIBUTES ?? '').split(/\s+/).filter(Boolean);
    expect(registered.sort()).toEqual([...searchAttributeCliArgs].sort());

    const script = scriptOf('temporal-namespace');
    expect(script).toContain('temporal operator namespace create');
    expect(script).toContain('temporal operator search-attribute create');
    expect(script).toContain('$$TIDINGS_SEARCH_ATTRIBUTES');
  });

  it("keeps Tidings' custom search attributes within the columns Temporal's SQL visibility store pre-allocates", () => {
    // PostgreSQL (and the dev server's SQLite) visibility has fixed columns per type: Int01-03,
    // Keyword01-10, ... The server refuses more ("cannot have more than 3 search attributes of type
    // Int"), and that refusal would stop the namespace job and, with it, api and worker.
    const slots: Record<string, number> = { Int: 3, Keyword: 10, Text: 3, Bool: 3, Double: 3, Datetime: 3, KeywordList: 3 };
    const perType: Record<string, string[]> = {};
    for (const pair of searchAttributeCliArgs) {
      const [name, type] = pair.split('=') as [string, string];
      (perType[type] ??= []).push(name);
    }
    for (const [type, names] of Object.entries(perType)) {
      expect(names.length, `${type} attributes ${names.join(', ')}`).toBeLessThanOrEqual(slots[type] ?? 0);
    }
  });

  it('gives the Temporal server the dynamic config in deploy/ (eager activity dispatch, as the embedded dev server has)', () => {
    const temporal = service('temporal');
    const target = envOf('temporal').DYNAMIC_CONFIG_FILE_PATH;
    const mount = (temporal.volumes ?? []).find((v) => v.split(':')[1] === target);
    expect(mount, 'a volume mounted at DYNAMIC_CONFIG_FILE_PATH').toBeDefined();
    const source = mount!.split(':')[0]!;
    expect(existsSync(path.join(root, source)), source).toBe(true);
    const dynamicConfig = parse(read(source)) as Record<string, { value: unknown }[]>;
    expect(dynamicConfig['system.enableActivityEagerExecution']).toEqual([{ value: true }]);
  });

  it('lets the worker scale out: no published ports and no fixed container name', () => {
    expect(service('worker').ports ?? []).toEqual([]);
    expect(service('worker').container_name).toBeUndefined();
    expect(service('api').container_name).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  interface Instruction {
    op: string;
    args: string;
  }

  const dockerfile = existsSync(path.join(root, 'Dockerfile')) ? read('Dockerfile') : '';
  const instructions: Instruction[] = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
  const argDefaults = Object.fromEntries(
    instructions.filter((i) => i.op === 'ARG' && i.args.includes('=')).map((i) => i.args.split('=', 2) as [string, string]),
  );
  const all = (op: string) => instructions.filter((i) => i.op === op);
  const lastStage = instructions.slice(instructions.map((i) => i.op).lastIndexOf('FROM'));

  it('exists at the repository root', () => {
    expect(dockerfile).not.toBe('');
  });

  it('builds every stage on Node 24 LTS bookworm-slim, the Node that package.json engines supports', () => {
    const bases = all('FROM').map((i) => i.args.split(/\s+/)[0]!.replace(/\$\{?(\w+)\}?/g, (_m, v: string) => argDefaults[v] ?? ''));
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) expect(base).toMatch(/^node:24(\.\d+)*-bookworm-slim$/);
    const engines = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node as string;
    expect(engines).toMatch(/\^24\./);
  });

  it('installs only production dependencies from the lockfile', () => {
    expect(all('RUN').some((i) => /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(all('COPY').some((i) => i.args.includes('package-lock.json'))).toBe(true);
  });

  it('ships the dashboard prebuilt: a build stage runs src/web/build.ts, the runtime copies its output and points TIDINGS_WEB_DIR at it', () => {
    const build = all('RUN').find((i) => /src\/web\/build\.ts\s+(\S+)/.test(i.args));
    expect(build, 'a RUN of src/web/build.ts <dir>').toBeDefined();
    const out = /src\/web\/build\.ts\s+(\S+)/.exec(build!.args)![1]!;
    const copy = lastStage.find((i) => i.op === 'COPY' && i.args.startsWith('--from=') && i.args.includes(out));
    expect(copy, `the runtime stage copies ${out}`).toBeDefined();
    const target = copy!.args.split(/\s+/).at(-1)!;
    const env = lastStage.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(new RegExp(`TIDINGS_WEB_DIR=(/app/)?${target.replace(/^\.\//, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(configKeys).toContain('TIDINGS_WEB_DIR');
  });

  it('runs src/main.ts through tsx as a non-root user', () => {
    const start = [...lastStage.filter((i) => i.op === 'ENTRYPOINT'), ...lastStage.filter((i) => i.op === 'CMD')]
      .map((i) => i.args)
      .join(' ');
    expect(start).toContain('src/main.ts');
    expect(start).toContain('tsx');
    const user = lastStage.filter((i) => i.op === 'USER').pop()?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('sets the process environment defaults (src/process-env.ts) in the runtime image', () => {
    const env = lastStage.filter((i) => i.op === 'ENV').map((i) => i.args);
    for (const [key, value] of Object.entries(PROCESS_ENV_DEFAULTS)) expect(env, key).toContain(`${key}=${value}`);
  });

  it("checks the api's health on /healthz", () => {
    const check = lastStage.filter((i) => i.op === 'HEALTHCHECK').pop()?.args ?? '';
    expect(check).toContain('/healthz');
    expect(check).toContain('TIDINGS_ROLE');
  });

  it('copies every folder the app loads at run time, none of which .dockerignore excludes', () => {
    const copied = lastStage.filter((i) => i.op === 'COPY' && !i.args.includes('--from')).map((i) => i.args.split(/\s+/)[0]);
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const dir of ['src', 'workflows', 'activities', 'drizzle']) {
      expect(copied, dir).toContain(dir);
      expect(ignored, dir).not.toContain(dir);
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.data', '.env']));
  });
});

describe('npm start', () => {
  const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start ?? '';

  it('runs src/main.ts through tsx', () => {
    expect(start).toMatch(/\btsx src\/main\.ts$/);
  });

  // npm runs a script with sh: the script's prefix, run with the command swapped for one that prints.
  const envOf = (key: string, env: NodeJS.ProcessEnv) =>
    execFileSync('sh', ['-c', start.replace(/\btsx src\/main\.ts$/, `node -p "process.env.${key}"`)], { env, encoding: 'utf8' }).trim();

  it('sets the process environment defaults (src/process-env.ts), where the caller set none', () => {
    for (const [key, value] of Object.entries(PROCESS_ENV_DEFAULTS)) {
      const env = { ...process.env };
      delete env[key];
      expect(envOf(key, env), key).toBe(value);
      expect(envOf(key, { ...env, [key]: '7' }), `${key} of the caller`).toBe('7');
    }
  });
});
