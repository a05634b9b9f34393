/**
 * (6) The real CLI behind the gateway: connect → the `system/init` frame of
 * `@anthropic-ai/claude-code`. Uses CLAUDE_BIN if set, else the project's own
 * node_modules/.bin/claude; skipped, with a notice, when neither exists. The socket is closed
 * as soon as init arrives, so no model request is waited for.
 */
import { accessSync, constants } from "node:fs";
import { join, resolve } from "node:path";
import { Session } from "../client/session.ts";
import type { BenchContext, Figure } from "../figures.ts";
import { summarize } from "../stats.ts";
import { ROOT } from "../targets/gateway.ts";
import { withServer } from "../targets/target.ts";
import { within } from "../wait.ts";

const INIT_TIMEOUT_MS = 60_000;

function isInit(line: string): boolean {
  if (!line.includes('"init"')) return false;
  const frame = JSON.parse(line) as { type?: string; subtype?: string };
  return frame.type === "system" && frame.subtype === "init";
}

export function realCliBin(): string | null {
  const bin = process.env.CLAUDE_BIN ? resolve(process.env.CLAUDE_BIN) : join(ROOT, "node_modules", ".bin", "claude");
  try {
    accessSync(bin, constants.X_OK);
    return bin;
  } catch {
    return null;
  }
}

export async function measureRealCli(ctx: BenchContext): Promise<Figure[]> {
  const bin = realCliBin();
  const label = "Real CLI: connect → system/init frame";
  if (bin === null) {
    ctx.log("  skipped: node_modules/.bin/claude is not installed (npm i @anthropic-ai/claude-code) and CLAUDE_BIN is not set");
    return [{ key: "realCliInit", label, unit: "ms", values: {}, note: "skipped: @anthropic-ai/claude-code not installed" }];
  }
  const runs: number[] = [];
  await withServer(
    ctx.gateway,
    ["Reply with one word: ok"],
    async (server) => {
      for (let i = 0; i < ctx.sizes.realCli.reps; i++) {
        let resolveInit!: (at: number) => void;
        const init = new Promise<number>((r) => (resolveInit = r));
        const session = await Session.open(server, { timeoutMs: INIT_TIMEOUT_MS + 30_000, onLine: (line) => isInit(line) && resolveInit(performance.now()) });
        try {
          const at = await within(Promise.race([init, session.done.then((r) => Promise.reject(new Error(`closed before init: ${r.error ?? r.closeCode}`)))]), "system/init", INIT_TIMEOUT_MS);
          runs.push(at - session.result.startedAt);
        } finally {
          session.close();
          await session.done;
        }
        ctx.log(`  #${i + 1}: ${runs.at(-1)!.toFixed(0)} ms`);
      }
    },
    { bin },
  );
  return [{ key: "realCliInit", label, unit: "ms", values: { gateway: summarize(runs) }, note: bin }];
}
