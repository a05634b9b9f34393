/**
 * The real Claude Code CLI (the pinned @anthropic-ai/claude-code). Without credentials it answers
 * every prompt with a deterministic "Not logged in" result and exit 1: enough to prove that every
 * flag the gateway builds is accepted, that its stream-json arrives as frames, that stdin never
 * stalls it, and that its group is cleaned up.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Gateway, ROOT } from "../helpers/gateway.ts";
import { liveInGroup } from "../helpers/processes.ts";
import { waitFor } from "../helpers/wait.ts";
import type { TestClient } from "../helpers/ws-client.ts";

const CLAUDE = join(ROOT, "node_modules", ".bin", "claude");

let gw: Gateway;
beforeAll(async () => {
  if (!existsSync(CLAUDE)) throw new Error(`${CLAUDE} is missing: npm install brings @anthropic-ai/claude-code`);
  gw = await Gateway.start({
    // No credentials of any kind may reach it: the run must stay local and deterministic.
    env: { CLAUDE_BIN: CLAUDE, ALLOWED_TOOLS: "Read,Grep", MAX_BUDGET_USD_CAP: "1", ALLOWED_PERMISSION_MODES: "default,plan", KILL_GRACE_MS: "2000" },
  });
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

const ofType = (c: TestClient, type: string, subtype?: string) => c.frames.filter((f) => f.type === type && (subtype === undefined || f.subtype === subtype));

async function groupGone(c: TestClient): Promise<void> {
  const pid = c.ofType("gateway.started")[0]!.pid as number;
  await waitFor(() => liveInGroup(pid).length === 0, `group ${pid} to be gone`);
}

describe("the real CLI", () => {
  test("one-shot with every option flag: init, assistant and result arrive as frames, exit 1, close 1011", async () => {
    const c = await gw.connect();
    c.send({
      prompt: "-p --help; echo hi", // looks like flags: must stay the prompt
      options: {
        model: "claude-sonnet-4-5",
        maxTurns: 2,
        maxBudgetUsd: 0.1,
        allowedTools: ["Read"],
        disallowedTools: ["Bash"],
        permissionMode: "plan",
        includePartialMessages: true,
        appendSystemPrompt: "--be-brief",
      },
    });
    expect(await c.closeResult(30_000)).toEqual({ code: 1011, reason: "failed" });
    expect(ofType(c, "system", "init")).toHaveLength(1);
    expect(ofType(c, "system", "init")[0]).toMatchObject({ model: "claude-sonnet-4-5", permissionMode: "plan" });
    const assistant = ofType(c, "assistant")[0]!;
    expect(JSON.stringify(assistant)).toContain("Not logged in");
    expect(ofType(c, "result")[0]).toMatchObject({ is_error: true });
    expect(c.frames.at(-1)).toMatchObject({ type: "gateway.exit", code: 1, signal: null, reason: "failed", summary: { isError: true, numTurns: 1 } });
    // An unknown flag or a stdin wait would show up on stderr.
    expect(c.ofType("gateway.stderr")).toEqual([]);
    await groupGone(c);
  });

  test("interactive: two turns over stream-json stdin, each with its own init and result", async () => {
    const c = await gw.connect();
    c.send({ prompt: "first", options: { mode: "interactive" } });
    await c.next((f) => f.type === "result", "the first result", 30_000);
    c.send({ type: "user", prompt: "second" });
    await c.next(() => ofType(c, "result").length === 2, "the second result", 30_000);
    expect(ofType(c, "system", "init")).toHaveLength(2);
    expect(c.ofType("gateway.started")).toHaveLength(1);
    c.send({ type: "interrupt" });
    const response = await c.next((f) => f.type === "control_response", "the interrupt's control_response", 30_000);
    expect((response.response as { subtype: string }).subtype).toBe("success");
    c.ws.close(1000);
    await c.closeResult();
    await groupGone(c);
  });

  test("approvals from the page: --permission-prompt-tool=stdio is accepted", async () => {
    await using g = await Gateway.start({ env: { CLAUDE_BIN: CLAUDE, PERMISSION_PROMPTS: "true" } });
    const c = await g.connect();
    c.send({ prompt: "list files" });
    expect(await c.closeResult(30_000)).toEqual({ code: 1011, reason: "failed" });
    expect(ofType(c, "result")[0]).toMatchObject({ is_error: true });
    expect(c.ofType("gateway.stderr")).toEqual([]);
    await groupGone(c);
  });

  test("resuming the user's own session continues the same session id", async () => {
    const first = await gw.connect({ sub: "resumer" });
    first.send({ prompt: "hello" });
    await first.closeResult(30_000);
    const sessionId = (first.frames.at(-1)!.summary as { sessionId: string }).sessionId;
    const again = await gw.connect({ sub: "resumer" });
    again.send({ prompt: "again", options: { resume: sessionId } });
    expect((await again.closeResult(30_000)).code).toBe(1011); // still not logged in
    expect(ofType(again, "system", "init")[0]).toMatchObject({ session_id: sessionId });
    expect(again.ofType("gateway.stderr")).toEqual([]);
  });
});
