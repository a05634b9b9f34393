/**
 * Every frame a `claude.v1` socket receives, as one discriminated union on `type`: the gateway's
 * own frames (`gateway.*`, docs/protocol.md) and the CLI's stream-json lines it relays verbatim.
 * Only the fields a client uses are typed; the CLI prints more, and newer CLIs add fields.
 */

import type { GatewayLimits, RunSummaryFrame, ServerFrame } from "../../websocket/server-frames.ts";

export type { ExitReason } from "../errors.ts";
export type { GatewayLimits };
/** From the run's last `result` line, carried by `gateway.exit`. */
export type RunSummary = RunSummaryFrame;
/** The gateway's own frames: the very types the server sends (websocket/server-frames.ts). */
export type GatewayFrame = ServerFrame;

export type ContentBlock =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature?: string }
  | { type: "redacted_thinking"; data?: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { type: "tool_result"; tool_use_id: string; content?: string | Array<{ type: string; text?: string }>; is_error?: boolean };

export type StreamEvent =
  | { type: "message_start"; message: { id?: string; model?: string } }
  | { type: "content_block_start"; index: number; content_block: ContentBlock }
  | {
      type: "content_block_delta";
      index: number;
      delta:
        | { type: "text_delta"; text: string }
        | { type: "thinking_delta"; thinking: string }
        | { type: "input_json_delta"; partial_json: string }
        | { type: "signature_delta"; signature: string };
    }
  | { type: "content_block_stop"; index: number }
  | { type: "message_delta"; delta?: { stop_reason?: string | null } }
  | { type: "message_stop" };

interface CliLine {
  session_id?: string;
  uuid?: string;
  parent_tool_use_id?: string | null;
}

/** A `can_use_tool` question from the CLI (`--permission-prompt-tool=stdio`). */
export interface CanUseToolRequest {
  subtype: "can_use_tool";
  tool_name: string;
  input: Record<string, unknown>;
  tool_use_id?: string;
  decision_reason?: string;
}

export type CliMessage =
  | (CliLine & { type: "system"; subtype: string; model?: string; cwd?: string; tools?: string[]; permissionMode?: string; status?: string })
  | (CliLine & { type: "assistant"; message: { id?: string; model?: string; role: "assistant"; content: ContentBlock[] }; error?: string })
  | (CliLine & { type: "user"; message: { role: "user"; content: string | ContentBlock[] }; isReplay?: boolean })
  | (CliLine & {
      type: "result";
      subtype: string;
      is_error: boolean;
      result?: string;
      total_cost_usd?: number;
      num_turns?: number;
      duration_ms?: number;
    })
  | (CliLine & { type: "stream_event"; event: StreamEvent })
  | { type: "control_request"; request_id: string; request: CanUseToolRequest | { subtype: string } }
  | {
      type: "control_response";
      response: { subtype: "success" | "error"; request_id: string; response?: Record<string, unknown>; error?: string };
    };

/** A JSON object the client does not know (a newer CLI message, `keep_alive`, a fake CLI's line, …). */
export interface UnknownFrame {
  type: "unknown";
  /** The `type` the line had, if any. */
  originalType: string | undefined;
  value: unknown;
}

export type Frame = GatewayFrame | CliMessage | UnknownFrame;
export type FrameType = Frame["type"];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const has = (o: Record<string, unknown>, key: string, kind: "string" | "number" | "object" | "boolean") =>
  kind === "object" ? isObject(o[key]) : typeof o[key] === kind;

/** The least a known frame must carry for this client to use it; anything else is `unknown`. */
const SHAPES: Record<string, (o: Record<string, unknown>) => boolean> = {
  "gateway.hello": (o) => has(o, "connectionId", "string") && has(o, "limits", "object"),
  "gateway.authenticated": (o) => has(o, "exp", "number"),
  "gateway.queued": (o) => has(o, "position", "number"),
  "gateway.started": (o) => has(o, "runId", "string"),
  "gateway.stdout": (o) => has(o, "line", "string"),
  "gateway.stderr": (o) => has(o, "line", "string"),
  "gateway.warning": (o) => has(o, "code", "string"),
  "gateway.exit": (o) => has(o, "reason", "string"),
  "gateway.error": (o) => has(o, "code", "string") && has(o, "message", "string"),
  "gateway.followup_queued": (o) => has(o, "position", "number"),
  "gateway.permission_resolved": (o) => has(o, "requestId", "string") && has(o, "behavior", "string"),
  system: (o) => has(o, "subtype", "string"),
  assistant: (o) => isObject(o.message) && Array.isArray(o.message.content),
  user: (o) => isObject(o.message) && (typeof o.message.content === "string" || Array.isArray(o.message.content)),
  result: (o) => has(o, "subtype", "string"),
  stream_event: (o) => isObject(o.event) && typeof o.event.type === "string",
  control_request: (o) => has(o, "request_id", "string") && isObject(o.request) && typeof o.request.subtype === "string",
  control_response: (o) => isObject(o.response) && typeof o.response.request_id === "string",
};

/**
 * One received text frame → a typed frame. Never throws: a frame that is not a JSON object, or a
 * known type missing what it needs, comes back as `{ type: "unknown" }`.
 *
 * @example
 * const frame = parseFrame(event.data);
 * if (frame.type === "gateway.exit") console.log(frame.summary?.totalCostUsd);
 */
export function parseFrame(text: string): Frame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: "unknown", originalType: undefined, value: text };
  }
  if (!isObject(value) || typeof value.type !== "string") return { type: "unknown", originalType: undefined, value };
  const shape = SHAPES[value.type];
  if (shape === undefined || !shape(value)) return { type: "unknown", originalType: value.type, value };
  return value as unknown as Frame;
}

/** Whether a control request asks to use a tool. */
export function isCanUseTool(request: { subtype: string }): request is CanUseToolRequest {
  return request.subtype === "can_use_tool";
}
