/**
 * claude-sim's command line: the subset of the real CLI's flags a gateway uses, accepted in both
 * `--flag=value` and `--flag value` forms, with the real CLI's errors for what it refuses.
 */
export class CliError extends Error {}

export interface SimOptions {
  print: boolean;
  streamInput: boolean;
  verbose: boolean;
  partial: boolean;
  permissionPromptStdio: boolean;
  model: string;
  maxTurns: number | undefined;
  maxBudgetUsd: number | undefined;
  allowedTools: string[] | undefined;
  disallowedTools: string[];
  permissionMode: string;
  appendSystemPrompt: string | undefined;
  resume: string | undefined;
  sessionId: string | undefined;
  prompt: string | undefined;
}

const VALUE_FLAGS = new Set([
  "--output-format", "--input-format", "--model", "--max-turns", "--max-budget-usd", "--allowedTools", "--allowed-tools",
  "--disallowedTools", "--disallowed-tools", "--permission-mode", "--permission-prompt-tool", "--append-system-prompt",
  "--resume", "--session-id", "--tools", "--add-dir", "--mcp-config",
]);
const BOOL_FLAGS = new Set(["-p", "--print", "--verbose", "--include-partial-messages", "--strict-mcp-config", "--no-session-persistence", "--fork-session"]);
const ALIASES: Record<string, string> = { "--allowed-tools": "--allowedTools", "--disallowed-tools": "--disallowedTools" };
const PERMISSION_MODES = new Set(["acceptEdits", "auto", "bypassPermissions", "default", "manual", "dontAsk", "plan"]);

export function parseCli(argv: string[]): SimOptions {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (BOOL_FLAGS.has(name)) flags.add(name);
    else if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new CliError(`error: option '${name} <value>' argument missing`);
      values.set(ALIASES[name] ?? name, value);
    } else throw new CliError(`error: unknown option '${name}'`);
  }
  const print = flags.has("-p") || flags.has("--print");
  const verbose = flags.has("--verbose");
  const output = values.get("--output-format") ?? "text";
  const input = values.get("--input-format") ?? "text";
  if (!print) throw new CliError("claude-sim only runs in print mode (-p)");
  if (output !== "stream-json") throw new CliError("claude-sim only writes --output-format=stream-json");
  if (!verbose) throw new CliError("Error: When using --print, --output-format=stream-json requires --verbose");
  if (input !== "text" && input !== "stream-json") throw new CliError(`error: option '--input-format <format>' argument '${input}' is invalid.`);
  const permissionMode = values.get("--permission-mode") ?? "default";
  if (!PERMISSION_MODES.has(permissionMode)) throw new CliError(`error: option '--permission-mode <mode>' argument '${permissionMode}' is invalid.`);
  const tool = values.get("--permission-prompt-tool");
  if (tool !== undefined && tool !== "stdio") throw new CliError(`Error: MCP tool ${tool} (passed via --permission-prompt-tool) not found.`);
  if (tool === "stdio" && input !== "stream-json") throw new CliError("Error: --permission-prompt-tool=stdio requires --input-format=stream-json");
  const num = (name: string) => {
    const v = values.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new CliError(`error: option '${name}' argument '${v}' is invalid.`);
    return n;
  };
  const list = (name: string) => values.get(name)?.split(/[ ,]+/).filter(Boolean);
  if (input === "text" && positional.length === 0) throw new CliError("Error: Input must be provided either through stdin or as a prompt argument when using --print");
  return {
    print,
    streamInput: input === "stream-json",
    verbose,
    partial: flags.has("--include-partial-messages"),
    permissionPromptStdio: tool === "stdio",
    model: values.get("--model") ?? "claude-sim-1",
    maxTurns: num("--max-turns"),
    maxBudgetUsd: num("--max-budget-usd"),
    allowedTools: list("--allowedTools"),
    disallowedTools: list("--disallowedTools") ?? [],
    permissionMode,
    appendSystemPrompt: values.get("--append-system-prompt"),
    resume: values.get("--resume"),
    sessionId: values.get("--session-id"),
    prompt: positional.join(" ") || undefined,
  };
}
