// The crosswire server on Bun: `bun runtimes/bun/main.ts [flags]` (the same
// flags as `deno task start`), after `deno install` has filled node_modules.
// See runtimes/bun/README.md.

import { readFileSync } from "node:fs";
import process from "node:process";
import { runCli } from "../../cli/run.ts";
import { startServer } from "./serve.ts";

await runCli({
  command: "bun runtimes/bun/main.ts",
  args: process.argv.slice(2),
  env: (name) => process.env[name],
  readTextFile: (path) => readFileSync(path, "utf8"),
  startServer,
  onSignal: (signal, handler) => void process.on(signal, handler),
  exit: (code) => process.exit(code),
  fdLimitHint: "it is read from /proc, on Linux",
});
