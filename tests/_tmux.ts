// A program in a real terminal: a detached tmux pane on a private tmux server,
// driven with send-keys and read with capture-pane. For the terminal client's
// interactive mode, which only a TTY brings out.
//
// Without tmux the tests that use it are skipped with a warning; under CI=true
// that is a failure instead (see `requireTmux`).

/** How long a wait on the pane may take by default. */
export const PANE_WAIT_MS = 15_000;
/** How often the pane is read while waiting. */
const POLL_MS = 25;
/** What the pane shows once the command ended. */
const EXITED = /^\[exited with status (\d+)\]$/;

function tmuxInstalled(): boolean {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Whether tmux is missing (warned about once, loudly, when it is). */
export const tmuxMissing: boolean = !tmuxInstalled();
if (tmuxMissing && Deno.env.get("CI") !== "true") {
  console.warn(
    "\n⚠️  SKIPPING the terminal (TTY) client tests: tmux is missing (apt-get install tmux).\n",
  );
}

/** `ignore` for a tmux test: skipped without tmux, except under CI=true. */
export const ignoreTmux: boolean = tmuxMissing && Deno.env.get("CI") !== "true";

/** Throws under CI=true when tmux is missing: call first in every tmux test. */
export function requireTmux(): void {
  if (tmuxMissing) throw new Error("CI=true but tmux is missing: the TTY client tests cannot run");
}

/** Where the cursor is in the pane: column and row, from 0. */
export interface Cursor {
  x: number;
  y: number;
}

/** A command running in its own tmux server and pane; `await using` ends both. */
export class TmuxPane implements AsyncDisposable {
  readonly #dir: string;
  readonly #socket: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#socket = `${dir}/tmux.sock`;
  }

  /**
   * Starts `command` in a `width`×`height` pane. The pane stays after the
   * command ends, so its last screen and exit status can still be read.
   */
  static async start(
    command: string[],
    options: { cwd: string; env?: Record<string, string>; width?: number; height?: number },
  ): Promise<TmuxPane> {
    const pane = new TmuxPane(await Deno.makeTempDir({ prefix: "crosswire_tmux_" }));
    try {
      const env = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`);
      await pane.#tmux(
        "start-server",
        ";",
        "set-option",
        "-g",
        "remain-on-exit",
        "on",
        ";",
        "new-session",
        "-d",
        "-s",
        "test",
        "-x",
        String(options.width ?? 100),
        "-y",
        String(options.height ?? 30),
        "-c",
        options.cwd,
        // tmux does not always know a dead pane's status: the shell prints it. The line
        // before keeps the command off the top row, where tmux copies a screen that is
        // cleared into its history (scroll-on-clear), as no terminal does.
        "sh",
        "-c",
        `echo "[started]"; "$@"; echo "[exited with status $?]"`,
        "sh",
        "env",
        ...env,
        ...command,
      );
    } catch (error) {
      await pane[Symbol.asyncDispose]();
      throw error;
    }
    return pane;
  }

  /** Types `text` as it is (no key names). */
  async type(text: string): Promise<void> {
    await this.#tmux("send-keys", "-t", "test", "-l", text);
  }

  /** Presses keys by tmux name: `Enter`, `Up`, `Tab`, `C-c`. */
  async press(...keys: string[]): Promise<void> {
    await this.#tmux("send-keys", "-t", "test", ...keys);
  }

  /** The visible screen, wrapped lines joined, without trailing blanks. */
  async screen(): Promise<string[]> {
    return trimEnd((await this.#tmux("capture-pane", "-p", "-J", "-t", "test")).split("\n"));
  }

  /** Everything the pane showed, scrollback included, wrapped lines joined. */
  async history(): Promise<string[]> {
    return trimEnd(
      (await this.#tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "test")).split(
        "\n",
      ),
    );
  }

  /** The command's exit status once it has ended (tmux's, for a command the shell did not outlive), else undefined. */
  async paneStatus(): Promise<number | undefined> {
    const [dead, status] = (await this.#display("#{pane_dead} #{pane_dead_status}")).split(" ");
    return dead === "1" ? Number(status) : undefined;
  }

  /** The cursor's position on the visible screen. */
  async cursor(): Promise<Cursor> {
    const [x, y] = (await this.#display("#{cursor_x} #{cursor_y}")).split(" ").map(Number);
    return { x: x!, y: y! };
  }

  /** Waits until the visible screen passes `check`; fails with the screen after `ms`. */
  async waitFor(
    check: (screen: string[]) => boolean,
    what: string,
    ms = PANE_WAIT_MS,
  ): Promise<string[]> {
    const deadline = Date.now() + ms;
    while (true) {
      const screen = await this.screen();
      if (check(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${ms} ms waiting for ${what}; screen:\n${screen.join("\n")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Waits for the command to end; its exit status. */
  async exitStatus(ms = PANE_WAIT_MS): Promise<number> {
    const screen = await this.waitFor(
      (lines) => lines.some((line) => EXITED.test(line)),
      "the command to end",
      ms,
    );
    return Number(screen.map((line) => EXITED.exec(line)?.[1]).find((code) => code)!);
  }

  /** Ends the tmux server (and with it the command, if it still runs). */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.#tmux("kill-server");
    } catch { /* never started, or already gone */ }
    await Deno.remove(this.#dir, { recursive: true });
  }

  async #display(format: string): Promise<string> {
    return (await this.#tmux("display-message", "-p", "-t", "test", format)).trim();
  }

  async #tmux(...args: string[]): Promise<string> {
    const output = await new Deno.Command("tmux", {
      args: ["-S", this.#socket, "-f", "/dev/null", ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    if (!output.success) {
      throw new Error(`tmux ${args[0]} failed: ${decoder.decode(output.stderr).trim()}`);
    }
    return decoder.decode(output.stdout);
  }
}

// Trailing blanks go, from each line (-J keeps them) and from the screen.
function trimEnd(lines: string[]): string[] {
  const trimmed = lines.map((line) => line.trimEnd());
  let end = trimmed.length;
  while (end > 0 && trimmed[end - 1] === "") end--;
  return trimmed.slice(0, end);
}
