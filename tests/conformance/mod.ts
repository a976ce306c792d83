/**
 * A black-box conformance suite for crosswire servers: it connects to a
 * running server's URLs as clients do (the standard `WebSocket` global, and
 * `Deno.connect` for the TCP text mode) and checks the protocol of
 * `docs/PROTOCOL.md` as a client sees it: hello and login, names, rooms,
 * presence, room and private messages, files in binary frames, error codes,
 * the limits the server announces, batching, close codes, history and resume,
 * and, where the server has a TCP port, a telnet user chatting with a
 * WebSocket user.
 *
 * Every runtime crosswire runs on (Deno, Deno Deploy, Node, Bun, Cloudflare
 * Workers) runs the same suite against its own server: {@link launch} starts
 * the server's process and {@link runConformance} runs every case as a step
 * of one `Deno.test`. Cases make their own names and rooms, so they share one
 * server; sizes come from the limits the server announces in `hello`.
 *
 * @example A runtime's conformance test (here, the Node build)
 * ```ts ignore
 * import { launch, runConformance } from "@crosswire/relay/conformance";
 *
 * Deno.test("conformance: node", async (t) => {
 *   const server = await launch(
 *     "node",
 *     ["dist/node/main.mjs", "--hostname", "127.0.0.1", "--port", "0", "--tcp-port", "0"],
 *     { tcp: true },
 *   );
 *   try {
 *     await runConformance(t, { name: "node", ws: server.ws, tcp: server.tcp });
 *   } finally {
 *     await server.stop();
 *   }
 * });
 * ```
 *
 * @module
 */

import { randomSuffix } from "./_case.ts";
import type { Case, Context, Limits } from "./_case.ts";
import { batchingCases } from "./_batching.ts";
import { chatCases } from "./_chat.ts";
import { closingCases } from "./_closing.ts";
import { errorCases } from "./_errors.ts";
import { fileCases } from "./_files.ts";
import { limitCases } from "./_limits.ts";
import { loginCases } from "./_login.ts";
import { resumeCases } from "./_resume.ts";
import { roomCases } from "./_rooms.ts";
import { tcpCases } from "./_tcp.ts";
import { beginCase, journal } from "./_journal.ts";
import { WsClient } from "./_ws_client.ts";

export { launch } from "./launch.ts";
export type { Launched, LaunchOptions } from "./launch.ts";

/**
 * A running server to check: where its clients connect.
 *
 * @example A server on this machine with a TCP port
 * ```ts
 * import type { ConformanceTarget } from "@crosswire/relay/conformance";
 * const target: ConformanceTarget = {
 *   name: "deno",
 *   ws: "ws://127.0.0.1:8080/ws",
 *   tcp: { hostname: "127.0.0.1", port: 4040 },
 * };
 * if (new URL(target.ws).pathname !== "/ws") throw new Error("not a /ws endpoint");
 * ```
 */
export interface ConformanceTarget {
  /** A name for reports, e.g. `"node"`. */
  name: string;
  /** The WebSocket endpoint, e.g. `"ws://127.0.0.1:8080/ws"`. */
  ws: string;
  /** The TCP text-mode endpoint (telnet), where the runtime has one; cases that need it are skipped without it. */
  tcp?: { hostname: string; port: number } | undefined;
  /**
   * Cases this runtime cannot pass, by exact name, each with the reason: they
   * are skipped with a warning that gives it. A name that is no case is an
   * error, so a renamed case cannot hide a deviation.
   */
  deviations?: Readonly<Record<string, string>> | undefined;
}

/** Every case, in the order they run. */
const CASES: readonly Case[] = [
  ...loginCases,
  ...roomCases,
  ...chatCases,
  ...fileCases,
  ...errorCases,
  ...limitCases,
  ...batchingCases,
  ...closingCases,
  ...resumeCases,
  ...tcpCases,
];

