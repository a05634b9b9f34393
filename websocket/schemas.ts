/**
 * Wire protocol v1 (`claude.v1`): the zod schemas are the source of truth for what a client
 * may send; the server frame types below are what it gets back. docs/protocol.md mirrors this.
 */
import { z } from "zod";
import type { ExitReason } from "../lib/errors.ts";

export const PROTOCOL = "claude.v1";

export const META_PATTERN = /^[A-Z0-9_\-]+$/;
export const META_MAX_LENGTH = 64;

export interface FrameLimits {
  maxPromptBytes: number;
}

/**
 * `{"prompt":"…","meta":"TASK-123"}`; `type:"prompt"` optional. Unknown keys are refused so a
 * typo (`promt`) is an error, not a silently empty run.
 */
export function promptFrameSchema(limits: FrameLimits) {
  return z
    .object({
      type: z.literal("prompt").optional(),
      prompt: z
        .string()
        .min(1, "prompt must not be empty")
        .superRefine((prompt, ctx) => {
          // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
          if (prompt.length * 3 > limits.maxPromptBytes && Buffer.byteLength(prompt, "utf8") > limits.maxPromptBytes) {
            ctx.addIssue({
              code: "custom",
              message: `prompt is over ${limits.maxPromptBytes} UTF-8 bytes`,
              params: { gatewayCode: "prompt_too_large" },
            });
          }
        }),
      meta: z
        .string()
        .max(META_MAX_LENGTH, `meta must be at most ${META_MAX_LENGTH} characters`)
        .regex(META_PATTERN, "meta must match ^[A-Z0-9_\\-]+$")
        .optional(),
    })
    .strict();
}

export type PromptFrame = z.infer<ReturnType<typeof promptFrameSchema>>;

/**
 * `{"type":"auth","token":"…"}`: the first message when the handshake carried no token, or a
 * fresh token for the same user before the current one expires.
 */
export const authFrameSchema = z
  .object({
    type: z.literal("auth"),
    token: z.string().min(1, "token must not be empty").max(16_384, "token is too long"),
  })
  .strict();

export type AuthFrame = z.infer<typeof authFrameSchema>;

export type ClientFrame = PromptFrame | AuthFrame;

/** What the server sends. Lines from the CLI's stdout are relayed verbatim besides these. */
export type ServerFrame =
  | {
      type: "gateway.hello";
      protocol: typeof PROTOCOL;
      connectionId: string;
      /** "required": send {"type":"auth","token":"…"} first; "ok": the handshake's token was accepted. */
      auth: "required" | "ok";
      limits: { maxPromptBytes: number; maxFrameBytes: number; maxLineBytes: number; runTimeoutMs: number; idleTimeoutMs: number; authTimeoutMs: number };
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
    }
  | { type: "gateway.error"; code: string; message: string; retryAfterMs?: number };
