/**
 * Claude sessions against the simulator: multi-turn, interrupt, approvals, queued follow-ups,
 * resume, option policy and workspace isolation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gateway, ROOT } from "../helpers/gateway.ts";
import { userKey } from "../../websocket/workspace.ts";
import { liveInGroup } from "../helpers/processes.ts";
import type { Frame, TestClient } from "../helpers/ws-client.ts";

const SIM = join(ROOT, "lib", "claude-sim", "claude-sim.ts");
const results = (c: TestClient) => c.frames.filter((f) => f.type === "result");
const texts = (c: TestClient) =>
  c.frames
    .filter((f) => f.type === "assistant")
    .flatMap((f) => ((f.message as { content: Array<{ type: string; text?: string }> }).content ?? []).filter((b) => b.type === "text").map((b) => b.text));

let root: string;
let gw: Gateway;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "gw-ws-"));
  gw = await Gateway.start({
    env: { CLAUDE_BIN: SIM, WORKSPACE_ROOT: root, PERMISSION_PROMPTS: "true", PERMISSION_TIMEOUT_MS: "400", ALLOWED_MODELS: "sim-a,sim-b", MAX_TURNS_CAP: "20", MAX_BUDGET_USD_CAP: "1" },
  });
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
  rmSync(root, { recursive: true, force: true });
});

async function nthResult(c: TestClient, n: number): Promise<Frame> {
  await c.next(() => results(c).length >= n, `result #${n}`);
  return results(c)[n - 1]!;
}

describe("interactive mode", () => {
  test("holds one process for several turns, each ending at its result, until the client closes", async () => {
    const c = await gw.connect({ sub: "alice" });
    c.send({ prompt: "first question", options: { mode: "interactive" } });
    expect((await nthResult(c, 1)).result).toBe("Simulated reply to: first question");
    c.send({ type: "user", prompt: "second question" });
    expect((await nthResult(c, 2)).result).toBe("Simulated reply to: second question");
    expect(c.ofType("gateway.started")).toHaveLength(1);
    expect(c.frames.filter((f) => f.type === "system" && f.subtype === "init")).toHaveLength(2);
    const pid = c.ofType("gateway.started")[0]!.pid as number;
    expect(liveInGroup(pid).length).toBeGreaterThan(0);
    c.ws.close(1000);
    await c.closeResult();
    await gw.waitLog((l) => l.msg === "connection closed" && l.pid === pid);
    expect(liveInGroup(pid)).toEqual([]);
  });

  test("queues follow-ups sent during a turn, in order, and says so", async () => {
    const c = await gw.connect();
    c.send({ prompt: "slow 5", options: { mode: "interactive" } });
    await c.next((f) => f.type === "system" && f.subtype === "init");
    c.send({ type: "user", prompt: "queued one" });
    c.send({ type: "user", prompt: "queued two" });
    await c.next((f) => f.type === "gateway.followup_queued" && f.position === 2, "the second follow-up to be queued");
    expect(c.ofType("gateway.followup_queued").map((f) => f.position)).toEqual([1, 2]);
    const r3 = await nthResult(c, 3);
    expect(results(c).map((r) => r.result)).toEqual(["chunk 1. chunk 2. chunk 3. chunk 4. chunk 5.", "Simulated reply to: queued one", "Simulated reply to: queued two"]);
    expect(r3.is_error).toBe(false);
    c.ws.close();
  });

  test("interrupts a long turn: the control_response is relayed and the turn ends early", async () => {
    const c = await gw.connect();
    c.send({ prompt: "slow 50", options: { mode: "interactive", includePartialMessages: true } });
    await c.next((f) => f.type === "stream_event" && (f.event as { type: string }).type === "content_block_delta", "the first delta");
    c.send({ type: "interrupt" });
    const response = await c.next((f) => f.type === "control_response", "the interrupt's control_response");
    expect((response.response as { subtype: string }).subtype).toBe("success");
    const r = await nthResult(c, 1);
    expect(r).toMatchObject({ subtype: "error_during_execution", is_error: true });
    const deltas = c.frames.filter((f) => f.type === "stream_event" && (f.event as { type: string }).type === "content_block_delta");
    expect(deltas.length).toBeLessThan(50);
    c.ws.close();
  });

  test("refuses follow-ups and interrupts on a one-shot run without closing", async () => {
    const c = await gw.connect();
    c.send({ prompt: "slow 3" });
    await c.next((f) => f.type === "gateway.started");
    c.send({ type: "user", prompt: "more" });
    c.send({ type: "interrupt" });
    await c.next((f) => f.type === "gateway.error" && f.code === "not_interactive");
    expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
    expect(c.ofType("gateway.error").every((f) => f.code === "not_interactive")).toBe(true);
  });
});

describe("tool approvals", () => {
  test("approve one tool call and deny another: each answer reaches the CLI", async () => {
    const c = await gw.connect();
    c.send({ prompt: "tools 2" });
    const first = await c.next((f) => f.type === "control_request", "the first permission request");
    const req1 = first.request_id as string;
    expect((first.request as { subtype: string; tool_name: string }).tool_name).toBe("Bash");
    c.send({ type: "permission", requestId: req1, behavior: "allow", updatedInput: { command: "ls -1" } });
    const second = await c.next((f) => f.type === "control_request" && f.request_id !== req1, "the second request");
    c.send({ type: "permission", requestId: second.request_id, behavior: "deny", message: "not today" });
    expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
    const toolResults = c.frames.filter((f) => f.type === "user").map((f) => (f.message as { content: Array<{ is_error: boolean; content: string }> }).content[0]!);
    expect(toolResults[0]).toMatchObject({ is_error: false });
    expect(toolResults[0]!.content).toContain("$ ls -1"); // the updated input was used
    expect(toolResults[1]).toMatchObject({ is_error: true });
    expect(toolResults[1]!.content).toContain("not today");
    expect(c.ofType("gateway.permission_resolved").map((f) => [f.behavior, f.by])).toEqual([["allow", "client"], ["deny", "client"]]);
    expect(results(c)[0]!.permission_denials).toHaveLength(1);
  });

  test("denies an unanswered request after PERMISSION_TIMEOUT_MS", async () => {
    const c = await gw.connect();
    c.send({ prompt: "tool" });
    const req = await c.next((f) => f.type === "control_request");
    const resolved = await c.next((f) => f.type === "gateway.permission_resolved");
    expect(resolved).toMatchObject({ requestId: req.request_id, behavior: "deny", by: "timeout" });
    expect((await c.closeResult()).code).toBe(1000);
  });

  test("refuses answers for unknown or already-answered requests, and the run goes on", async () => {
    const c = await gw.connect();
    c.send({ prompt: "tool" });
    const req = await c.next((f) => f.type === "control_request");
    c.send({ type: "permission", requestId: "nope", behavior: "allow" });
    await c.next((f) => f.type === "gateway.error" && f.code === "unknown_request");
    c.send({ type: "permission", requestId: req.request_id, behavior: "allow" });
    c.send({ type: "permission", requestId: req.request_id, behavior: "deny" });
    await c.next((f) => f.type === "gateway.error" && f.code === "unknown_request" && String(f.message).includes(String(req.request_id)));
    expect((await c.closeResult()).code).toBe(1000);
  });

  test("a disconnect with a request pending stops the run and leaves no process", async () => {
    const c = await gw.connect();
    c.send({ prompt: "tool", options: { mode: "interactive" } });
    await c.next((f) => f.type === "control_request");
    const pid = c.ofType("gateway.started")[0]!.pid as number;
    c.ws.close();
    const closed = await gw.waitLog((l) => l.msg === "connection closed" && l.pid === pid);
    expect(closed.outcome).toBe("client_closed");
    expect(liveInGroup(pid)).toEqual([]);
    await gw.waitLog((l) => l.msg === "permission resolved" && l.by === "disconnect");
  });
});

describe("resume", () => {
  test("a user may resume a session they created, and nobody else may", async () => {
    const a = await gw.connect({ sub: "owner" });
    a.send({ prompt: "remember 42" });
    await a.closeResult();
    const exit = a.frames.at(-1)!;
    const sessionId = (exit.summary as { sessionId: string }).sessionId;
    expect(exit.summary).toMatchObject({ isError: false, numTurns: 1, totalCostUsd: expect.any(Number), durationMs: expect.any(Number) });

    const again = await gw.connect({ sub: "owner" });
    again.send({ prompt: "what was it?", options: { resume: sessionId } });
    expect((await again.closeResult()).code).toBe(1000);
    expect(again.frames.find((f) => f.type === "system")).toMatchObject({ session_id: sessionId });

    const thief = await gw.connect({ sub: "mallory" });
    thief.send({ prompt: "what was it?", options: { resume: sessionId } });
    expect(await thief.closeResult()).toEqual({ code: 4403, reason: "forbidden" });
    expect(thief.ofType("gateway.started")).toEqual([]);
  });

  test("a resume the CLI itself rejects (its transcript is gone) ends as a failed run that says why", async () => {
    const a = await gw.connect({ sub: "forgetful" });
    a.send({ prompt: "remember" });
    await a.closeResult();
    const sessionId = (a.frames.at(-1)!.summary as { sessionId: string }).sessionId;
    rmSync(join(root, ".claude-config"), { recursive: true, force: true }); // transcripts lost
    const again = await gw.connect({ sub: "forgetful" });
    again.send({ prompt: "again", options: { resume: sessionId } });
    expect(await again.closeResult()).toEqual({ code: 1011, reason: "failed" });
    expect(again.ofType("gateway.stderr").map((f) => f.line)).toContain(`No conversation found with session ID: ${sessionId}`);
    expect(again.frames.at(-1)).toMatchObject({ type: "gateway.exit", code: 1, summary: { isError: true } });
  });

  test("an unknown session id is refused before anything runs", async () => {
    const c = await gw.connect();
    c.send({ prompt: "hi", options: { resume: "00000000-0000-4000-8000-000000000099" } });
    expect(await c.closeResult()).toEqual({ code: 4403, reason: "forbidden" });
  });
});

describe("option policy", () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown> | undefined, string]> = [
    ["a model off the server list", { model: "opus" }, undefined, "options.model"],
    ["a model the token does not allow", { model: "sim-b" }, { models: ["sim-a"] }, "options.model"],
    ["more turns than the server cap", { maxTurns: 21 }, undefined, "options.maxTurns"],
    ["a budget over the token's cap", { maxBudgetUsd: 0.5 }, { maxBudgetUsd: 0.1 }, "options.maxBudgetUsd"],
    ["a pre-approved tool", { allowedTools: ["Bash"] }, undefined, "options.allowedTools"],
    ["bypassPermissions", { permissionMode: "bypassPermissions" }, undefined, "options.permissionMode"],
    ["interactive mode the token forbids", { mode: "interactive" }, { interactive: false }, "options.mode"],
  ];
  for (const [what, options, claude, named] of cases) {
    test(`refuses ${what} with option_not_allowed and 1008`, async () => {
      const c = await gw.connect({ claims: claude && { claude } });
      c.send({ prompt: "hi", options });
      const err = await c.next((f) => f.type === "gateway.error");
      expect(err.code).toBe("option_not_allowed");
      expect(String(err.message)).toStartWith(named);
      expect(await c.closeResult()).toEqual({ code: 1008, reason: "invalid_message" });
      expect(c.ofType("gateway.started")).toEqual([]);
    });
  }

  test("an unknown option is a schema error, not a flag", async () => {
    const c = await gw.connect();
    c.send({ prompt: "hi", options: { dangerouslySkipPermissions: true } });
    expect(await c.closeResult()).toEqual({ code: 1008, reason: "invalid_message" });
  });

  test("allowed options reach the CLI as flags", async () => {
    const c = await gw.connect({ claims: { claude: { models: ["sim-b"] } } });
    c.send({ prompt: "hi", options: { model: "sim-b", maxTurns: 3, includePartialMessages: true } });
    expect((await c.closeResult()).code).toBe(1000);
    expect(c.frames.find((f) => f.type === "system")).toMatchObject({ model: "sim-b" });
    expect(c.frames.some((f) => f.type === "stream_event")).toBe(true);
  });
});

describe("workspaces", () => {
  test("each user works in their own directory under WORKSPACE_ROOT, with their own transcripts", async () => {
    const cwdOf = async (sub: string) => {
      const c = await gw.connect({ sub });
      c.send({ prompt: "where am I" });
      await c.closeResult();
      return c.frames.find((f) => f.type === "system")!.cwd as string;
    };
    const a = await cwdOf("ws-alice");
    const b = await cwdOf("ws-bob");
    expect(a).not.toBe(b);
    expect(a.startsWith(root)).toBe(true);
    expect(b.startsWith(root)).toBe(true);
    expect(a).not.toContain("ws-alice"); // derived from sub, not the sub itself
    // Each user's transcripts are under their own config dir, next to (not inside) their workspace.
    const transcripts = (sub: string) => readdirSync(join(root, ".claude-config", userKey(sub), "projects"), { recursive: true }).map(String).filter((f) => f.endsWith(".jsonl"));
    expect(transcripts("ws-alice")).toHaveLength(1);
    expect(transcripts("ws-bob")).toHaveLength(1);
    expect(transcripts("ws-alice")).not.toEqual(transcripts("ws-bob"));
  });

  test("a token may name a workspace inside the root, never outside it", async () => {
    const inside = await gw.connect({ claims: { claude: { workspace: "team-a/project" } } });
    inside.send({ prompt: "where am I" });
    await inside.closeResult();
    expect(inside.frames.find((f) => f.type === "system")!.cwd).toBe(join(root, "team-a", "project"));

    const outside = await gw.connect({ claims: { claude: { workspace: "../../etc" } } });
    outside.send({ prompt: "where am I" });
    expect(await outside.closeResult()).toEqual({ code: 4403, reason: "forbidden" });
  });
});
