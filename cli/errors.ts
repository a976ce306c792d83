// A bad command line or a failed start: one line on stderr, exit code 1.

/** A message for the user, shown as `crosswire: <message>`; the process then exits 1. */
export class CliError extends Error {
  override name = "CliError";
}

/** Stops the CLI with `message`. */
export function fail(message: string): never {
  throw new CliError(message);
}
