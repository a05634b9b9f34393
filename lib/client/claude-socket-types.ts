/**
 * The types of ClaudeSocket's API: its options, what it sends, its state and its events.
 */
import type { BackoffOptions } from "./backoff.ts";
import type { CloseInfo } from "./close-codes.ts";
import type { Frame } from "./frames.ts";
import type { ChatItem } from "./transcript.ts";

/**
 * - `idle`: never connected. `connecting`: fetching a token / opening. `ready`: open, no run.
 * - `running`: a prompt or follow-up is in progress. `awaiting_followup`: an interactive run
 *   between turns. `reconnecting`: waiting out a backoff. `closed`: the socket ended.
 */
export type SocketStatus = "idle" | "connecting" | "ready" | "running" | "awaiting_followup" | "reconnecting" | "closed";

/** The prompt frame's `options` (docs/protocol.md, "Run options"); the gateway's policy decides. */
export interface RunOptions {
  mode?: "oneshot" | "interactive";
  model?: string;
  maxTurns?: number;
  maxBudgetUsd?: number;
  allowedTools?: string[];
  disallowedTools?: string[];
  permissionMode?: string;
  includePartialMessages?: boolean;
  appendSystemPrompt?: string;
  resume?: string;
}

export interface SendOptions extends RunOptions {
  /** Correlation id the gateway logs: `^[A-Z0-9_\-]+$`, at most 64 characters. */
  meta?: string;
}

export interface PermissionRequest {
  requestId: string;
  toolName: string;
  input: Record<string, unknown>;
  toolUseId: string | undefined;
}

export interface GatewayErrorInfo {
  code: string;
  message: string;
  retryAfterMs?: number;
}

export interface ClaudeSocketState {
  status: SocketStatus;
  /** The conversation so far, one readable item per message, tool call, notice, … */
  messages: readonly ChatItem[];
  /** What the assistant has said in the current turn (since the last prompt). */
  text: string;
  pendingPermissions: readonly PermissionRequest[];
  lastClose: CloseInfo | null;
  lastError: GatewayErrorInfo | null;
  sessionId: string | null;
  mode: "oneshot" | "interactive" | null;
  /** Position in the gateway's queue while the run waits for a slot. */
  queuePosition: number | null;
}

export interface ClaudeSocketEvents {
  state: ClaudeSocketState;
  frame: { frame: Frame; raw: string };
  permission: PermissionRequest;
  close: CloseInfo;
  error: GatewayErrorInfo;
}

/** The part of the WebSocket API this client uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ClaudeSocketOptions {
  /** `ws(s)://host/ws/claude`. */
  url: string;
  /** A fresh token, called before every connect (tokens are short-lived on purpose). */
  getToken: () => string | Promise<string>;
  /** Backoff for retryable closes; `false` never reconnects. */
  reconnect?: Partial<BackoffOptions> | false;
  /** Opens a socket; defaults to the global WebSocket. */
  createSocket?: (url: string, protocols: string[]) => SocketLike;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  random?: () => number;
}
