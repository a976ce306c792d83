/**
 * Watches everything the server under attack writes (stdout and stderr) for
 * secrets it must never print: the tokens sent to it, their claims, passwords
 * and keys guessed at it. A hit is reported by kind, never with the secret.
 *
 * @module
 */
import { LEAK_MARKER } from "./_tokens.ts";
import type { ServerProcess } from "./_server.ts";

// The marker as is, and in base64 at each of the three alignments; "eyJ" is
// base64 for `{"`, the start of every JWT header and payload.
const MARKERS = new RegExp(`${LEAK_MARKER}|aDhsZWFr|g4bGVha|oOGxlYW|eyJ`);
// Runs of base64url long enough to be a piece of a token.
const B64_RUN = /[A-Za-z0-9_-]{20,}/g;
const KEEP_TOKENS = 20_000;
const CARRY = 64;

/** What the server printed while watched. */
export interface LeakReport {
  /** Bytes of output seen. */
  bytes: number;
  /** Lines of output seen. */
  lines: number;
  /** Output pieces holding the marker or `eyJ`. */
  markerHits: number;
  /** Output pieces holding a 20+ character piece of a token that was sent. */
  tokenHits: number;
  /** Output pieces holding one of the listed secrets (passwords, keys). */
  secretHits: number;
  /** The first line printed, with base64 runs masked, for the report. */
  firstLine?: string;
}

/** Watches a server's output from construction until {@link LeakWatch.stop}. */
export class LeakWatch {
  #stop: () => void;
  #tokens: string[] = [];
  #secrets: string[];
  #carry = { stdout: "", stderr: "" };
  #report: LeakReport = { bytes: 0, lines: 0, markerHits: 0, tokenHits: 0, secretHits: 0 };

  /** Starts watching `server`; `secrets` must never appear in its output. */
  constructor(server: ServerProcess, secrets: string[] = []) {
    this.#secrets = secrets.filter((secret) => secret.length >= 6);
    this.#stop = server.watchOutput((text, stream) => this.#seen(text, stream));
  }

  /** Remembers a token that was sent, to look for pieces of it. */
  sent(token: string): void {
    this.#tokens.push(token);
    if (this.#tokens.length > KEEP_TOKENS) this.#tokens.splice(0, KEEP_TOKENS / 2);
  }

  #seen(piece: string, stream: "stdout" | "stderr"): void {
    const report = this.#report;
    report.bytes += piece.length;
    report.lines += piece.split("\n").length - 1;
    // Pieces may split a token: look at the end of the last one as well.
    const text = this.#carry[stream] + piece;
    this.#carry[stream] = text.slice(-CARRY);
    if (report.firstLine === undefined && text.trim() !== "") {
      report.firstLine = text.trim().split("\n")[0]!.replace(B64_RUN, "<b64>").slice(0, 160);
    }
    if (MARKERS.test(text)) report.markerHits++;
    if (this.#secrets.some((secret) => text.includes(secret))) report.secretHits++;
    for (const [run] of text.matchAll(B64_RUN)) {
      if (this.#tokens.some((token) => token.includes(run.slice(0, 20)))) {
        report.tokenHits++;
        break;
      }
    }
  }

  /** Stops watching and returns what was seen. */
  stop(): LeakReport {
    this.#stop();
    return this.#report;
  }
}

/** A report as one observation. */
export function leakSummary(report: LeakReport): string {
  const hits = report.markerHits + report.tokenHits + report.secretHits;
  const head = hits === 0
    ? "none"
    : `LEAK: ${report.markerHits} marker, ${report.tokenHits} token, ${report.secretHits} secret`;
  return `${head} (server printed ${report.lines} lines, ${report.bytes} bytes${
    report.firstLine ? `; first: ${JSON.stringify(report.firstLine)}` : ""
  })`;
}
