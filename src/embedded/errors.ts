/**
 * A startup problem the user can fix (port taken, binary missing). Its message is one actionable line;
 * `npm start` prints it without a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.replace(/\s*\n\s*/g, ' ').trim(), options);
    this.name = 'StartupError';
  }
}
