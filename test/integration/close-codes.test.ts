/**
 * Every row of the close-code table, each checked against the OS process table afterwards.
 * (1001 shutdown is in lifecycle.test.ts: it needs a gateway of its own to stop.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAKE_CLAUDE, Gateway } from "../helpers/gateway.ts";
import { liveInGroup } from "../helpers/processes.ts";
import { waitFor } from "../helpers/wait.ts";
import type { TestClient } from "../helpers/ws-client.ts";

let gw: Gateway;
beforeAll(async () => {
  gw = await Gateway.start({ env: { MAX_PROMPT_BYTES: "1000" } });
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

async function refused(client: TestClient, code: string, close: { code: number; reason: string }): Promise<void> {
  const err = await client.next((f) => f.type === "gateway.error", "an error frame");
  expect(err.code).toBe(code);
  expect(typeof err.message).toBe("string");
  expect(await client.closeResult()).toEqual(close);
  expect(client.ofType("gateway.started")).toEqual([]);
}

/** The run's group, from its started frame, has no live process left. */
async function groupGone(client: TestClient): Promise<void> {
  const pid = client.frames.find((f) => f.type === "gateway.started")!.pid as number;
  await waitFor(() => liveInGroup(pid).length === 0, `group ${pid} to be gone`);
}

describe("close codes", () => {
  test("1000 completed: the CLI exited 0", async () => {
    const c = await gw.connect();
    c.send({ prompt: "echo hi" });
    expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
    expect(c.frames.find((f) => f.type === "result")).toMatchObject({ result: "echo: echo hi" });
    await groupGone(c);
  });

  test("1003 unsupported_data: a binary frame", async () => {
    const c = await gw.connect();
    c.ws.send(new Uint8Array([1, 2, 3]));
    await refused(c, "unsupported_data", { code: 1003, reason: "unsupported_data" });
  });

  const invalid: Array<[string, string, string]> = [
    ["invalid JSON", "{prompt:", "invalid_json"],
    ["a frame that is not an object", "[1,2]", "invalid_message"],
    ["a missing prompt", JSON.stringify({ meta: "X" }), "invalid_message"],
    ["an empty prompt", JSON.stringify({ prompt: "" }), "invalid_message"],
    ["an unknown field", JSON.stringify({ prompt: "hi", promt: "typo" }), "invalid_message"],
    ["a wrong type", JSON.stringify({ type: "shell", prompt: "hi" }), "invalid_message"],
    ["a lowercase meta", JSON.stringify({ prompt: "hi", meta: "task-1" }), "invalid_message"],
    ["a meta over 64 characters", JSON.stringify({ prompt: "hi", meta: "A".repeat(65) }), "invalid_message"],
  ];
  for (const [what, frame, code] of invalid) {
    test(`1008 invalid_message: ${what}`, async () => {
      const c = await gw.connect();
      c.send(frame);
      await refused(c, code, { code: 1008, reason: "invalid_message" });
    });
  }

  test("1009 message_too_big: a prompt over MAX_PROMPT_BYTES counted in UTF-8 bytes", async () => {
    const c = await gw.connect();
    c.send({ prompt: "é".repeat(501) }); // 501 characters, 1002 bytes
    await refused(c, "prompt_too_large", { code: 1009, reason: "message_too_big" });
  });

  test("1009 message_too_big: a frame over the frame limit", async () => {
    const c = await gw.connect();
    const hello = await c.next((f) => f.type === "gateway.hello");
    const max = (hello.limits as { maxFrameBytes: number }).maxFrameBytes;
    c.send({ prompt: "x", pad: "y".repeat(max) });
    await refused(c, "message_too_big", { code: 1009, reason: "message_too_big" });
  });

  test("1009: a frame far over the limit is cut off by the server before it is read", async () => {
    const c = await gw.connect();
    const hello = await c.next((f) => f.type === "gateway.hello");
    const max = (hello.limits as { maxFrameBytes: number }).maxFrameBytes;
    c.send("x".repeat(max * 5));
    expect((await c.closeResult()).code).toBe(1009);
  });

  test("1011 failed: the CLI exited non-zero", async () => {
    const c = await gw.connect();
    c.send({ prompt: "exit 3" });
    expect(await c.closeResult()).toEqual({ code: 1011, reason: "failed" });
    expect(c.frames.at(-1)).toMatchObject({ type: "gateway.exit", code: 3, signal: null, reason: "failed" });
    expect(c.frames.some((f) => f.type === "exiting")).toBe(true);
    await groupGone(c);
  });

  test("1011 failed: the CLI was killed by a signal", async () => {
    const c = await gw.connect();
    c.send({ prompt: "crash" });
    expect(await c.closeResult()).toEqual({ code: 1011, reason: "failed" });
    expect(c.frames.at(-1)).toMatchObject({ type: "gateway.exit", code: null, signal: "SIGKILL", reason: "failed" });
    await groupGone(c);
  });
});

