/**
 * Turns the frames of a conversation into readable items: assistant text per message (built from
 * `text_delta`s as they stream, or taken whole from `assistant` lines when partial messages are
 * off), thinking, tool calls and results, permission questions, the result, and the gateway's
 * notices.
 *
 * `items` is replaced, never mutated, and an item that did not change keeps its identity, so a
 * React render or a DOM patch can compare by reference.
 */
import type { CloseInfo } from "./close-codes.ts";
import type { ContentBlock, Frame, RunSummary, StreamEvent } from "./frames.ts";
import { isCanUseTool } from "./frames.ts";

export type ChatItem =
  | { kind: "prompt"; id: string; text: string; followUp: boolean }
  | { kind: "assistant"; id: string; text: string; streaming: boolean }
  | { kind: "thinking"; id: string; text: string; streaming: boolean }
  | { kind: "tool_use"; id: string; toolUseId: string; name: string; input: unknown; streaming: boolean }
  | { kind: "tool_result"; id: string; toolUseId: string; text: string; isError: boolean }
  | {
      kind: "permission";
      id: string;
      requestId: string;
      toolName: string;
      input: Record<string, unknown>;
      toolUseId: string | undefined;
      decision: { behavior: "allow" | "deny"; by: string } | null;
    }
  | {
      kind: "result";
      id: string;
      subtype: string;
      isError: boolean;
      text: string;
      costUsd: number | null;
      numTurns: number | null;
      durationMs: number | null;
      sessionId: string | null;
    }
  | { kind: "session"; id: string; sessionId: string; model: string | null }
  | { kind: "notice"; id: string; level: "info" | "warning" | "error"; source: string; text: string }
  | {
      kind: "exit";
      id: string;
      runId: string;
      code: number | null;
      signal: string | null;
      reason: string;
      durationMs: number;
      summary: RunSummary | null;
    }
  | { kind: "close"; id: string; close: CloseInfo };

export type ChatItemKind = ChatItem["kind"];
type Streamed = Extract<ChatItem, { kind: "assistant" | "thinking" | "tool_use" }>;
/** What each kind of item may be created with (its id is assigned). */
type NewItem = ChatItem extends infer I ? (I extends ChatItem ? Omit<I, "id"> : never) : never;

export class Transcript {
  items: readonly ChatItem[] = [];
  private seq = 0;
  private readonly index = new Map<string, number>();
  /** Content blocks of the message being streamed, by block index → item id. */
  private open = new Map<number, string>();
  /** Streamed blocks that no whole `assistant` line has repeated yet, oldest first. */
  private unconfirmed: string[] = [];
  /** A streaming tool call's input, as JSON text so far, by item id. */
  private readonly partialJson = new Map<string, string>();
  private lastSessionId: string | null = null;

