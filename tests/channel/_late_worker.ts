// A node in another isolate (a Worker) that starts late: it answers with the
// rulings it learned from the others while it started.

import { BroadcastChannelEngine } from "../../channel/mod.ts";
import { recordingHost } from "../_ruling_host.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<{ prefix: string }>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async (event) => {
  const engine = new BroadcastChannelEngine({
    prefix: event.data.prefix,
    heartbeatMs: 100,
    nodeTimeoutMs: 600,
    startWaitMs: 200,
    log: () => {},
  });
  await engine.start(recordingHost());
  const rulings = engine.rulings();
  await engine.close();
  scope.postMessage({ rulings });
};
