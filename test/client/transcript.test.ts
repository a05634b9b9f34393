/**
 * The transcript: readable items from stream-json, whether the text streams in deltas or
 * arrives whole, and the gateway's own frames as notices.
 */
import { describe, expect, test } from "bun:test";
import { parseFrame, type Frame } from "../../lib/client/frames.ts";
import { Transcript, type ChatItem } from "../../lib/client/transcript.ts";

const f = (obj: unknown): Frame => parseFrame(JSON.stringify(obj));
const ev = (event: unknown) => f({ type: "stream_event", session_id: "s", event });
const delta = (index: number, d: unknown) => ev({ type: "content_block_delta", index, delta: d });

function fold(frames: Frame[]): Transcript {
  const t = new Transcript();
  for (const frame of frames) t.apply(frame);
  return t;
}
const strip = (items: readonly ChatItem[]): unknown[] => items.map(({ id: _id, ...rest }) => rest);

describe("streamed messages (--include-partial-messages)", () => {
  // The shape the real CLI prints: message_start with an id, blocks by index, and after each block
  // a whole `assistant` line repeating it.
  const frames = [
    ev({ type: "message_start", message: { id: "msg_1", model: "m" } }),
    ev({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
    delta(0, { type: "thinking_delta", thinking: "Let me " }),
    delta(0, { type: "thinking_delta", thinking: "look." }),
    ev({ type: "content_block_stop", index: 0 }),
    f({ type: "assistant", message: { id: "msg_1", role: "assistant", content: [{ type: "thinking", thinking: "Let me look.", signature: "x" }] } }),
    ev({ type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }),
    delta(1, { type: "text_delta", text: "Hel" }),
    delta(1, { type: "text_delta", text: "lo, " }),
    delta(1, { type: "text_delta", text: "world." }),
    ev({ type: "content_block_stop", index: 1 }),
    f({ type: "assistant", message: { id: "msg_1", role: "assistant", content: [{ type: "text", text: "Hello, world." }] } }),
    ev({ type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "toolu_1", name: "Bash", input: {} } }),
    delta(2, { type: "input_json_delta", partial_json: '{"comm' }),
    delta(2, { type: "input_json_delta", partial_json: 'and":"ls"}' }),
    ev({ type: "content_block_stop", index: 2 }),
    f({ type: "assistant", message: { id: "msg_1", role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls" } }] } }),
    f({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "README.md" }] }] } }),
    f({ type: "result", subtype: "success", is_error: false, result: "Hello, world.", total_cost_usd: 0.0123, num_turns: 2, duration_ms: 5100, session_id: "s" }),
  ];

  test("accumulates deltas into one item per block, and the whole line that follows confirms it rather than doubling it", () => {
    expect(strip(fold(frames).items)).toEqual([
      { kind: "thinking", text: "Let me look.", streaming: false },
      { kind: "assistant", text: "Hello, world.", streaming: false },
      { kind: "tool_use", toolUseId: "toolu_1", name: "Bash", input: { command: "ls" }, streaming: false },
      { kind: "tool_result", toolUseId: "toolu_1", text: "README.md", isError: false },
      { kind: "result", subtype: "success", isError: false, text: "Hello, world.", costUsd: 0.0123, numTurns: 2, durationMs: 5100, sessionId: "s" },
    ]);
  });

  test("shows the text as it grows, before the block ends", () => {
    const t = fold(frames.slice(0, 9));
    expect(t.items.at(-1)).toMatchObject({ kind: "assistant", text: "Hello, ", streaming: true });
    expect(t.turnText()).toBe("Hello, ");
  });

  test("parses a tool's input from its JSON deltas when the block stops", () => {
    const t = fold(frames.slice(0, 16));
    expect(t.items.at(-1)).toMatchObject({ kind: "tool_use", input: { command: "ls" }, streaming: false });
  });

  test("keeps an unchanged item's identity, so a view can skip it", () => {
    const t = fold(frames.slice(0, 8));
    const [thinking, text] = t.items;
    t.apply(frames[8]!);
    expect(t.items[0]).toBe(thinking!);
    expect(t.items[1]).not.toBe(text!);
  });

  test("starts a block for a delta whose start it never saw", () => {
    const t = fold([delta(0, { type: "text_delta", text: "late " }), delta(0, { type: "text_delta", text: "joiner" })]);
    expect(strip(t.items)).toEqual([{ kind: "assistant", text: "late joiner", streaming: true }]);
  });
});

