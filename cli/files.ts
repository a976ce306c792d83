// Files named by flags (--config, --cert, --jwks...), read with the runtime's
// own reader; a failure is one line that names the flag, the file and why.

import { fail } from "./errors.ts";

/** The text of `path`, given as `--<flag>`; a CliError when it cannot be read. */
export function readFlagFile(
  flag: string,
  path: string,
  readTextFile: (path: string) => string,
): string {
  try {
    return readTextFile(path);
  } catch (error) {
    fail(`cannot read --${flag} ${path}: ${whyUnreadable(error)}`);
  }
}

/**
 * Why a read failed, without the runtime's decorations: Deno says
 * "No such file or directory (os error 2): readfile 'x'", Node
 * "ENOENT: no such file or directory, open 'x'"; both become
 * "No such file or directory".
 */
function whyUnreadable(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const deno = /^(.*?) \(os error \d+\)/.exec(message);
  if (deno) return deno[1]!;
  const node = /^E[A-Z]+: (.*?), \w+ '.*'$/.exec(message);
  if (node) return node[1]!.charAt(0).toUpperCase() + node[1]!.slice(1);
  return message;
}
