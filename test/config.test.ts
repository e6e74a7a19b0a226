import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const SECRET = 'a'.repeat(40);

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration in production', () => {
  it('refuses to start without PUBLIC_URL, in one line saying what to set, so no email carries localhost links', () => {
    const problems = problemsOf({ NODE_ENV: 'production', TIDINGS_SECRET: SECRET });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PUBLIC_URL: required in production .*unsubscribe and tracking links/);
    expect(problems[0]).not.toContain('\n');
    // An empty value (a blank line in .env or compose) counts as unset.
    expect(problemsOf({ NODE_ENV: 'production', TIDINGS_SECRET: SECRET, PUBLIC_URL: '' })).toEqual(problems);
  });

  it('lists a missing PUBLIC_URL and a missing TIDINGS_SECRET together', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['TIDINGS_SECRET', 'PUBLIC_URL']);
  });

  it('starts with both set', () => {
    const config = loadConfig({ NODE_ENV: 'production', TIDINGS_SECRET: SECRET, PUBLIC_URL: 'https://mail.example.com' });
    expect(config.PUBLIC_URL).toBe('https://mail.example.com');
  });

  it('leaves PUBLIC_URL optional outside production (npm start then uses http://localhost:PORT)', () => {
    expect(loadConfig({}).PUBLIC_URL).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'development' }).PUBLIC_URL).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'test' }).PUBLIC_URL).toBeUndefined();
  });
});
