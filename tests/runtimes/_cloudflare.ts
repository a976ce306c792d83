// The Cloudflare Workers server for tests: whether wrangler is installed (a
// missing one skips loudly, and fails under CI=true), and the launcher that
// runs the Worker locally with `wrangler dev` and prints the ready line.

const CI = Deno.env.get("CI") === "true";
const ROOT = new URL("../../", import.meta.url).pathname;

/** How long wrangler may take to build the Worker and start workerd. */
export const WRANGLER_READY_MS = 60_000;

/**
 * Whether the Cloudflare tests run: false (with a warning) when `wrangler`
 * is not on PATH, unless CI=true, where they then run and fail.
 */
export async function wranglerAvailable(file: string): Promise<boolean> {
  try {
    const output = await new Deno.Command("wrangler", {
      args: ["--version"],
      env: { WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    if (output.success) return true;
  } catch { /* not installed */ }
  console.warn(
    `${file}: SKIPPING the Cloudflare Workers tests: \`wrangler\` is not on PATH ` +
      `(npm install -g wrangler)` + (CI ? " (CI=true, so they fail instead)" : ""),
  );
  return CI;
}

/** The command, arguments and directory that start the Worker locally with `flags`. */
export function cloudflareCommand(
  flags: string[],
): { command: string; args: string[]; cwd: string } {
  return {
    command: Deno.execPath(),
    args: ["run", "-A", `${ROOT}runtimes/cloudflare/start.ts`, ...flags],
    cwd: ROOT,
  };
}

/** Flags for a server on a free loopback port (`--tcp-port` is accepted and ignored). */
export const LOOPBACK_FLAGS = ["--hostname", "127.0.0.1", "--port", "0", "--tcp-port", "0"];
