import type { ZodError } from 'zod';

/** One problem with one input field: `{path: "contacts.3.email", message}`. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * The kind of an expected failure, which each edge translates into its own protocol (the API into an
 * HTTP status, see src/api/errors.ts). Kept apart from the code so repositories, services and
 * activities can say what went wrong without knowing they sit behind HTTP.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'rate_limited'
  /** The server is set up wrong (e.g. no secret to encrypt with): not the client's fault. */
  | 'misconfigured'
  /** Not ready yet or not served here (e.g. the dashboard still building): try again later. */
  | 'unavailable';

/**
 * An expected failure with a stable machine-readable `code` (clients branch on it) and its kind.
 * Free of any framework on purpose: repositories, services and activities throw it; the API's error
 * middleware renders it.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(what: string, id?: number | string): AppError {
    return new AppError('not_found', 'not_found', id === undefined ? `${what} not found` : `${what} ${id} not found`);
  }

  static validation(message: string, details: ErrorDetail[]): AppError {
    return new AppError('validation_failed', 'invalid', message, details);
  }
}

/** Flattens zod issues into `[{path: "contacts.3.email", message}]`. */
export function zodDetails(error: ZodError, prefix?: string): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}
