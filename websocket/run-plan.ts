/**
 * From a validated prompt frame and the user's effective policy to the CLI's argv.
 *
 * Every client option becomes one `--flag=value` entry (a value starting with `-` can then never
 * be read as a flag), and only the options listed here exist: nothing a client sends can add a
 * flag of its own. Anything outside the policy is refused with `option_not_allowed` naming it.
 */
import type { EffectivePolicy } from "../lib/claude-policy.ts";
import { GatewayError } from "../lib/errors.ts";
import type { RunOptions } from "./schemas.ts";

export interface RunPlan {
  argv: string[];
  /** Multi-turn conversation over stdin. */
  interactive: boolean;
  /** stdin carries stream-json (interactive, or approvals from the page). */
  streamInput: boolean;
  permissionPrompts: boolean;
}

const refuse = (option: string, why: string) => new GatewayError("option_not_allowed", `options.${option}: ${why}`);

export function planRun(bin: string, prompt: string, options: RunOptions = {}, policy: EffectivePolicy): RunPlan {
  const flags: string[] = [];
  const interactive = options.mode === "interactive";
  if (interactive && !policy.interactive) throw refuse("mode", "interactive mode is not allowed");

  if (options.model !== undefined) {
    if (policy.models !== undefined && !policy.models.includes(options.model)) throw refuse("model", `${JSON.stringify(options.model)} is not allowed`);
    flags.push(`--model=${options.model}`);
  } else if (policy.models !== undefined) {
    // The CLI's own default might not be on the list: pick the first allowed model.
    if (policy.models.length === 0) throw refuse("model", "no model is allowed");
    flags.push(`--model=${policy.models[0]}`);
  }

  const maxTurns = options.maxTurns ?? policy.maxTurns;
  if (maxTurns > policy.maxTurns) throw refuse("maxTurns", `at most ${policy.maxTurns}`);
  flags.push(`--max-turns=${maxTurns}`);

  const budget = options.maxBudgetUsd ?? policy.maxBudgetUsd;
  if (budget !== undefined) {
    if (policy.maxBudgetUsd !== undefined && budget > policy.maxBudgetUsd) throw refuse("maxBudgetUsd", `at most ${policy.maxBudgetUsd}`);
    flags.push(`--max-budget-usd=${budget}`);
  }

  if (options.allowedTools !== undefined && options.allowedTools.length > 0) {
    const denied = options.allowedTools.filter((t) => !policy.tools.includes(t));
    if (denied.length > 0) throw refuse("allowedTools", `${denied.join(", ")} may not be pre-approved`);
    flags.push(`--allowedTools=${options.allowedTools.join(",")}`);
  }
  if (options.disallowedTools !== undefined && options.disallowedTools.length > 0) {
    flags.push(`--disallowedTools=${options.disallowedTools.join(",")}`); // only ever narrows
  }

  if (options.permissionMode !== undefined) {
    if (!policy.permissionModes.includes(options.permissionMode)) throw refuse("permissionMode", `${options.permissionMode} is not allowed`);
    flags.push(`--permission-mode=${options.permissionMode}`);
  }
  if (options.includePartialMessages === true) flags.push("--include-partial-messages");
  if (options.appendSystemPrompt !== undefined) flags.push(`--append-system-prompt=${options.appendSystemPrompt}`);
  // Ownership of the session is checked by the caller (it needs the session registry).
  if (options.resume !== undefined) flags.push(`--resume=${options.resume}`);

  const permissionPrompts = policy.permissionPrompts;
  if (permissionPrompts) flags.push("--permission-prompt-tool=stdio");
  const streamInput = interactive || permissionPrompts;
  const tail = streamInput ? ["--input-format=stream-json"] : ["--", prompt];
  return { argv: [bin, "-p", "--output-format", "stream-json", "--verbose", ...flags, ...tail], interactive, streamInput, permissionPrompts };
}
