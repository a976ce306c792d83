/**
 * token-flood and token-flood-rs256, run: hostile tokens over every way in at
 * once (WebSocket `login`, `/ws?token=`, text-mode `/auth`, IRC `PASS`) from
 * several source addresses, while the server's CPU time and output are
 * watched; then a few one-off checks with tokens the backend really signed.
 *
 * @module
 */
import { type AttackContext, cpuMeter, mib } from "./_attack.ts";
import { leakSummary, LeakWatch } from "./_leaks.ts";
import { delay, LineConn, RawWs } from "./_net.ts";
import { nodeStats } from "./history_common.ts";
import {
  claims,
  refusedFamilies,
  signHs256,
  signRs256,
  soon,
  type TokenFamily,
  type TokenKeys,
} from "./_tokens.ts";
import {
  ircPassTokens,
  telnetAuthTokens,
  Tries,
  type TryOptions,
  wsLoginTokens,
  wsUrlTokens,
} from "./_token_tries.ts";

/** The four ways in, with their connection counts. */
interface Plan {
  /** Seconds the flood lasts. */
  seconds: number;
  /** Families for the WebSocket and text-mode floods (IRC gets short ones only). */
  families: TokenFamily[];
  /** Families for text mode (a line holds at most 8 KiB with `/auth `). */
  textFamilies: TokenFamily[];
  /** Families for IRC (a line holds 512 bytes). */
  ircFamilies: TokenFamily[];
  /** Families whose every try costs the server a full signature check. */
  costly: ReadonlySet<string>;
}

const IDLE_SAMPLE_MS = 3000;

/** Runs the flood, then the one-off checks. */
export async function tokenFlood(
  context: AttackContext,
  keys: TokenKeys,
  plan: { seconds: number; costlyOnly?: boolean },
): Promise<void> {
  const { server, signal } = context;
  const costly = new Set(
    keys.rsaKey
      ? ["rs256-bad-signature", "expired", "exp-1e999", "exp-string"]
      : ["expired", "exp-1e999", "exp-string", "b64-payload-near-limit"],
  );
  const pick = (families: TokenFamily[]) =>
    plan.costlyOnly ? families.filter((f) => costly.has(f.name)) : families;
  const full: Plan = {
    seconds: plan.seconds,
    families: pick(refusedFamilies(keys)),
    textFamilies: pick(refusedFamilies({ ...keys, maxLength: 8000 })),
    ircFamilies: pick(refusedFamilies({ ...keys, maxLength: 400 })),
    costly,
  };

  // What the canary alone costs, to subtract.
  const idle = cpuMeter(server);
  const idleStart = server.cpuSeconds() ?? 0;
  await delay(IDLE_SAMPLE_MS, signal);
  const idlePerSecond = ((server.cpuSeconds() ?? idleStart) - idleStart) / (IDLE_SAMPLE_MS / 1000);
  context.note("server CPU with the canary alone", idle());

  const leaks = new LeakWatch(server, [keys.secret ?? "", keys.publicPem ?? ""]);
  const ways = {
    "ws login": new Tries(),
    "ws ?token=": new Tries(),
    "text /auth": new Tries(),
    "irc PASS": new Tries(),
  };
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal.addEventListener("abort", stop, { once: true });
  const timer = setTimeout(stop, full.seconds * 1000);
  const base = (tries: Tries, families: TokenFamily[]) => ({
    tries,
    leaks,
    signal: controller.signal,
    families,
  });
  const options: [string, (o: TryOptions) => Promise<void>, TryOptions][] = [
    ["ws login", wsLoginTokens, {
      port: server.httpPort,
      block: 80,
      addresses: 8,
      connections: 96,
      ...base(ways["ws login"], full.families),
    }],
    ["ws ?token=", wsUrlTokens, {
      port: server.httpPort,
      block: 82,
      addresses: 8,
      connections: 24,
      ...base(ways["ws ?token="], full.families),
    }],
    ["text /auth", telnetAuthTokens, {
      port: server.tcpPort,
      block: 81,
      addresses: 8,
      connections: 96,
      ...base(ways["text /auth"], full.textFamilies),
    }],
  ];
  // IRC's PASS only where the families fit a line; few connections, each a registration.
  if (full.ircFamilies.length > 0) {
    options.push(["irc PASS", ircPassTokens, {
      port: server.tcpPort,
      block: 83,
      addresses: 4,
      connections: 4,
      spacingMs: 100,
      ...base(ways["irc PASS"], full.ircFamilies),
    }]);
  }
  context.log(`flooding for ${full.seconds} s: ${options.map(([name]) => name).join(", ")}`);
  const cpuStart = server.cpuSeconds() ?? 0;
  const started = performance.now();
  const meter = cpuMeter(server);
  await Promise.all(options.map(([, run, o]) => run(o)));
  clearTimeout(timer);
  signal.removeEventListener("abort", stop);
  const wall = (performance.now() - started) / 1000;
  const cpu = (server.cpuSeconds() ?? cpuStart) - cpuStart;
  context.note("server CPU during the flood", meter());
  const after = await nodeStats(server.httpPort);
  context.note(
    "right after the flood",
    `RSS ${mib(server.memory().rssKiB)} MiB; sessions ${after?.sessions ?? "?"}, users ${
      after?.users ?? "?"
    }; /healthz answered in ${after?.ms ?? "?"} ms`,
  );

  let refused = 0;
  let costlyTries = 0;
  for (const [name, tries] of Object.entries(ways)) {
    if (tries.total === 0) continue;
    refused += tries.count("auth_failed");
    for (const [family, counts] of tries.outcomes) {
      if (full.costly.has(family)) costlyTries += counts.get("auth_failed") ?? 0;
    }
    const closes = [...tries.closes].map(([code, n]) => `${code}×${n}`).join(", ") || "none";
    context.note(
      name,
      `${tries.total} tries (${Math.round(tries.total / wall)}/s) on ${tries.connections} ` +
        `connections: auth_failed ${tries.count("auth_failed")}, other ${tries.others()}; ` +
        `closed by server: ${closes}`,
    );
    const admitted = tries.admitted();
    if (admitted.length > 0) context.note(`${name}: LET IN`, admitted.join(", "));
  }
  const net = Math.max(0, cpu - idlePerSecond * wall);
  context.note("refused tokens", `${refused} (${Math.round(refused / wall)}/s)`);
  context.note(
    "server CPU per refused token",
    refused === 0 ? "n/a" : `${Math.round((net / refused) * 1e6)} µs (canary's share taken off)`,
  );
  if (keys.rsaKey) {
    context.note(
      "RS256 verifications (bad signature, or good and then refused)",
      `${costlyTries} (${Math.round(costlyTries / wall)}/s)`,
    );
  }
  const messages = ways["ws login"].messages;
  context.note(
    "what the server said, by family",
    [...messages].map(([family, message]) => `${family}: ${message}`).join(" / "),
  );
  await oneOffs(context, keys, leaks);
  context.note("tokens or secrets in the server's output", leakSummary(leaks.stop()));
}

