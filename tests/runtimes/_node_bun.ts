// The Node and Bun servers for tests: whether the runtime is installed (a
// missing one skips loudly, and fails under CI=true), and how to start each
// one's server, built first where it needs building.

import { buildNode } from "../../runtimes/node/build.ts";

const CI = Deno.env.get("CI") === "true";
const ROOT = new URL("../../", import.meta.url).pathname;

/** A runtime the relay runs on besides Deno. */
export type Runtime = "node" | "bun";

// What `--version` prints: Node's "v20.20.2", Bun's "1.4.5". Where Node is
// missing, Deno puts a `node` of its own on its children's PATH, which
// prints Deno's version: that is not Node.
const VERSION: Record<Runtime, RegExp> = { node: /^v(\d+)\.\d+\.\d+/, bun: /^(\d+)\.\d+\.\d+/ };
/** The oldest major version each runtime is supported on. */
const MIN_MAJOR: Record<Runtime, number> = { node: 20, bun: 1 };

/** The runtime's `--version`, or undefined when it is not installed (or too old). */
async function versionOf(runtime: Runtime): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(runtime, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const version = new TextDecoder().decode(output.stdout).trim();
    const major = Number(VERSION[runtime].exec(version)?.[1]);
    return output.success && major >= MIN_MAJOR[runtime] ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether tests on `runtime` run (a test's `ignore` is its negation): false,
 * with a warning, when it is not installed; under CI=true always true, and
 * the tests then fail in {@link serverCommand}.
 */
export async function runtimeAvailable(runtime: Runtime, file: string): Promise<boolean> {
  const version = await versionOf(runtime);
  if (version !== undefined) return true;
  console.warn(
    `${file}: SKIPPING the ${runtime} tests: \`${runtime}\` (${
      runtime === "node" ? "v20 or newer" : "1.x"
    }) is not on PATH` +
      (CI ? " (CI=true, so they fail instead)" : ""),
  );
  return CI;
}

let built: Promise<string> | undefined;
const checked = new Map<Runtime, Promise<string | undefined>>();

/**
 * The command and arguments that start `runtime`'s server with `flags`
 * (building the Node bundle first, once per test process), and its
 * directory. Throws when the runtime is not installed.
 */
export async function serverCommand(
  runtime: Runtime,
  flags: string[],
): Promise<{ command: string; args: string[]; cwd: string }> {
  if (!checked.has(runtime)) checked.set(runtime, versionOf(runtime));
  if (await checked.get(runtime) === undefined) {
    throw new Error(`\`${runtime}\` is not installed, and the tests need it (CI=true)`);
  }
  if (runtime === "node") {
    const bundle = await (built ??= buildNode());
    return { command: "node", args: [bundle, ...flags], cwd: ROOT };
  }
  return { command: "bun", args: [`${ROOT}runtimes/bun/main.ts`, ...flags], cwd: ROOT };
}

/** Flags for a server on free loopback ports. */
export const LOOPBACK_FLAGS = ["--hostname", "127.0.0.1", "--port", "0", "--tcp-port", "0"];