const LIMIT_KEYS = ["maxLineBytes", "maxFrameBytes", "maxTextBytes", "maxFileBytes"] as const;

/** Reads the limits a server announces in the `hello` it greets a WebSocket client with. */
async function announcedLimits(ws: string): Promise<Limits> {
  await using client = await WsClient.connect(ws);
  const announced = client.hello.limits ?? {};
  const limits = {} as Limits;
  for (const key of LIMIT_KEYS) {
    const value = announced[key];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(
        `hello.limits.${key} must be a positive integer, got ${JSON.stringify(value)}`,
      );
    }
    limits[key] = value;
  }
  return limits;
}

/**
 * Runs every conformance case as a step of `t` against a running server
 * with default options. Cases that need a TCP endpoint are ignored when
 * `target.tcp` is absent, and the one that writes raw WebSocket frames when
 * `target.ws` is not a `ws://` URL. A failed case fails its step with what
 * was expected and what arrived; then this function rejects, naming every
 * failed case.
 *
 * @param t The test context whose steps the cases become.
 * @param target Where the server's clients connect.
 * @returns Resolves when every case has passed.
 * @throws {TypeError} When `target.ws` is not a `ws://` or `wss://` URL.
 * @throws {Error} When a case failed (each failure is reported by its step).
 *
 * @example The suite against a server in this process
 * ```ts
 * import { startServer } from "@crosswire/relay";
 * import { runConformance } from "@crosswire/relay/conformance";
 *
 * Deno.test("conformance: in process", async (t) => {
 *   const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
 *   try {
 *     await runConformance(t, {
 *       name: "in process",
 *       ws: `ws://127.0.0.1:${server.httpAddr.port}/ws`,
 *       tcp: { hostname: "127.0.0.1", port: server.tcpAddr!.port },
 *     });
 *   } finally {
 *     await server.shutdown(2000);
 *   }
 * });
 * ```
 */
export async function runConformance(
  t: Deno.TestContext,
  target: ConformanceTarget,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(target.ws);
  } catch {
    throw new TypeError(`target.ws must be a ws:// or wss:// URL, not ${target.ws}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new TypeError(`target.ws must be a ws:// or wss:// URL, not ${target.ws}`);
  }
  let limits: Limits | undefined;
  const ready = await t.step("setup: hello announces the limits the cases use", async () => {
    limits = await announcedLimits(target.ws);
  });
  const context: Context = {
    ws: target.ws,
    tcp: target.tcp,
    limits: limits ?? { maxLineBytes: 0, maxFrameBytes: 0, maxTextBytes: 0, maxFileBytes: 0 },
    unique: (base) => `${base}-${randomSuffix()}`,
  };
  const deviations = target.deviations ?? {};
  const unknown = Object.keys(deviations).filter((name) => !CASES.some((c) => c.name === name));
  if (unknown.length > 0) {
    throw new TypeError(`target.deviations names no case: ${unknown.join("; ")}`);
  }
  const failed: string[] = ready ? [] : ["setup"];
  for (const testCase of CASES) {
    const missing = (testCase.needs === "tcp" && target.tcp === undefined) ||
      (testCase.needs === "raw" && url.protocol !== "ws:");
    const deviation = deviations[testCase.name];
    if (deviation !== undefined) {
      console.warn(`conformance: ${target.name} skips "${testCase.name}": ${deviation}`);
    }
    const ignore = missing || !ready || deviation !== undefined;
    const passed = await t.step({
      name: testCase.name,
      ignore,
      fn: async () => {
        beginCase();
        try {
          await testCase.run(context);
        } catch (error) {
          if (error instanceof Error) error.message += journal();
          throw error;
        }
      },
    });
    if (!passed && !ignore) failed.push(testCase.name);
  }
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} conformance case(s) failed against ${target.name} (${target.ws}):\n` +
        failed.map((name) => `  - ${name}`).join("\n"),
    );
  }
}