describe("close codes that need their own configuration", () => {
  test("1011 spawn_failed: the CLI cannot be executed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-bin-"));
    const bin = join(dir, "claude");
    copyFileSync(FAKE_CLAUDE, bin);
    chmodSync(bin, 0o755);
    await using g = await Gateway.start({ env: { CLAUDE_BIN: bin } });
    chmodSync(bin, 0o644); // it was executable at start-up; it is not any more
    const c = await g.connect();
    c.send({ prompt: "hi" });
    await refused(c, "spawn_failed", { code: 1011, reason: "spawn_failed" });
    expect(c.frames.at(-1)).toMatchObject({ type: "gateway.exit", reason: "spawn_failed", code: null });
    expect(((await (await fetch(`${g.http}/health`)).json()) as { processes: number }).processes).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  test("1011 timeout: the run exceeded RUN_TIMEOUT_MS", async () => {
    await using g = await Gateway.start({ env: { RUN_TIMEOUT_MS: "400" } });
    const c = await g.connect();
    c.send({ prompt: "hang" });
    expect(await c.closeResult()).toEqual({ code: 1011, reason: "timeout" });
    expect(c.frames.at(-1)).toMatchObject({ type: "gateway.exit", reason: "timeout", signal: "SIGTERM" });
    expect(c.frames.some((f) => f.type === "fake.ready")).toBe(true);
    await groupGone(c);
  });

  test("1011 idle_timeout: the CLI printed nothing for IDLE_TIMEOUT_MS", async () => {
    await using g = await Gateway.start({ env: { IDLE_TIMEOUT_MS: "400" } });
    const c = await g.connect();
    c.send({ prompt: "hang" });
    expect(await c.closeResult()).toEqual({ code: 1011, reason: "idle_timeout" });
    expect(c.frames.at(-1)).toMatchObject({ type: "gateway.exit", reason: "idle_timeout", signal: "SIGTERM" });
    await groupGone(c);
  });

  test("1013 try_again_later: MAX_PROCESSES reached and no room to queue", async () => {
    await using g = await Gateway.start({ env: { MAX_PROCESSES: "1", QUEUE_LIMIT: "0" } });
    const first = await g.connect();
    first.send({ prompt: "hang" });
    await first.next((f) => f.type === "fake.ready", "the first run");
    const late = await g.connect();
    late.send({ prompt: "count 1" });
    await refused(late, "try_again_later", { code: 1013, reason: "try_again_later" });
    first.ws.close();
    await groupGone(first);
    // The slot is free again.
    const again = await g.connect();
    again.send({ prompt: "count 1" });
    expect((await again.closeResult()).code).toBe(1000);
  });

  test("a run's slot is free before its close frame: reconnecting at once is admitted", async () => {
    await using g = await Gateway.start({ env: { MAX_PROCESSES: "1" } });
    for (let i = 0; i < 5; i++) {
      const c = await g.connect();
      c.send({ prompt: "count 2" });
      expect((await c.closeResult()).code).toBe(1000);
    }
  });
});
