/**
 * The gateway under test: `bun server.ts` with the emitter as its CLI, logging at warn.
 *
 * Readiness: the bench picks a free port itself and waits for it to accept; the "listening" log
 * line (printed at warn too when LOG_LEVEL=warn, which keeps per-connection info lines out of
 * every figure) ends the wait as well.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { authHeaders, benchAuth, type GatewayAuth } from "../auth.ts";
import { collectText, spawnTracked, stopProcess } from "../processes.ts";
import { freePort, waitForPort } from "../wait.ts";
import type { RunningServer, StartOptions, WsTarget } from "./target.ts";

export const ROOT = resolve(import.meta.dir, "..", "..");

/** Above the 500 sockets of the memory measurement; the default (32) is a production backstop. */
const BENCH_MAX_PROCESSES = "1000";

export interface GatewayTargetOptions {
  emitter: string;
  /** The checkout whose server.ts is run; the project itself by default. */
  root?: string;
  /** Server key and per-connection tokens; see auth.ts. */
  auth?: GatewayAuth;
  logLevel?: string;
}

export function gatewayTarget(options: GatewayTargetOptions): WsTarget {
  const auth = options.auth ?? benchAuth;
  const root = options.root ?? ROOT;
  return {
    name: "gateway",
    async start(mode: string[], start: StartOptions = {}): Promise<RunningServer> {
      const stateDir = mkdtempSync(join(tmpdir(), "gw-bench-state-"));
      const port = freePort();
      const proc = spawnTracked([process.execPath, join(root, "server.ts")], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: process.env.HOME ?? "/tmp",
          LANG: process.env.LANG ?? "C.UTF-8",
          HOST: "127.0.0.1",
          PORT: String(port),
          STATE_DIR: stateDir,
          CLAUDE_BIN: start.bin ?? options.emitter,
          MAX_PROCESSES: BENCH_MAX_PROCESSES,
          LOG_LEVEL: options.logLevel ?? "warn",
          ...auth.env,
          ...start.env,
        },
      });
      const stderr = collectText(proc.stderr);
      const listening = watchListening(proc.stdout);
      const exited = proc.exited.then((code) => {
        throw new Error(`gateway exited (${code}) before listening:\n${stderr.text()}`);
      });
      try {
        await Promise.race([waitForPort(port, "the gateway to listen"), listening, exited]);
      } catch (err) {
        await stopProcess(proc);
        rmSync(stateDir, { recursive: true, force: true });
        throw err;
      }
      return {
        name: "gateway",
        pid: proc.pid,
        port,
        url: `ws://127.0.0.1:${port}/ws/claude`,
        promptFrame: JSON.stringify({ prompt: mode.join(" ") }),
        headers: () => authHeaders(auth),
        async stop() {
          await stopProcess(proc);
          rmSync(stateDir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** Resolves on a "listening" JSON log line; keeps draining stdout either way. */
function watchListening(stdout: ReadableStream<Uint8Array>): Promise<void> {
  return new Promise((resolve) => {
    void (async () => {
      const decoder = new TextDecoder();
      let pending = "";
      for await (const chunk of stdout) {
        pending += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          if (pending.slice(0, nl).includes('"msg":"listening"')) resolve();
          pending = pending.slice(nl + 1);
        }
      }
    })().catch(() => {});
  });
}

/** Which gateway a run measured: the checkout, its commit and whether it had local changes. */
export function gatewaySource(root = ROOT): string {
  const git = (...args: string[]) => {
    const r = Bun.spawnSync(["git", "-C", root, ...args], { stdout: "pipe", stderr: "ignore" });
    return r.exitCode === 0 ? r.stdout.toString().trim() : null;
  };
  const rev = git("rev-parse", "--short", "HEAD");
  if (rev === null) return `${root} (not a git checkout)`;
  const dirty = (git("status", "--porcelain", "--untracked-files=no") ?? "") !== "";
  return `${root} at ${rev}${dirty ? " with uncommitted changes" : ""}`;
}
