/**
 * The crosswire server: `deno task start [flags]` (`--help` lists them). The
 * CLI itself is shared with the Node and Bun entry points (cli/run.ts); this
 * gives it Deno's arguments, environment, files, signals and server.
 *
 * @module
 */
import { runCli } from "./cli/run.ts";
import { startServer } from "./server/mod.ts";

if (import.meta.main) {
  await runCli({
    command: "deno task start",
    args: Deno.args,
    env: (name) => Deno.env.get(name),
    readTextFile: (path) => Deno.readTextFileSync(path),
    startServer,
    onSignal: (signal, handler) => Deno.addSignalListener(signal, handler),
    exit: (code) => Deno.exit(code),
    fdLimitHint: "it is read with --allow-ffi",
  });
}