// Tokens the backend really signed, with odd claims; and a valid token given as IRC's PASS.
async function oneOffs(context: AttackContext, keys: TokenKeys, leaks: LeakWatch): Promise<void> {
  const { server } = context;
  const header = keys.rsaKey ? '{"alg":"RS256","typ":"JWT"}' : '{"alg":"HS256","typ":"JWT"}';
  const sign = (payload: string) =>
    keys.rsaKey
      ? signRs256(header, payload, keys.rsaKey)
      : signHs256(header, payload, keys.secret!);
  // exp far beyond what a Date holds: it logs in; does `refresh` cope?
  for (const exp of ["1e308", "9000000000000"]) {
    const token = await sign(`{"sub":"bigexp${exp.length}","exp":${exp}}`);
    leaks.sent(token);
    const ws = await RawWs.open({ port: server.httpPort, localAddress: "127.84.9.1" });
    const login = await ws.request({ type: "login", token }, ["welcome", "error"]);
    const refresh = login?.includes('"welcome"')
      ? await ws.request({ type: "refresh", token }, ["notice", "error"])
      : undefined;
    const code = (text: string | undefined) =>
      text === undefined
        ? "no reply"
        : text.includes('"welcome"')
        ? "welcome"
        : /"code":"([a-z_]+)"/.exec(text)?.[1] ?? /"type":"([a-z]+)"/.exec(text)?.[1] ?? "?";
    context.note(
      `signed token with exp ${exp}`,
      `login: ${code(login)}; refresh: ${code(refresh)}`,
    );
    ws.destroy();
  }
  // A valid token as IRC's PASS: is the user its subject, or the NICK?
  const valid = await sign(claims(soon(), ',"name":"passuser"'));
  leaks.sent(valid);
  const irc = await LineConn.open({ port: server.tcpPort, localAddress: "127.84.9.2" });
  irc.send(`PASS ${valid}\r\nNICK nickchosen\r\nUSER nickchosen 0 * :x`);
  const line = await irc.waitFor((l) => / (001|4\d\d) /.test(l) || l.startsWith("ERROR"), 5000);
  context.note(
    "valid token as IRC PASS",
    line === undefined
      ? "no reply"
      : / 001 passuser /.test(line)
      ? "logged in as the token's name"
      : / 001 nickchosen /.test(line)
      ? "token ignored: logged in as the NICK, anonymously"
      : line.replace(/^:\S+ /, "").slice(0, 100),
  );
  irc.send("QUIT");
  irc.destroy();
  await delay(300);
}
