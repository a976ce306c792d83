/**
 * Summarises V8 `.cpuprofile` files (from `deno run --cpu-prof`, or
 * `deno run -A bench/run.ts --cpu-prof`): the functions with the most self
 * time, and the inclusive time of the relay's own files.
 *
 * ```sh
 * deno run -A bench/profile_summary.ts bench/results/cpuprof-*.tmp/*.cpuprofile
 * ```
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, "");
  const name = frame.functionName || "(anonymous)";
  return file ? `${name} ${file}:${frame.lineNumber + 1}` : name;
}

/** Prints the top self-time functions of one profile. */
export function summarise(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfTime = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
    total += dt;
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, time] of selfTime) {
    const node = byId.get(id);
    if (!node) continue;
    const name = label(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + time);
    // Inclusive time per source file: each file counted once per sample stack.
    const seen = new Set<string>();
    for (
      let at: number | undefined = id;
      at !== undefined;
      at = parent.get(at)
    ) {
      const url = byId.get(at)?.callFrame.url ?? "";
      const file = url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, "") || "(native)";
      if (seen.has(file)) continue;
      seen.add(file);
      inclusive.set(file, (inclusive.get(file) ?? 0) + time);
    }
  }
  // Shares of busy time: idle is the process waiting for the event loop.
  const idle = self.get("(idle)") ?? 0;
  const busy = total - idle;
  const pct = (t: number) => `${(t / busy * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `sampled ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s; shares of busy time`,
    "",
    "self time:",
  ];
  self.delete("(idle)");
  inclusive.delete("(native)");
  for (
    const [name, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)
  ) {
    lines.push(`  ${pct(time)}  ${name}`);
  }
  lines.push("", "inclusive time by file:");
  for (
    const [file, time] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(
      0,
      top,
    )
  ) {
    lines.push(`  ${pct(time)}  ${file}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  if (Deno.args.length === 0) {
    console.error(
      "usage: deno run -A bench/profile_summary.ts FILE.cpuprofile...",
    );
    Deno.exit(2);
  }
  for (const path of Deno.args) {
    const profile = JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
    console.log(`== ${path}\n${summarise(profile)}\n`);
  }
}
