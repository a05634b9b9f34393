/**
 * Configuration: environment variables parsed once, at start-up, into one typed object.
 *
 * Every field carries its default and its meaning (`.describe()`), which is also what the
 * README's configuration table says. A bad value throws a ConfigError naming the variable;
 * server.ts turns that into exit code 2.
 */
import { existsSync, statSync, accessSync, constants } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { AuthEnvSchema, toAdmissionConfig, toAuthConfig, type AdmissionConfig, type AuthConfig } from "./auth/config.ts";
import { PolicyEnvSchema, toServerPolicy, type ServerPolicy } from "./claude-policy.ts";
import { ConfigError } from "./errors.ts";

const PROJECT_ROOT = resolve(import.meta.dir, "..");

const DEFAULT_PORT = 3000;
const DEFAULT_HOST = "127.0.0.1"; // loopback until auth exists: nobody else can reach an unauthenticated gateway
const DEFAULT_RUN_TIMEOUT_MS = 300_000;
const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
const DEFAULT_KILL_GRACE_MS = 5_000; // what the official SDKs give the CLI between steps
const DEFAULT_MAX_PROCESSES = 32; // backstop, not a capacity plan: each real CLI takes ~200 MB RSS
const DEFAULT_MAX_PROMPT_BYTES = 8_192;
const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024; // SDKs that raised the 1 MB cap chose 8–50 MB
export const DEFAULT_PASSTHROUGH =
  "PATH,HOME,LANG,LC_ALL,TERM,TMPDIR,ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL,CLAUDE_CODE_OAUTH_TOKEN,CLAUDE_CONFIG_DIR";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const CoreEnvSchema = z.object({
  PORT: int(0, 65_535).default(DEFAULT_PORT).describe("listen port (0 = pick a free one and log it)"),
  HOST: z.string().trim().min(1).default(DEFAULT_HOST).describe("listen address"),
  CLAUDE_BIN: z.string().trim().min(1).optional().describe("the CLI to spawn; default node_modules/.bin/claude, else claude on PATH"),
  CLAUDE_CWD: z.string().trim().min(1).optional().describe("working directory of spawned processes; default the gateway's cwd"),
  RUN_TIMEOUT_MS: int(1).default(DEFAULT_RUN_TIMEOUT_MS).describe("hard limit on one run"),
  IDLE_TIMEOUT_MS: int(0).default(DEFAULT_IDLE_TIMEOUT_MS).describe("stop a run that has printed nothing for this long (0 = off)"),
  KILL_GRACE_MS: int(1, 600_000).default(DEFAULT_KILL_GRACE_MS).describe("wait between the steps of the termination ladder"),
  MAX_PROCESSES: int(1).default(DEFAULT_MAX_PROCESSES).describe("live CLI processes at once; over it, new sockets are refused"),
  MAX_PROMPT_BYTES: int(1, 1_048_576).default(DEFAULT_MAX_PROMPT_BYTES).describe("prompt size limit in UTF-8 bytes"),
  MAX_LINE_BYTES: int(1024, 256 * 1024 * 1024).default(DEFAULT_MAX_LINE_BYTES).describe("longest stdout line relayed"),
  STATE_DIR: z.string().trim().min(1).default(".gateway").describe("where the registry of live process groups is kept"),
  CHILD_ENV_PASSTHROUGH: z
    .string()
    .default(DEFAULT_PASSTHROUGH)
    .transform((s) => s.split(",").map((v) => v.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "names must be environment variable names")))
    .describe("the only variables a child inherits"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info").describe("pino level"),
  STDOUT_VALIDATION: z
    .enum(["structure", "parse"])
    .default("structure")
    .describe("structure: relay {…} lines unparsed (the CLI writes JSON.stringify lines); parse: JSON.parse each and wrap the invalid ones"),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional().describe("if set, GET /metrics needs Authorization: Bearer <this>"),
  METRICS_PORT: int(0, 65_535).optional().describe("if set, /metrics is served on this port (same HOST) instead of the main one"),
});