  /** Folds one frame in; returns whether anything changed. */
  apply(frame: Frame): boolean {
    const before = this.items;
    switch (frame.type) {
      case "stream_event":
        this.onStreamEvent(frame.event);
        break;
      case "assistant":
        for (const block of frame.message.content) this.onWholeBlock(block);
        break;
      case "user":
        if (Array.isArray(frame.message.content)) for (const block of frame.message.content) this.onUserBlock(block);
        break;
      case "result":
        this.open = new Map();
        this.unconfirmed = [];
        this.add({
          kind: "result",
          subtype: frame.subtype,
          isError: frame.is_error === true,
          text: typeof frame.result === "string" ? frame.result : "",
          costUsd: num(frame.total_cost_usd),
          numTurns: num(frame.num_turns),
          durationMs: num(frame.duration_ms),
          sessionId: frame.session_id ?? null,
        });
        break;
      case "system":
        if (frame.subtype === "init" && frame.session_id !== undefined && frame.session_id !== this.lastSessionId) {
          this.lastSessionId = frame.session_id;
          this.add({ kind: "session", sessionId: frame.session_id, model: frame.model ?? null });
        }
        break;
      case "control_request":
        if (isCanUseTool(frame.request)) {
          const r = frame.request;
          this.add({ kind: "permission", requestId: frame.request_id, toolName: r.tool_name, input: r.input ?? {}, toolUseId: r.tool_use_id, decision: null });
        }
        break;
      case "control_response": {
        const ok = frame.response.subtype === "success";
        this.notice(ok ? "info" : "warning", "cli", ok ? "The CLI acknowledged a control request." : `Control request failed: ${frame.response.error ?? "error"}`);
        break;
      }
      case "gateway.permission_resolved": {
        const item = this.items.find((i) => i.kind === "permission" && i.requestId === frame.requestId);
        if (item) this.patch(item.id, { decision: { behavior: frame.behavior, by: frame.by } });
        break;
      }
      case "gateway.exit":
        this.add({ kind: "exit", runId: frame.runId, code: frame.code, signal: frame.signal, reason: frame.reason, durationMs: frame.durationMs, summary: frame.summary ?? null });
        break;
      case "gateway.hello":
        this.notice("info", "gateway", HELLO[frame.auth] ?? "Connected.");
        break;
      case "gateway.authenticated":
        this.notice("info", "gateway", "Token accepted.");
        break;
      case "gateway.queued":
        this.notice("info", "gateway", `Waiting for a free slot: position ${frame.position} in the queue.`);
        break;
      case "gateway.started":
        this.notice("info", "gateway", `Run started (pid ${frame.pid}).`);
        break;
      case "gateway.followup_queued":
        this.notice("info", "gateway", `Follow-up queued (position ${frame.position}); it runs when the current turn ends.`);
        break;
      case "gateway.stdout":
        this.notice("info", "stdout", frame.line);
        break;
      case "gateway.stderr":
        this.notice("warning", "stderr", frame.line);
        break;
      case "gateway.warning":
        this.notice(
          "warning",
          "gateway",
          frame.code === "line_too_long" ? `An output line of ${frame.bytes} bytes was too long to relay.` : `${frame.lines} stderr lines were suppressed.`,
        );
        break;
      case "gateway.error":
        this.notice("error", "gateway", `${frame.code}: ${frame.message}`);
        break;
      case "unknown":
        break;
    }
    return this.items !== before;
  }

  addPrompt(text: string, followUp: boolean): void {
    this.add({ kind: "prompt", text, followUp });
  }

  addClose(close: CloseInfo): void {
    this.add({ kind: "close", close });
  }

  /** Marks a permission answered by this client before the gateway confirms it. */
  answerPermission(requestId: string, behavior: "allow" | "deny"): void {
    const item = this.items.find((i) => i.kind === "permission" && i.requestId === requestId);
    if (item?.kind === "permission" && item.decision === null) this.patch(item.id, { decision: { behavior, by: "client" } });
  }

