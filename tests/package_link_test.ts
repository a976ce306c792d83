// The README's way for a project outside this repository to use the package
// before it is on JSR: its deno.json names `jsr:@crosswire/relay` and `links`
// to a checkout. This test is that project, in a temporary folder.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

const PROJECT_CONFIG = {
  imports: { "@crosswire/relay": "jsr:@crosswire/relay@^0.1.0" },
  links: [ROOT],
};

const PROJECT_MAIN = `
import { startServer } from "@crosswire/relay";
import { connect } from "@crosswire/relay/client";
const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
const ann = await connect(\`ws://127.0.0.1:\${server.httpAddr.port}/ws\`, { name: "ann" });
const bob = await connect(\`tcp://127.0.0.1:\${server.tcpAddr!.port}\`, { name: "bob" });
const heard = new Promise<string>((resolve) => bob.on("message", (m) => resolve(m.text ?? "")));
ann.send("lobby", "hello from another project");
console.log(await heard);
await Promise.all([ann.close(), bob.close()]);
await server.shutdown();
`;

Deno.test("a project outside the repository imports @crosswire/relay and /client through links", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crosswire-user-project-" });
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(PROJECT_CONFIG, null, 2));
    await Deno.writeTextFile(`${dir}/main.ts`, PROJECT_MAIN);
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, `the project failed:\n${stderr}`);
    assert.equal(new TextDecoder().decode(run.stdout).trim(), "hello from another project");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
