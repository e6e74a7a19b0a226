import { InvalidArgumentError } from 'commander';

/** A failure the CLI reports as one line (no stack trace) before exiting non-zero. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Parses a positive integer argument such as `--site 3`; commander reports a bad one in one line. */
export function positiveInt(_name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError('must be a positive integer.');
    }
    return n;
  };
}
