/**
 * Wire protocol v1 (`claude.v1`): the zod schemas are the source of truth for what a client
 * may send; the server frame types below are what it gets back. docs/protocol.md mirrors this.
 */
import { z } from "zod";
import { MAX_APPEND_SYSTEM_PROMPT_BYTES, PERMISSION_MODES } from "../lib/claude-policy.ts";

export const PROTOCOL = "claude.v1";

export const META_PATTERN = /^[A-Z0-9_\-]+$/;
export const META_MAX_LENGTH = 64;

export interface FrameLimits {
  maxPromptBytes: number;
}

/** A prompt: non-empty, at most maxPromptBytes UTF-8 bytes (else prompt_too_large, 1009). */
function promptText(limits: FrameLimits) {
  return z
    .string()
    .min(1, "prompt must not be empty")
    .superRefine((prompt, ctx) => {
      // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
      if (prompt.length * 3 > limits.maxPromptBytes && Buffer.byteLength(prompt, "utf8") > limits.maxPromptBytes) {
        ctx.addIssue({ code: "custom", message: `prompt is over ${limits.maxPromptBytes} UTF-8 bytes`, params: { gatewayCode: "prompt_too_large" } });
      }
    });
}

const TOOL_NAME = /^[A-Za-z0-9_:*().\-]+$/; // Bash, mcp__server__tool, Bash(git:*)
const toolList = z.array(z.string().min(1).max(200).regex(TOOL_NAME, "tool names are letters, digits and _:*().-")).max(64);

/** What a prompt may ask of the CLI; the server's policy decides what is allowed (run-policy.ts). */
export const runOptionsSchema = z
  .object({
    mode: z.enum(["oneshot", "interactive"]).optional(),
    model: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:\-\[\]]+$/, "model names are letters, digits and ._:-[]").optional(),
    maxTurns: z.number().int().min(1).max(10_000).optional(),
    maxBudgetUsd: z.number().positive().max(10_000).optional(),
    allowedTools: toolList.optional(),
    disallowedTools: toolList.optional(),
    permissionMode: z.enum(PERMISSION_MODES).optional(),
    includePartialMessages: z.boolean().optional(),
    appendSystemPrompt: z
      .string()
      .min(1)
      .refine((s) => Buffer.byteLength(s) <= MAX_APPEND_SYSTEM_PROMPT_BYTES, `appendSystemPrompt is over ${MAX_APPEND_SYSTEM_PROMPT_BYTES} bytes`)
      .optional(),
    resume: z.uuid("resume must be a session id (a UUID)").optional(),
  })
  .strict();

export type RunOptions = z.infer<typeof runOptionsSchema>;

/** `{"type":"user","prompt":"…"}`: a follow-up turn (interactive mode). */
export function userFrameSchema(limits: FrameLimits) {
  return z.object({ type: z.literal("user"), prompt: promptText(limits) }).strict();
}

/** `{"type":"interrupt"}`: stop the running turn (interactive mode). */
export const interruptFrameSchema = z.object({ type: z.literal("interrupt") }).strict();

/** The answer to a `can_use_tool` control request. */
export const permissionFrameSchema = z
  .object({
    type: z.literal("permission"),
    requestId: z.string().min(1).max(200),
    behavior: z.enum(["allow", "deny"]),
    message: z.string().max(2000).optional(),
    updatedInput: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/**
 * `{"prompt":"…","meta":"TASK-123"}`; `type:"prompt"` optional. Unknown keys are refused so a
 * typo (`promt`) is an error, not a silently empty run.
 */
export function promptFrameSchema(limits: FrameLimits) {
  return z
    .object({
      type: z.literal("prompt").optional(),
      prompt: promptText(limits),
      meta: z
        .string()
        .max(META_MAX_LENGTH, `meta must be at most ${META_MAX_LENGTH} characters`)
        .regex(META_PATTERN, "meta must match ^[A-Z0-9_\\-]+$")
        .optional(),
      options: runOptionsSchema.optional(),
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

export type UserFrame = z.infer<ReturnType<typeof userFrameSchema>>;
export type InterruptFrame = z.infer<typeof interruptFrameSchema>;
export type PermissionFrame = z.infer<typeof permissionFrameSchema>;
export type ClientFrame = PromptFrame | AuthFrame | UserFrame | InterruptFrame | PermissionFrame;

export type { RunSummaryFrame, ServerFrame } from "./server-frames.ts";
