#!/usr/bin/env bun
/**
 * claude-sim: a stand-in for the Claude Code CLI that speaks the same stream-json, for building
 * and testing a frontend without credentials or tokens spent. Point the gateway at it:
 *
 *   CLAUDE_BIN=lib/claude-sim/claude-sim.ts npm start
 *
 * It follows what the real CLI (2.1.329) does as a child process (shared/CLAUDE-CLI.md, and
 * re-checked against the installed binary): the same flags and their errors, `system/init` at
 * the start of every turn, `result` at the end of one, control requests over stdin in
 * stream-json input mode, a session transcript that `--resume` needs, exit 1 on an invalid stdin
 * line. What it says is scripted by words in the prompt:
 *
 *   (anything)        a streamed text reply            think     a thinking block first
 *   tool / tools N    N Bash tool calls (approval asked with --permission-prompt-tool=stdio)
 *   slow N            N text deltas 100 ms apart (for interrupts)
 *   fail              an error result, exit 1          crash     dies mid-turn (exit 2)
 *   cost X            total_cost_usd of X
 */
import { parseCli, CliError, type SimOptions } from "./args.ts";
import { Session } from "./session.ts";
import { runTurn, type TurnIo } from "./turn.ts";

const write = (obj: unknown) => process.stdout.write(JSON.stringify(obj) + "\n");

async function main(): Promise<number> {
  let opts: SimOptions;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(err.message + "\n");
    return 1;
  }
  const session = Session.open(opts, write);
  if (session === null) return 1; // --resume of an unknown id: already reported
  if (!opts.streamInput) {
    const result = await runTurn(opts, session, opts.prompt ?? "", oneShotIo());
    return result.is_error ? 1 : 0;
  }
  return interactive(opts, session);
}

/** One-shot: no stdin (the gateway gives /dev/null); approvals are impossible without it. */
function oneShotIo(): TurnIo {
  return { write, askPermission: async () => ({ behavior: "allow" }), interrupted: () => false };
}

/** stream-json input: a turn per user line, control requests in between, exit at EOF. */
async function interactive(opts: SimOptions, session: Session): Promise<number> {
  const queue: string[] = [];
  const pending = new Map<string, (answer: { behavior: string; message?: string; updatedInput?: unknown }) => void>();
  let running = false;
  let interruptRequested = false;
  let lastError = false;
  let seq = 0;
  let eof = false;
  let wake = null as (() => void) | null;

  const io: TurnIo = {
    write,
    interrupted: () => interruptRequested,
    askPermission(toolName, input, toolUseId) {
      const requestId = `sim-req-${++seq}`;
      write({
        type: "control_request",
        request_id: requestId,
        request: { subtype: "can_use_tool", tool_name: toolName, input, tool_use_id: toolUseId, permission_suggestions: [], decision_reason: "simulated" },
      });
      return new Promise((resolve) => pending.set(requestId, resolve));
    },
  };

  const onLine = (line: string): void => {
    if (line.trim() === "") return;
    let msg: { type?: string; request_id?: string; request?: { subtype?: string }; response?: { request_id?: string; response?: Record<string, unknown>; subtype?: string }; message?: { content?: unknown } };
    try {
      msg = JSON.parse(line);
    } catch {
      // As the real CLI: one invalid line on stdin is fatal.
      process.stderr.write(`Error parsing streaming input line: ${line.slice(0, 80)}\n`);
      process.exit(1);
    }
    if (msg.type === "user") {
      const content = msg.message?.content;
      queue.push(typeof content === "string" ? content : JSON.stringify(content ?? ""));
    } else if (msg.type === "control_request") {
      const id = msg.request_id ?? "";
      if (msg.request?.subtype === "interrupt") {
        if (running) interruptRequested = true;
        write({ type: "control_response", response: { subtype: "success", request_id: id, response: { still_queued: [] } } });
      } else {
        write({ type: "control_response", response: { subtype: "error", request_id: id, error: `Unsupported control request subtype: ${msg.request?.subtype}`, error_code: "unsupported_request" } });
      }
    } else if (msg.type === "control_response") {
      const id = msg.response?.request_id ?? "";
      const answer = msg.response?.response as { behavior: string } | undefined;
      pending.get(id)?.(answer ?? { behavior: "deny", message: "no answer" });
      pending.delete(id);
    }
    wake?.();
  };

  void (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of Bun.stdin.stream()) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
    if (buf.length > 0) onLine(buf);
    eof = true;
    wake?.();
  })();

  for (;;) {
    const prompt = queue.shift();
    if (prompt === undefined) {
      if (eof) return lastError ? 1 : 0;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      continue;
    }
    running = true;
    interruptRequested = false;
    const result = await runTurn(opts, session, prompt, io);
    running = false;
    lastError = result.is_error;
  }
}

process.exit(await main());
