// A newcomer's first `deno task start` fetches what the server needs, not the
// test tools (playwright-core, fast-check): a copy of the repository with an
// empty Deno cache and no node_modules, started as the README says. (Deno's
// task runner installs every npm package of deno.json and deno.lock first, so
// the test tools live in tests/deno.lock and are imported by full specifier.)

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SpawnedProcess } from "./_helpers.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The files a clone has (tracked, and new ones git does not ignore). */
async function repositoryFiles(): Promise<string[]> {
  const { stdout } = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(stdout).split("\0").filter(Boolean);
}

Deno.test("the first deno task start downloads only the server's npm packages", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crosswire-first-start-" });
  try {
    const copy = `${dir}/crosswire`;
    for (const file of await repositoryFiles()) {
      const target = `${copy}/${file}`;
      await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
      await Deno.copyFile(`${ROOT}${file}`, target).catch(() => {/* deleted in the work tree */});
    }
    {
      await using server = SpawnedProcess.deno(
        ["task", "start", "--host", "127.0.0.1", "--port", "0", "--tcp-port", "0"],
        { cwd: copy, env: { DENO_DIR: `${dir}/deno-dir` } },
      );
      await server.expect("/ws", 120_000);
      // deno task passes Ctrl-C on to the server (a plain kill would leave the server running).
      server.child.kill("SIGINT");
      assert.equal((await server.child.status).code, 0);
    }
    const installed = [...Deno.readDirSync(`${copy}/node_modules`)].map((entry) => entry.name);
    assert.ok(installed.includes("hono"), `hono is there: ${installed.join(", ")}`);
    for (const tool of ["playwright-core", "fast-check"]) {
      assert.ok(!installed.includes(tool), `${tool} was downloaded: ${installed.join(", ")}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
