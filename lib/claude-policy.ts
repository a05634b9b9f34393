/**
 * What a client may ask of the CLI: the server's policy (environment, parsed once) narrowed per
 * user by an optional `claude` claim in the token. The gateway never widens what the server allows.
 */
import { z } from "zod";

const DEFAULT_MAX_TURNS_CAP = 100;
const DEFAULT_PERMISSION_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_QUEUED_FOLLOWUPS = 8;
export const PERMISSION_MODES = ["acceptEdits", "auto", "bypassPermissions", "default", "manual", "dontAsk", "plan"] as const;
const DEFAULT_PERMISSION_MODES: Array<(typeof PERMISSION_MODES)[number]> = ["default", "acceptEdits", "plan"]; // bypassPermissions only if the operator says so
export const MAX_APPEND_SYSTEM_PROMPT_BYTES = 4096;

const list = z.string().transform((s) => s.split(",").map((v) => v.trim()).filter(Boolean));
const int = (min: number) => z.string().trim().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min));
const bool = z.string().trim().toLowerCase().pipe(z.enum(["true", "false", "1", "0"])).transform((v) => v === "true" || v === "1");

export const PolicyEnvSchema = z.object({
  ALLOWED_MODELS: list.optional().describe("models a client may pick (unset: any)"),
  ALLOWED_TOOLS: list.default([]).describe("tools a client may pre-approve with allowedTools (default: none)"),
  MAX_TURNS_CAP: int(1).default(DEFAULT_MAX_TURNS_CAP).describe("highest maxTurns a client may ask for; also the default"),
  MAX_BUDGET_USD_CAP: z.string().trim().regex(/^\d+(\.\d+)?$/, "must be a number of US dollars").transform(Number).optional().describe("highest maxBudgetUsd; also the default (unset: no cap)"),
  ALLOWED_PERMISSION_MODES: list.pipe(z.array(z.enum(PERMISSION_MODES))).default(DEFAULT_PERMISSION_MODES).describe("permission modes a client may pick"),
  ALLOW_INTERACTIVE: bool.default(true).describe("allow options.mode=interactive"),
  PERMISSION_PROMPTS: bool.default(false).describe("run the CLI with --permission-prompt-tool=stdio: tool calls are approved from the page"),
  PERMISSION_TIMEOUT_MS: int(1).default(DEFAULT_PERMISSION_TIMEOUT_MS).describe("unanswered permission requests are denied after this long"),
  MAX_QUEUED_FOLLOWUPS: int(0).default(DEFAULT_MAX_QUEUED_FOLLOWUPS).describe("follow-ups held while a turn runs"),
  WORKSPACE_ROOT: z.string().trim().min(1).optional().describe("per-user working directories live here (default STATE_DIR/workspaces; 'shared' = everyone in CLAUDE_CWD)"),
});

export type PolicyEnv = z.infer<typeof PolicyEnvSchema>;

export interface ServerPolicy {
  models: string[] | undefined;
  tools: string[];
  maxTurns: number;
  maxBudgetUsd: number | undefined;
  permissionModes: string[];
  interactive: boolean;
  permissionPrompts: boolean;
  permissionTimeoutMs: number;
  maxQueuedFollowups: number;
  /** Absolute path, or null for one shared CLAUDE_CWD. */
  workspaceRoot: string | null;
}

export function toServerPolicy(e: PolicyEnv, resolveDir: (p: string) => string, stateDir: string): ServerPolicy {
  return {
    models: e.ALLOWED_MODELS,
    tools: e.ALLOWED_TOOLS,
    maxTurns: e.MAX_TURNS_CAP,
    maxBudgetUsd: e.MAX_BUDGET_USD_CAP,
    permissionModes: e.ALLOWED_PERMISSION_MODES,
    interactive: e.ALLOW_INTERACTIVE,
    permissionPrompts: e.PERMISSION_PROMPTS,
    permissionTimeoutMs: e.PERMISSION_TIMEOUT_MS,
    maxQueuedFollowups: e.MAX_QUEUED_FOLLOWUPS,
    workspaceRoot: e.WORKSPACE_ROOT === "shared" ? null : resolveDir(e.WORKSPACE_ROOT ?? `${stateDir}/workspaces`),
  };
}

/** The token's optional `claude` claim: each field can only narrow the server's policy. */
export const ClaudeClaimSchema = z
  .object({
    models: z.array(z.string()).optional(),
    tools: z.array(z.string()).optional(),
    maxTurns: z.number().int().positive().optional(),
    maxBudgetUsd: z.number().positive().optional(),
    permissionModes: z.array(z.string()).optional(),
    interactive: z.boolean().optional(),
    permissionPrompts: z.boolean().optional(),
    /** A directory inside WORKSPACE_ROOT, relative to it. */
    workspace: z.string().min(1).max(255).optional(),
  })
  .strict();

export type ClaudeClaim = z.infer<typeof ClaudeClaimSchema>;

export interface EffectivePolicy extends Omit<ServerPolicy, "workspaceRoot"> {
  workspace: string | undefined;
}

/** Server policy ∩ claim. A malformed claim is the app's bug: refuse rather than guess. */
export function narrow(server: ServerPolicy, claim: ClaudeClaim | undefined): EffectivePolicy {
  const c = claim ?? {};
  const within = <T>(allowed: T[] | undefined, asked: T[] | undefined) =>
    asked === undefined ? allowed : allowed === undefined ? asked : asked.filter((v) => allowed.includes(v));
  return {
    models: within(server.models, c.models),
    tools: within(server.tools, c.tools) ?? [],
    maxTurns: Math.min(server.maxTurns, c.maxTurns ?? Infinity),
    maxBudgetUsd: c.maxBudgetUsd === undefined ? server.maxBudgetUsd : Math.min(server.maxBudgetUsd ?? Infinity, c.maxBudgetUsd),
    permissionModes: within(server.permissionModes, c.permissionModes) ?? [],
    interactive: server.interactive && c.interactive !== false,
    permissionPrompts: server.permissionPrompts && c.permissionPrompts !== false,
    permissionTimeoutMs: server.permissionTimeoutMs,
    maxQueuedFollowups: server.maxQueuedFollowups,
    workspace: c.workspace,
  };
}
