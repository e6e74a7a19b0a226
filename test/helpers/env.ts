/** A variable a child process of a test (a worker entry point) cannot run without, from its environment. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}
