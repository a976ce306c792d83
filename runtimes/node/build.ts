// Builds the Node server into one JavaScript file, dist/node/main.mjs, with
// `deno bundle`: Node 20 cannot run TypeScript, and the bundle carries hono,
// @hono/node-server and ws with it, so `node dist/node/main.mjs` needs
// nothing else (ioredis too, loaded only with --redis).
//
//   deno run --allow-read --allow-write=dist --allow-run runtimes/node/build.ts

/** Where the bundle goes, relative to the repository. */
export const NODE_BUNDLE = "dist/node/main.mjs";

const ROOT = new URL("../../", import.meta.url);

/**
 * Bundles runtimes/node/main.ts into {@link NODE_BUNDLE}; returns its absolute
 * path. The bundle is written beside it and renamed into place, so a server
 * starting meanwhile (tests build in parallel) never reads half a file.
 */
export async function buildNode(): Promise<string> {
  const bundle = new URL(NODE_BUNDLE, ROOT).pathname;
  // Still a .mjs: deno bundle adds the shim that lets ESM require node modules only to a
  // JavaScript file name.
  const partial = bundle.replace(/\.mjs$/, `.${crypto.randomUUID()}.tmp.mjs`);
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      // Builtins stay `node:` imports; npm packages go into the bundle.
      "--platform",
      "deno",
      "--output",
      partial,
      "runtimes/node/main.ts",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    await Deno.remove(partial).catch(() => {});
    const stderr = new TextDecoder().decode(output.stderr);
    throw new Error(`deno bundle failed (exit ${output.code}):\n${stderr}`);
  }
  await Deno.rename(partial, bundle);
  return bundle;
}

if (import.meta.main) {
  await buildNode();
  console.log(`built ${NODE_BUNDLE}; start it with: node ${NODE_BUNDLE} [flags]`);
}
