/**
 * What the gateway sends, as types only (no runtime imports), so that the browser client
 * (lib/client) shares them rather than keeping a copy. Lines from the CLI's stdout are relayed
 * verbatim besides these.
 */
import type { ExitReason } from "../lib/errors.ts";

/** What `gateway.hello` tells a client it may send. */
export interface GatewayLimits {
  maxPromptBytes: number;
  maxFrameBytes: number;
  maxLineBytes: number;
  runTimeoutMs: number;
  idleTimeoutMs: number;
  authTimeoutMs: number;
}

/** From the run's last `result` line. */
export interface RunSummaryFrame {
  sessionId: string | null;
  isError: boolean;
  totalCostUsd: number | null;
  numTurns: number | null;
  durationMs: number | null;
}

/** What the server sends. Lines from the CLI's stdout are relayed verbatim besides these. */
export type ServerFrame =
  | {
      type: "gateway.hello";
      protocol: "claude.v1";
      connectionId: string;
      /** "required": send {"type":"auth","token":"…"} first; "ok": the handshake's token was accepted; "refused": an error and a close follow. */
      auth: "required" | "ok" | "refused";
      limits: GatewayLimits;
    }
  | { type: "gateway.authenticated"; exp: number }
  | { type: "gateway.queued"; position: number }
  | { type: "gateway.started"; runId: string; pid: number }
  | { type: "gateway.stdout"; line: string }
  | { type: "gateway.stderr"; line: string }
  | { type: "gateway.warning"; code: "line_too_long"; bytes: number }
  | { type: "gateway.warning"; code: "stderr_suppressed"; lines: number }
  | {
      type: "gateway.exit";
      runId: string;
      code: number | null;
      signal: string | null;
      reason: ExitReason;
      durationMs: number;
      summary: RunSummaryFrame | null;
    }
  | { type: "gateway.followup_queued"; position: number }
  | { type: "gateway.permission_resolved"; requestId: string; behavior: "allow" | "deny"; by: "client" | "timeout" | "disconnect" }
  | { type: "gateway.error"; code: string; message: string; retryAfterMs?: number };