describe("whole messages (partial messages off)", () => {
  test("adds each block of each assistant line", () => {
    const t = fold([
      f({ type: "system", subtype: "init", session_id: "s1", model: "claude-x" }),
      f({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text: "One." }] } }),
      f({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text: "Two." }, { type: "redacted_thinking", data: "…" }] } }),
    ]);
    expect(strip(t.items)).toEqual([
      { kind: "session", sessionId: "s1", model: "claude-x" },
      { kind: "assistant", text: "One.", streaming: false },
      { kind: "assistant", text: "Two.", streaming: false },
      { kind: "thinking", text: "(redacted thinking)", streaming: false },
    ]);
    expect(t.turnText()).toBe("One.\n\nTwo.");
  });

  test("shows a session once, though interactive turns repeat system/init", () => {
    const init = f({ type: "system", subtype: "init", session_id: "s1", model: "m" });
    expect(fold([init, init, f({ type: "system", subtype: "status", status: "requesting" })]).items).toHaveLength(1);
  });
});

describe("turn text", () => {
  test("is what the assistant said since the last prompt", () => {
    const t = new Transcript();
    t.addPrompt("first", false);
    t.apply(f({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text: "A" }] } }));
    t.addPrompt("second", true);
    expect(t.turnText()).toBe("");
    t.apply(f({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text: "B" }] } }));
    expect(t.turnText()).toBe("B");
  });
});

describe("permissions", () => {
  test("adds a question per can_use_tool request and records how it was resolved", () => {
    const t = fold([
      f({ type: "control_request", request_id: "req_1", request: { subtype: "can_use_tool", tool_name: "Bash", input: { command: "ls" }, tool_use_id: "toolu_1" } }),
      f({ type: "control_request", request_id: "req_2", request: { subtype: "can_use_tool", tool_name: "Write", input: { path: "x" } } }),
    ]);
    t.answerPermission("req_1", "allow");
    t.apply(f({ type: "gateway.permission_resolved", requestId: "req_1", behavior: "allow", by: "client" }));
    t.apply(f({ type: "gateway.permission_resolved", requestId: "req_2", behavior: "deny", by: "timeout" }));
    expect(strip(t.items)).toEqual([
      { kind: "permission", requestId: "req_1", toolName: "Bash", input: { command: "ls" }, toolUseId: "toolu_1", decision: { behavior: "allow", by: "client" } },
      { kind: "permission", requestId: "req_2", toolName: "Write", input: { path: "x" }, toolUseId: undefined, decision: { behavior: "deny", by: "timeout" } },
    ]);
  });

  test("ignores control requests that are not questions about a tool", () => {
    expect(fold([f({ type: "control_request", request_id: "r", request: { subtype: "hook_callback" } })]).items).toEqual([]);
  });
});

describe("gateway frames", () => {
  test.each([
    [{ type: "gateway.queued", position: 2 }, "info", "gateway", "Waiting for a free slot: position 2 in the queue."],
    [{ type: "gateway.started", runId: "r", pid: 42 }, "info", "gateway", "Run started (pid 42)."],
    [{ type: "gateway.stderr", line: "oops" }, "warning", "stderr", "oops"],
    [{ type: "gateway.stdout", line: "plain" }, "info", "stdout", "plain"],
    [{ type: "gateway.warning", code: "line_too_long", bytes: 99 }, "warning", "gateway", "An output line of 99 bytes was too long to relay."],
    [{ type: "gateway.warning", code: "stderr_suppressed", lines: 7 }, "warning", "gateway", "7 stderr lines were suppressed."],
    [{ type: "gateway.error", code: "not_interactive", message: "No." }, "error", "gateway", "not_interactive: No."],
    [{ type: "gateway.followup_queued", position: 1 }, "info", "gateway", "Follow-up queued (position 1); it runs when the current turn ends."],
  ])("turns %j into a notice", (frame, level, source, text) => {
    expect(strip(fold([f(frame)]).items)).toEqual([{ kind: "notice", level, source, text }]);
  });

  test("keeps the exit frame with its run summary", () => {
    const summary = { sessionId: "s", isError: false, totalCostUsd: 0.5, numTurns: 3, durationMs: 900 };
    const t = fold([f({ type: "gateway.exit", runId: "r", code: 0, signal: null, reason: "completed", durationMs: 950, summary })]);
    expect(strip(t.items)).toEqual([{ kind: "exit", runId: "r", code: 0, signal: null, reason: "completed", durationMs: 950, summary }]);
  });

  test("leaves lines it does not know out of the transcript", () => {
    expect(fold([f({ type: "keep_alive" }), f({ type: "count", n: 1 }), parseFrame("not json")]).items).toEqual([]);
  });
});

describe("parseFrame", () => {
  test("types known frames and wraps anything else as unknown, never throwing", () => {
    expect(parseFrame('{"type":"gateway.started","runId":"r","pid":1}').type).toBe("gateway.started");
    expect(parseFrame('{"type":"assistant","message":"not an object"}')).toEqual({ type: "unknown", originalType: "assistant", value: { type: "assistant", message: "not an object" } });
    expect(parseFrame("[1,2]")).toMatchObject({ type: "unknown", originalType: undefined });
    expect(parseFrame("{broken")).toEqual({ type: "unknown", originalType: undefined, value: "{broken" });
  });
});
