/**
 * A victim in its own process, so it reads as fast as a real client would
 * while the harness floods: `deno run -A _victim.ts --port P --name victim`.
 * It logs in over WebSocket, then counts what arrives. It prints JSON lines:
 * `ready`, `closed` (code, reason, when) if the server drops it, and `report`
 * when told "report" on stdin (then it exits).
 *
 * {@link TCP_VICTIM_PY} is the same victim over telnet-style TCP, in Python so
 * its socket receive buffer can be made small (SO_RCVBUF) before connecting.
 *
 * @module
 */
import { parseArgs } from "node:util";

/**
 * The TCP victim: `python3 -c TCP_VICTIM_PY PORT NAME RCVBUF`. It answers the
 * name prompt, reads continuously, and prints the same JSON events.
 */
export const TCP_VICTIM_PY = `
import json, os, select, socket, sys, time
port, name, rcvbuf = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
s.connect(("127.0.0.1", port))
def out(event):
    sys.stdout.write(json.dumps(event) + "\\n")
    sys.stdout.flush()
buf, total, lines, directs, last, state, closed_at = b"", 0, 0, 0, [], "greeting", None
while True:
    ready, _, _ = select.select(([s] if closed_at is None else []) + [0], [], [], 1.0)
    if s in ready:
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            closed_at = time.time() * 1000
            out({"event": "closed", "at": closed_at, "bytes": total, "directs": directs, "last": last})
            continue
        total += len(data)
        parts = (buf + data).split(b"\\n")
        buf = parts.pop()
        for raw in parts:
            line = raw.rstrip(b"\\r").decode("utf-8", "replace")
            lines += 1
            if "dmflood-" in line:
                directs += 1
            elif "canary-" not in line:
                last = (last + [line[:200]])[-5:]
            if state == "greeting" and "What's your name?" in line:
                s.sendall((name + "\\r\\n").encode())
                state = "login"
            elif state == "login" and "What's your name?" in line:
                out({"event": "refused", "last": last})
                state = "refused"
            elif state == "login" and "Welcome" in line:
                state = "ready"
                out({"event": "ready", "rcvbuf": s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)})
    if 0 in ready:
        command = os.read(0, 4096)
        if not command or b"report" in command:
            out({"event": "report", "bytes": total, "directs": directs, "closedAt": closed_at, "last": last})
            break
`;

async function runVictim(port: number, name: string): Promise<void> {
  const print = (event: unknown) => console.log(JSON.stringify(event));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.binaryType = "arraybuffer";
  let bytes = 0;
  let directs = 0;
  let closedAt: number | undefined;
  const last: string[] = [];
  ws.onopen = () => ws.send(JSON.stringify({ type: "login", name }));
  ws.onmessage = (event) => {
    const text = typeof event.data === "string" ? event.data : "";
    bytes += typeof event.data === "string" ? text.length : (event.data as ArrayBuffer).byteLength;
    if (text.startsWith('{"type":"direct"')) {
      directs++;
      return;
    }
    if (text.startsWith('{"type":"welcome"')) print({ event: "ready" });
    // Keep what explains a drop, not the lobby chatter.
    if (!text.startsWith('{"type":"error"') && !text.startsWith('{"type":"notice"')) return;
    last.push(text.slice(0, 200));
    if (last.length > 5) last.shift();
    if (text.startsWith('{"type":"error"') && text.includes("name_")) {
      print({ event: "refused", last });
    }
  };
  ws.onclose = (event) => {
    closedAt = Date.now();
    print({ event: "closed", at: closedAt, code: event.code, reason: event.reason, directs, last });
  };
  const decoder = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) {
    if (decoder.decode(chunk).includes("report")) break;
  }
  print({ event: "report", bytes, directs, closedAt, last });
  ws.close();
}

if (import.meta.main) {
  const flags = parseArgs({
    args: Deno.args,
    options: { port: { type: "string" }, name: { type: "string", default: "victim" } },
  }).values;
  await runVictim(Number(flags.port), flags.name);
  Deno.exit(0);
}
