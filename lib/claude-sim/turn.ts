/**
 * One simulated turn: init, the scripted reply (streamed deltas with --include-partial-messages,
 * thinking, tool calls with approvals), and the `result` that ends the turn.
 */
import { randomUUID } from "node:crypto";
import type { SimOptions } from "./args.ts";
import type { Session } from "./session.ts";

export interface PermissionAnswer {
  behavior: string;
  message?: string;
  updatedInput?: unknown;
}

export interface TurnIo {
  write(obj: unknown): void;
  askPermission(toolName: string, input: unknown, toolUseId: string): Promise<PermissionAnswer>;
  interrupted(): boolean;
}

export interface TurnResult {
  is_error: boolean;
}

const TOOLS = ["Task", "Bash", "Edit", "Glob", "Grep", "Read", "Write", "WebFetch"];
const DELTA_MS = 15;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runTurn(opts: SimOptions, session: Session, prompt: string, io: TurnIo): Promise<TurnResult> {
  const started = performance.now();
  const sid = session.id;
  const words = prompt.toLowerCase();
  const arg = (word: string) => Number(new RegExp(`\\b${word}\\s+([\\d.]+)`).exec(words)?.[1]);
  session.record("user", prompt);
  session.turns++;
  io.write({
    type: "system", subtype: "init", cwd: process.cwd(), session_id: sid, tools: opts.allowedTools ?? TOOLS.filter((t) => !opts.disallowedTools.includes(t)),
    mcp_servers: [], model: opts.model, permissionMode: opts.permissionMode, apiKeySource: "none", claude_code_version: "sim",
  });
  io.write({ type: "system", subtype: "status", status: "requesting", session_id: sid, uuid: randomUUID() });

  let turns = 1;
  const denials: Array<{ tool_name: string; tool_use_id: string }> = [];
  if (/\bthink/.test(words)) await stream(opts, io, sid, "thinking", "Let me think about this step by step.", DELTA_MS);
  const toolCalls = /\btools?\b/.test(words) ? Math.max(1, arg("tools") || 1) : 0;
  for (let i = 1; i <= toolCalls && !io.interrupted(); i++) {
    if (opts.maxTurns !== undefined && turns >= opts.maxTurns) return finish(opts, io, session, started, words, turns, "error_max_turns", "", denials);
    turns++;
    const id = `toolu_sim_${randomUUID().slice(0, 8)}`;
    const input = { command: `ls -la dir${i}`, description: `List dir${i}` };
    io.write({ type: "assistant", session_id: sid, parent_tool_use_id: null, message: { role: "assistant", model: opts.model, content: [{ type: "tool_use", id, name: "Bash", input }] } });
    const answer = opts.disallowedTools.includes("Bash")
      ? { behavior: "deny", message: "Bash is disallowed" }
      : opts.permissionPromptStdio && opts.permissionMode !== "bypassPermissions"
        ? await io.askPermission("Bash", input, id)
        : { behavior: "allow" };
    const allowed = answer.behavior === "allow";
    if (!allowed) denials.push({ tool_name: "Bash", tool_use_id: id });
    const used = (answer.updatedInput as { command?: string } | undefined)?.command ?? input.command;
    io.write({
      type: "user", session_id: sid, parent_tool_use_id: null,
      message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, is_error: !allowed, content: allowed ? `$ ${used}\nREADME.md\npackage.json` : `Permission to use Bash has been denied. ${answer.message ?? ""}`.trim() }] },
    });
  }
  if (/\bcrash\b/.test(words)) {
    process.stderr.write("claude-sim: simulated crash\n");
    process.exit(2);
  }
  const slow = arg("slow");
  const reply = slow > 0 ? Array.from({ length: slow }, (_, i) => `chunk ${i + 1}.`).join(" ") : `Simulated reply to: ${prompt.slice(0, 200)}`;
  await stream(opts, io, sid, "text", reply, slow > 0 ? 100 : DELTA_MS);
  session.record("assistant", reply);
  if (io.interrupted()) return finish(opts, io, session, started, words, turns, "error_during_execution", "", denials);
  if (/\bfail\b/.test(words)) return finish(opts, io, session, started, words, turns, "error_during_execution", "Simulated failure", denials);
  return finish(opts, io, session, started, words, turns, "success", reply, denials);
}

/** Streams `text` as deltas (with --include-partial-messages), then the whole assistant message; an interrupt cuts it short. */
async function stream(opts: SimOptions, io: TurnIo, sid: string, kind: "text" | "thinking", text: string, delayMs: number): Promise<void> {
  const pieces = text.match(/\S+\s*/g) ?? [text];
  let sent = "";
  if (opts.partial) {
    io.write({ type: "stream_event", session_id: sid, event: { type: "content_block_start", index: 0, content_block: kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "" } } });
    for (const piece of pieces) {
      if (io.interrupted()) break;
      sent += piece;
      const delta = kind === "text" ? { type: "text_delta", text: piece } : { type: "thinking_delta", thinking: piece };
      io.write({ type: "stream_event", session_id: sid, event: { type: "content_block_delta", index: 0, delta } });
      await sleep(delayMs);
    }
    io.write({ type: "stream_event", session_id: sid, event: { type: "content_block_stop", index: 0 } });
  } else {
    for (const piece of pieces) {
      if (io.interrupted()) break;
      sent += piece;
      if (delayMs > DELTA_MS) await sleep(delayMs);
    }
  }
  const block = kind === "text" ? { type: "text", text: sent } : { type: "thinking", thinking: sent, signature: "sim" };
  io.write({ type: "assistant", session_id: sid, parent_tool_use_id: null, message: { role: "assistant", model: opts.model, content: [block] } });
}

function finish(
  opts: SimOptions, io: TurnIo, session: Session, started: number, words: string, turns: number,
  subtype: string, result: string, denials: Array<{ tool_name: string; tool_use_id: string }>,
): TurnResult {
  let cost = Number(/\bcost\s+([\d.]+)/.exec(words)?.[1] ?? 0.0012 * turns);
  let sub = subtype;
  if (opts.maxBudgetUsd !== undefined && cost > opts.maxBudgetUsd && sub === "success") sub = "error_max_budget_usd";
  const is_error = sub !== "success";
  cost = Math.round(cost * 1e6) / 1e6;
  io.write({
    type: "result", subtype: sub, is_error, duration_ms: Math.round(performance.now() - started), duration_api_ms: 0,
    num_turns: turns, result, session_id: session.id, total_cost_usd: cost,
    usage: { input_tokens: 12 * turns, output_tokens: 30 * turns, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    modelUsage: { [opts.model]: { inputTokens: 12 * turns, outputTokens: 30 * turns, costUSD: cost } },
    permission_denials: denials,
  });
  return { is_error };
}
