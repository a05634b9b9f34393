/**
 * claude-sim's session transcript, where the real CLI keeps it:
 * `$CLAUDE_CONFIG_DIR` (else `$HOME/.claude`) `/projects/<cwd with / as ->/<session_id>.jsonl`.
 * `--resume` of an id with no transcript fails as the real CLI does.
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { SimOptions } from "./args.ts";

export class Session {
  private constructor(
    readonly id: string,
    private readonly file: string,
    /** Turns already in the transcript (a resumed session continues its count). */
    public turns: number,
  ) {}

  static open(opts: SimOptions, write: (obj: unknown) => void): Session | null {
    const dir = join(process.env.CLAUDE_CONFIG_DIR ?? join(homedir(), ".claude"), "projects", process.cwd().replace(/[/.]/g, "-"));
    if (opts.resume !== undefined) {
      const file = join(dir, `${opts.resume}.jsonl`);
      if (!existsSync(file)) {
        process.stderr.write(`No conversation found with session ID: ${opts.resume}\n`);
        write({ type: "result", subtype: "error_during_execution", is_error: true, duration_ms: 0, duration_api_ms: 0, num_turns: 0, session_id: opts.resume, total_cost_usd: 0, result: "" });
        return null;
      }
      const turns = readFileSync(file, "utf8").split("\n").filter((l) => l.includes('"role":"user"')).length;
      return new Session(opts.resume, file, turns);
    }
    mkdirSync(dir, { recursive: true });
    const id = opts.sessionId ?? randomUUID();
    return new Session(id, join(dir, `${id}.jsonl`), 0);
  }

  record(role: "user" | "assistant", text: string): void {
    appendFileSync(this.file, JSON.stringify({ type: role, message: { role, content: text }, session_id: this.id, timestamp: new Date().toISOString() }) + "\n");
  }
}
