/** An error the CLI reports as one line on stderr (`herald: <message>`) and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Exit codes: 0 done, 1 failed (server error, unreachable), 2 bad usage or config. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** A second SIGINT/SIGTERM during shutdown: exit at once. */
export const EXIT_INTERRUPTED = 130;
