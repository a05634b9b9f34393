import { describe, expect, test } from "bun:test";
import { narrow, PolicyEnvSchema, toServerPolicy, type ClaudeClaim } from "../../lib/claude-policy.ts";
import { GatewayError } from "../../lib/errors.ts";
import { planRun } from "../../websocket/run-plan.ts";
import type { RunOptions } from "../../websocket/schemas.ts";

const BASE = ["/bin/claude", "-p", "--output-format", "stream-json", "--verbose"];

function policy(env: Record<string, string> = {}, claim?: ClaudeClaim) {
  return narrow(toServerPolicy(PolicyEnvSchema.parse(env), (p) => p, "/state"), claim);
}

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("planRun", () => {
  test.each([["hello"], ["--dangerously-skip-permissions"], ["-p"], ["a; rm -rf / #"]])(
    "puts a one-shot prompt %p after -- as one argument",
    (prompt) => {
      expect(planRun("/bin/claude", prompt, undefined, policy()).argv).toEqual([...BASE, "--max-turns=100", "--", prompt]);
    },
  );

  test("turns every option into one --flag=value entry", () => {
    const options: RunOptions = {
      model: "claude-x",
      maxTurns: 3,
      maxBudgetUsd: 0.5,
      allowedTools: ["Read"],
      disallowedTools: ["Bash"],
      permissionMode: "plan",
      includePartialMessages: true,
      appendSystemPrompt: "--be-brief",
      resume: "6f1c2d3e-0000-4000-8000-000000000000",
    };
    const plan = planRun("/bin/claude", "hi", options, policy({ ALLOWED_TOOLS: "Read,Grep" }));
    expect(plan.argv).toEqual([
      ...BASE,
      "--model=claude-x",
      "--max-turns=3",
      "--max-budget-usd=0.5",
      "--allowedTools=Read",
      "--disallowedTools=Bash",
      "--permission-mode=plan",
      "--include-partial-messages",
      "--append-system-prompt=--be-brief",
      "--resume=6f1c2d3e-0000-4000-8000-000000000000",
      "--",
      "hi",
    ]);
  });

  test("interactive mode and approvals read stream-json from stdin and pass no prompt argument", () => {
    const interactive = planRun("/bin/claude", "hi", { mode: "interactive" }, policy());
    expect(interactive).toMatchObject({ interactive: true, streamInput: true, permissionPrompts: false });
    expect(interactive.argv.at(-1)).toBe("--input-format=stream-json");
    expect(interactive.argv).not.toContain("hi");
    const approvals = planRun("/bin/claude", "hi", {}, policy({ PERMISSION_PROMPTS: "true" }));
    expect(approvals).toMatchObject({ interactive: false, streamInput: true, permissionPrompts: true });
    expect(approvals.argv).toContain("--permission-prompt-tool=stdio");
  });

  const refused: Array<[string, RunOptions, Record<string, string>, ClaudeClaim | undefined, string]> = [
    ["a model off the server list", { model: "opus" }, { ALLOWED_MODELS: "sonnet" }, undefined, "options.model"],
    ["a model off the token's list", { model: "opus" }, {}, { models: ["sonnet"] }, "options.model"],
    ["more turns than the cap", { maxTurns: 11 }, { MAX_TURNS_CAP: "10" }, undefined, "options.maxTurns"],
    ["more turns than the token allows", { maxTurns: 6 }, {}, { maxTurns: 5 }, "options.maxTurns"],
    ["a budget over the cap", { maxBudgetUsd: 2 }, { MAX_BUDGET_USD_CAP: "1" }, undefined, "options.maxBudgetUsd"],
    ["a budget over the token's", { maxBudgetUsd: 2 }, { MAX_BUDGET_USD_CAP: "5" }, { maxBudgetUsd: 1 }, "options.maxBudgetUsd"],
    ["pre-approving a tool nobody allowed", { allowedTools: ["Bash"] }, {}, undefined, "options.allowedTools"],
    ["pre-approving a tool the token removes", { allowedTools: ["Bash"] }, { ALLOWED_TOOLS: "Bash,Read" }, { tools: ["Read"] }, "options.allowedTools"],
    ["bypassPermissions by default", { permissionMode: "bypassPermissions" }, {}, undefined, "options.permissionMode"],
    ["interactive mode when off", { mode: "interactive" }, { ALLOW_INTERACTIVE: "false" }, undefined, "options.mode"],
    ["interactive mode the token forbids", { mode: "interactive" }, {}, { interactive: false }, "options.mode"],
  ];
  test.each(refused)("refuses %s with option_not_allowed naming the option", (_what, options, env, claim, named) => {
    const r = refusal(() => planRun("/bin/claude", "hi", options, policy(env, claim)));
    expect(r.code).toBe("option_not_allowed");
    expect(r.message.startsWith(named)).toBe(true);
  });

  test("a token can narrow but never widen the server's policy", () => {
    const p = policy({ ALLOWED_MODELS: "sonnet", MAX_TURNS_CAP: "10", MAX_BUDGET_USD_CAP: "1" }, { models: ["sonnet", "opus"], maxTurns: 50, maxBudgetUsd: 9 });
    expect(p.models).toEqual(["sonnet"]);
    expect(p.maxTurns).toBe(10);
    expect(p.maxBudgetUsd).toBe(1);
  });

  test("with a model list and no model asked for, the first allowed model is passed", () => {
    expect(planRun("/bin/claude", "hi", {}, policy({ ALLOWED_MODELS: "sonnet,haiku" })).argv).toContain("--model=sonnet");
  });

  test("the server's caps are the defaults", () => {
    const argv = planRun("/bin/claude", "hi", {}, policy({ MAX_TURNS_CAP: "7", MAX_BUDGET_USD_CAP: "0.25" })).argv;
    expect(argv).toContain("--max-turns=7");
    expect(argv).toContain("--max-budget-usd=0.25");
  });
});
