// The crosswire server on Node: `deno task build:node`, then
// `node dist/node/main.mjs [flags]` (the same flags as `deno task start`).
// See runtimes/node/README.md.

import "./_polyfills.ts";
import { readFileSync } from "node:fs";
import process from "node:process";
import { runCli } from "../../cli/run.ts";
import { startServer } from "./serve.ts";

await runCli({
  command: "node dist/node/main.mjs",
  args: process.argv.slice(2),
  env: (name) => process.env[name],
  readTextFile: (path) => readFileSync(path, "utf8"),
  startServer,
  onSignal: (signal, handler) => void process.on(signal, handler),
  exit: (code) => process.exit(code),
  fdLimitHint: "it is read from /proc, on Linux",
});
