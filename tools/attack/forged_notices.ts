/**
 * forged-notices: can a user make telnet users see what looks like the
 * server's voice? `bob` sends `/me left`, `/me disconnected`,
 * `/me is now admin`, and two imitations of a file share notice. Then the
 * real events happen: `carl` leaves, `dave` disconnects, bob leaves and
 * rejoins, is renamed to admin and back, quits, and a WebSocket `bob` really
 * shares cat.png. Recorded: the exact lines the telnet canary saw in each
 * phase, and every forged line byte-identical to a real notice line.
 *
 * @module
 */
import type { Attack } from "./_attack.ts";
import { delay, LineConn, Op, RawWs } from "./_net.ts";

const FILE_NOTICE = "shared cat.png (12.3 KiB, image/png); a WebSocket client can receive it";
const FORGERIES = [
  "/me left",
  "/me disconnected",
  "/me is now admin",
  `/me ${FILE_NOTICE}`,
  `* bob ${FILE_NOTICE}`,
];
const STEP_MS = 300;

/** Shows a line with anything unusual escaped, so the report is exact. */
export function exact(line: string): string {
  return JSON.stringify(line);
}

/** `bob` imitates server notices; compared with real ones. */
export const forgedNotices: Attack = {
  name: "forged-notices",
  summary: "bob forges leave/disconnect/rename/file notices with /me; compare with real ones",
  async run(context) {
    const { server, canary, signal } = context;
    const login = async (name: string, address: string) => {
      const conn = await LineConn.open({ port: server.tcpPort, localAddress: address });
      const result = await conn.login(name);
      if (!result.ok) throw new Error(`${name}: ${result.line}`);
      return conn;
    };
    const bob = await login("bob", "127.23.0.1");
    const carl = await login("carl", "127.23.0.2");
    const dave = await login("dave", "127.23.0.3");
    await delay(500, signal);

    const forgedFrom = Date.now();
    for (const line of FORGERIES) {
      bob.send(line);
      await delay(STEP_MS, signal);
    }
    await delay(700, signal);

    const realFrom = Date.now();
    carl.send("/leave");
    await delay(STEP_MS, signal);
    dave.destroy();
    await delay(STEP_MS, signal);
    bob.send("/leave");
    await delay(STEP_MS, signal);
    bob.send("/join lobby");
    await delay(STEP_MS, signal);
    bob.send("/nick admin");
    await delay(STEP_MS, signal);
    bob.send("/nick bob");
    await delay(STEP_MS, signal);
    bob.send("/quit");
    await delay(STEP_MS * 2, signal);
    // A real file share by a (WebSocket) bob: 12,595 bytes shows as 12.3 KiB.
    const wsBob = await RawWs.open({ port: server.httpPort, localAddress: "127.23.0.4" });
    const wsLogin = await wsBob.login("bob");
    if (wsLogin.ok) {
      const header = new TextEncoder().encode(
        JSON.stringify({ room: "lobby", file: { name: "cat.png", type: "image/png" } }),
      );
      const frame = new Uint8Array(3 + header.length + 12_595);
      frame[0] = 1;
      new DataView(frame.buffer).setUint16(1, header.length);
      frame.set(header, 3);
      wsBob.sendFrame(Op.binary, frame);
    } else {
      context.note("real file share", `not possible: ${wsLogin.code}`);
    }
    await delay(1500, signal);
    const realUntil = Date.now();

    const seen = (await canary.lines()).filter((line) => line.user === "t1");
    const forged = seen.filter((l) => l.at >= forgedFrom && l.at < realFrom).map((l) => l.text);
    const real = seen.filter((l) => l.at >= realFrom && l.at <= realUntil).map((l) => l.text);
    context.note("forged lines seen", forged.map(exact).join(" ⏎ ") || "none");
    context.note("real notice lines seen", real.map(exact).join(" ⏎ ") || "none");
    const identical = forged.filter((line) => real.includes(line));
    context.note(
      "forged line identical to a real notice",
      identical.length === 0 ? "no" : `yes: ${identical.map(exact).join(", ")}`,
    );
    for (const conn of [bob, carl, dave]) conn.destroy();
    wsBob.destroy();
  },
};