const EnvSchema = CoreEnvSchema.extend(AuthEnvSchema.shape).extend(PolicyEnvSchema.shape);

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  claudeBin: string;
  claudeCwd: string;
  runTimeoutMs: number;
  idleTimeoutMs: number;
  killGraceMs: number;
  maxProcesses: number;
  maxPromptBytes: number;
  /** Largest client frame accepted: a prompt at its limit, JSON-escaped, plus room for the other fields. */
  maxFrameBytes: number;
  maxLineBytes: number;
  stdoutValidation: "structure" | "parse";
  stateDir: string;
  childEnvPassthrough: string[];
  logLevel: Env["LOG_LEVEL"];
  auth: AuthConfig;
  admission: AdmissionConfig;
  policy: ServerPolicy;
  metricsToken: string | undefined;
  metricsPort: number | undefined;
}

/** The variables and their descriptions, for docs and `--help`-style output. */
export const CONFIG_VARIABLES = Object.entries(EnvSchema.shape).map(([name, schema]) => ({
  name,
  description: schema.description ?? "",
}));

/**
 * Parse the environment into a Config. Throws ConfigError naming the first bad variable.
 * `cwd` is injected so tests need not chdir.
 */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  // Empty strings mean "unset": `PORT= bun server.ts` should not fail on "".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "environment");
    throw new ConfigError(variable, `${issue.message} (got ${JSON.stringify(present[variable] ?? null)})`);
  }
  const e = parsed.data;
  const claudeCwd = resolve(cwd, e.CLAUDE_CWD ?? ".");
  if (!existsSync(claudeCwd) || !statSync(claudeCwd).isDirectory()) {
    throw new ConfigError("CLAUDE_CWD", `not a directory: ${claudeCwd}`);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    claudeBin: resolveClaudeBin(e.CLAUDE_BIN, cwd, present.PATH),
    claudeCwd,
    runTimeoutMs: e.RUN_TIMEOUT_MS,
    idleTimeoutMs: e.IDLE_TIMEOUT_MS,
    killGraceMs: e.KILL_GRACE_MS,
    maxProcesses: e.MAX_PROCESSES,
    maxPromptBytes: e.MAX_PROMPT_BYTES,
    maxFrameBytes: e.MAX_PROMPT_BYTES * 6 + 4096, // worst case: every byte escaped as \uXXXX
    maxLineBytes: e.MAX_LINE_BYTES,
    stdoutValidation: e.STDOUT_VALIDATION,
    stateDir: resolve(cwd, e.STATE_DIR),
    childEnvPassthrough: e.CHILD_ENV_PASSTHROUGH,
    logLevel: e.LOG_LEVEL,
    auth: toAuthConfig(e),
    admission: toAdmissionConfig(e),
    policy: toServerPolicy(e, (p) => resolve(cwd, p), resolve(cwd, e.STATE_DIR)),
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
  };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * An explicit CLAUDE_BIN must exist and be executable (a typo should stop start-up, not fail
 * every run). The default falls back from the project's own install to PATH, and to the bare
 * name `claude` if neither has it: then each run fails with `spawn_failed`, which says why.
 */
function resolveClaudeBin(value: string | undefined, cwd: string, path: string | undefined): string {
  const which = (name: string) => Bun.which(name, path === undefined ? {} : { PATH: path });
  if (value !== undefined) {
    const candidate = value.includes("/") ? (isAbsolute(value) ? value : resolve(cwd, value)) : which(value);
    if (candidate === null || !isExecutable(candidate)) {
      throw new ConfigError("CLAUDE_BIN", `no executable found at ${JSON.stringify(value)}`);
    }
    return candidate;
  }
  const local = join(PROJECT_ROOT, "node_modules", ".bin", "claude");
  if (isExecutable(local)) return local;
  return which("claude") ?? "claude";
}