  /** The assistant's text since the last prompt: what Claude has said in the current turn. */
  turnText(): string {
    const parts: string[] = [];
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i]!;
      if (item.kind === "prompt") break;
      if (item.kind === "assistant" && item.text !== "") parts.push(item.text);
    }
    return parts.reverse().join("\n\n");
  }

  private onStreamEvent(event: StreamEvent): void {
    switch (event.type) {
      case "message_start":
        this.open = new Map();
        break;
      case "content_block_start": {
        const id = this.startBlock(event.content_block, true);
        if (id !== undefined) this.open.set(event.index, id);
        break;
      }
      case "content_block_delta": {
        const { delta } = event;
        let id = this.open.get(event.index);
        if (id === undefined) {
          // A delta without its start (a client that joined late): open the block it implies.
          const kind = delta.type === "thinking_delta" ? "thinking" : delta.type === "text_delta" ? "assistant" : undefined;
          if (kind === undefined) break;
          id = this.add({ kind, text: "", streaming: true });
          this.unconfirmed.push(id);
          this.open.set(event.index, id);
        }
        const item = this.get(id) as Streamed;
        if (delta.type === "text_delta" && item.kind === "assistant") this.patch(id, { text: item.text + delta.text });
        else if (delta.type === "thinking_delta" && item.kind === "thinking") this.patch(id, { text: item.text + delta.thinking });
        else if (delta.type === "input_json_delta" && item.kind === "tool_use") {
          this.partialJson.set(id, (this.partialJson.get(id) ?? "") + delta.partial_json);
        }
        break;
      }
      case "content_block_stop": {
        const id = this.open.get(event.index);
        if (id === undefined) break;
        this.open.delete(event.index);
        const json = this.partialJson.get(id);
        this.partialJson.delete(id);
        this.patch(id, json === undefined ? { streaming: false } : { streaming: false, input: parseJson(json) });
        break;
      }
      default:
        break;
    }
  }

  /** A block of a whole `assistant` line: confirms the streamed copy if there is one, else adds it. */
  private onWholeBlock(block: ContentBlock): void {
    if (block.type === "tool_use") {
      const streamed = this.items.find((i) => i.kind === "tool_use" && i.toolUseId === block.id);
      if (streamed) {
        this.unconfirmed = this.unconfirmed.filter((id) => id !== streamed.id);
        this.patch(streamed.id, { input: block.input, streaming: false });
      } else this.startBlock(block, false);
      return;
    }
    const kind = block.type === "text" ? "assistant" : block.type === "thinking" || block.type === "redacted_thinking" ? "thinking" : undefined;
    if (kind === undefined) return;
    const text = block.type === "text" ? block.text : block.type === "thinking" ? block.thinking : "(redacted thinking)";
    const match = this.unconfirmed.find((id) => this.get(id).kind === kind);
    if (match !== undefined) {
      this.unconfirmed = this.unconfirmed.filter((id) => id !== match);
      this.patch(match, { text, streaming: false });
    } else this.add({ kind, text, streaming: false });
  }

  private onUserBlock(block: ContentBlock): void {
    if (block.type !== "tool_result") return;
    const content = block.content;
    const text =
      typeof content === "string" ? content : Array.isArray(content) ? content.map((c) => (c.type === "text" ? (c.text ?? "") : `[${c.type}]`)).join("\n") : "";
    this.add({ kind: "tool_result", toolUseId: block.tool_use_id, text, isError: block.is_error === true });
  }

  private startBlock(block: ContentBlock, streaming: boolean): string | undefined {
    let id: string | undefined;
    if (block.type === "text") id = this.add({ kind: "assistant", text: block.text ?? "", streaming });
    else if (block.type === "thinking") id = this.add({ kind: "thinking", text: block.thinking ?? "", streaming });
    else if (block.type === "tool_use") id = this.add({ kind: "tool_use", toolUseId: block.id, name: block.name, input: block.input ?? {}, streaming });
    if (id !== undefined && streaming) this.unconfirmed.push(id);
    return id;
  }

  private notice(level: "info" | "warning" | "error", source: string, text: string): void {
    this.add({ kind: "notice", level, source, text });
  }

  private add(item: NewItem): string {
    const id = `i${++this.seq}`;
    this.index.set(id, this.items.length);
    this.items = [...this.items, { ...item, id } as ChatItem];
    return id;
  }

  private get(id: string): ChatItem {
    return this.items[this.index.get(id)!]!;
  }

  private patch(id: string, changes: Partial<Omit<ChatItem, "id" | "kind">> & Record<string, unknown>): void {
    const at = this.index.get(id)!;
    const next = this.items.slice();
    next[at] = { ...this.items[at]!, ...changes } as ChatItem;
    this.items = next;
  }
}

const HELLO: Record<string, string> = {
  ok: "Connected.",
  required: "Connected; the gateway asks for the token in a message.",
  refused: "Connected, but the token was refused.",
};

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
