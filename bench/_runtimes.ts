// The relay on the other runtimes, for `--runtime node,bun`: the same CLI and
// scenarios, each runtime's relay started by its own command (see
// runtimes/*/README.md), so a run's table compares them side by side.

/** A runtime besides Deno that the bench can run the relay on. */
export type RuntimeName = "node" | "bun";

/** Every runtime the bench knows; Deno is always run. */
export const RUNTIMES: readonly RuntimeName[] = ["node", "bun"];

/** The relay targets measured again on another runtime: `relay-ws@node`, say. */
export type RuntimeTarget = `${"relay-ws" | "relay-tcp"}@${RuntimeName}`;

/** The runtime part of a target's name, or undefined for Deno's. */
export function runtimeOf(target: string): RuntimeName | undefined {
  const at = target.indexOf("@");
  return at < 0 ? undefined : target.slice(at + 1) as RuntimeName;
}

/** A target without its runtime: `relay-tcp@bun` is measured as `relay-tcp`. */
export function withoutRuntime<T extends string>(target: T): T {
  const at = target.indexOf("@");
  return (at < 0 ? target : target.slice(0, at)) as T;
}

/** The command line (before the CLI's flags) that starts the relay on `runtime`. */
export function relayCommand(runtime: RuntimeName): string[] {
  return runtime === "node" ? ["node", "dist/node/main.mjs"] : ["bun", "runtimes/bun/main.ts"];
}

/** Parses `--runtime deno,node,bun` into the runtimes besides Deno; throws on an unknown one. */
export function parseRuntimes(text: string | undefined): RuntimeName[] {
  const names = (text ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((name) =>
    name !== "deno" && !RUNTIMES.includes(name as RuntimeName)
  );
  if (unknown.length > 0) {
    throw new Error(
      `unknown runtime ${unknown.join(", ")}; choose from deno, ${RUNTIMES.join(", ")}`,
    );
  }
  return RUNTIMES.filter((name) => names.includes(name));
}

/** Makes `runtime` ready to start the relay: builds Node's bundle, checks Bun is there. */
export async function prepareRuntime(
  runtime: RuntimeName,
  root: URL,
): Promise<void> {
  const [command, args] = runtime === "node"
    ? [Deno.execPath(), ["task", "build:node"]]
    : ["bun", ["--version"]];
  const result = await new Deno.Command(command, {
    args,
    cwd: root,
    stdout: "null",
    stderr: "piped",
  })
    .output().catch((error: Error) => ({
      success: false,
      stderr: new TextEncoder().encode(error.message),
    }));
  if (!result.success) {
    throw new Error(
      `cannot run the relay on ${runtime}: ${new TextDecoder().decode(result.stderr).trim()}`,
    );
  }
}
