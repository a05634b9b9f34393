/**
 * Stop triggers and cleanup: whatever ends a run, no process of its group is left in the OS
 * process table, and the client learns what happened when it is still there to learn it.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gateway } from "../helpers/gateway.ts";
import { anyAlive, liveInGroup } from "../helpers/processes.ts";
import { waitFor, within } from "../helpers/wait.ts";
import type { TestClient } from "../helpers/ws-client.ts";

async function startedPid(c: TestClient): Promise<number> {
  return (await c.next((f) => f.type === "gateway.started", "started")).pid as number;
}

/** A run whose leader ignores SIGTERM and whose group holds two grandchildren, one of them stubborn too. */
async function stubbornRun(g: Gateway): Promise<{ client: TestClient; pgid: number; pids: number[] }> {
  const client = await g.connect();
  client.send({ prompt: "spawn-grandchildren" });
  const pgid = await startedPid(client);
  const spawned = await client.next((f) => f.type === "fake.spawned", "grandchildren to start");
  const pids = [pgid, ...(spawned.pids as number[])];
  expect(anyAlive(pids).length).toBe(3);
  return { client, pgid, pids };
}

describe("stop triggers", () => {
  test("a clean client close stops the whole group, grandchildren that ignore SIGTERM included", async () => {
    await using g = await Gateway.start();
    const { client, pgid, pids } = await stubbornRun(g);
    client.ws.close(1000, "bye");
    await waitFor(() => liveInGroup(pgid).length === 0 && anyAlive(pids).length === 0, "the group to be gone");
    const closed = await g.waitLog((l) => l.msg === "connection closed" && l.pid === pgid);
    expect(closed).toMatchObject({ outcome: "client_closed", stoppedBy: "sigkill" });
  });

  test("a dropped TCP connection (no close frame) stops the group", async () => {
    await using g = await Gateway.start();
    const client = await g.connect();
    client.send({ prompt: "hang" });
    const pgid = await startedPid(client);
    await client.next((f) => f.type === "fake.ready");
    client.ws.terminate();
    await waitFor(() => liveInGroup(pgid).length === 0, "the group to be gone");
    const closed = await g.waitLog((l) => l.msg === "connection closed" && l.pid === pgid);
    expect(closed).toMatchObject({ outcome: "client_closed", stoppedBy: "sigterm", signal: "SIGTERM" });
  });

  test("a leader that exits on its own has its leftover descendants swept before the exit frame", async () => {
    await using g = await Gateway.start();
    const client = await g.connect();
    client.send({ prompt: "spawn-grandchildren exit" });
    const pgid = await startedPid(client);
    const spawned = await client.next((f) => f.type === "fake.spawned");
    expect(await client.closeResult()).toEqual({ code: 1000, reason: "completed" });
    // The exit frame waited for the stdout holder to go, so by now nothing is left.
    expect(anyAlive(spawned.pids as number[])).toEqual([]);
    expect(liveInGroup(pgid)).toEqual([]);
  });

  test("the run timeout escalates to SIGKILL for a CLI that ignores SIGTERM", async () => {
    await using g = await Gateway.start({ env: { RUN_TIMEOUT_MS: "300" } });
    const client = await g.connect();
    client.send({ prompt: "ignore-sigterm" });
    const pgid = await startedPid(client);
    expect(await client.closeResult()).toEqual({ code: 1011, reason: "timeout" });
    expect(client.frames.at(-1)).toMatchObject({ type: "gateway.exit", reason: "timeout", signal: "SIGKILL" });
    expect(liveInGroup(pgid)).toEqual([]);
  });

  test("gateway shutdown (SIGTERM) sends exit + 1001 on every socket, stops every group and exits 0", async () => {
    const g = await Gateway.start();
    try {
      const runs = await Promise.all([stubbornRun(g), stubbornRun(g)]);
      const idle = await g.connect();
      await idle.next((f) => f.type === "gateway.hello");
      const exitCode = g.stop();
      for (const { client } of runs) {
        expect(await client.closeResult()).toEqual({ code: 1001, reason: "shutdown" });
        const exit = client.frames.at(-1)!;
        expect(exit).toMatchObject({ type: "gateway.exit", reason: "shutdown" });
      }
      expect(await idle.closeResult()).toEqual({ code: 1001, reason: "shutdown" });
      expect(await exitCode).toBe(0);
      for (const { pgid, pids } of runs) {
        expect(liveInGroup(pgid)).toEqual([]);
        expect(anyAlive(pids)).toEqual([]);
      }
      expect(readdirSync(join(g.stateDir, "groups"))).toEqual([]);
    } finally {
      await g[Symbol.asyncDispose]();
    }
  });

  test("SIGINT shuts down the same way", async () => {
    await using g = await Gateway.start();
    const client = await g.connect();
    client.send({ prompt: "hang" });
    const pgid = await startedPid(client);
    g.proc.kill("SIGINT");
    expect(await client.closeResult()).toEqual({ code: 1001, reason: "shutdown" });
    expect(await within(g.exited, "exit")).toBe(0);
    expect(liveInGroup(pgid)).toEqual([]);
  });
});

describe("a gateway that crashed", () => {
  test("leaves its groups recorded, and the next gateway on the same STATE_DIR reaps them", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "gw-crash-"));
    try {
      const first = await Gateway.start({ stateDir });
      const a = await stubbornRun(first);
      const b = await stubbornRun(first);
      first.proc.kill("SIGKILL");
      await first.exited;
      // The CLI processes outlive a SIGKILLed gateway: they are in their own sessions.
      expect(anyAlive([...a.pids, ...b.pids]).length).toBe(6);
      expect(readdirSync(join(stateDir, "groups")).sort()).toEqual([`${a.pgid}.json`, `${b.pgid}.json`].sort());

      await using second = await Gateway.start({ stateDir });
      expect(anyAlive([...a.pids, ...b.pids])).toEqual([]);
      const reaped = second.logs.filter((l) => l.msg === "reaped orphaned process group").map((l) => l.pgid);
      expect(reaped.sort()).toEqual([a.pgid, b.pgid].sort());
      expect(readdirSync(join(stateDir, "groups"))).toEqual([]);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe("back-pressure", () => {
  test("a slow reader gets every line in order while gateway memory stays bounded", async () => {
    await using g = await Gateway.start({ env: { LOG_LEVEL: "info" } });
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(require("node:fs").readFileSync(`/proc/${g.proc.pid}/status`, "utf8"))![1]) * 1024;
    const client = await g.connect();
    await client.next((f) => f.type === "gateway.hello");
    const before = rss();
    const MB = 64;
    let seq = 0;
    let peak = before;
    let outOfOrder = 0;
    client.ws.addEventListener("message", (e) => {
      const text = e.data as string;
      if (!text.startsWith('{"type":"flood"')) return;
      const n = Number((JSON.parse(text) as { seq: string }).seq);
      if (n !== seq) outOfOrder++;
      seq = n + 1;
      // The workload is a slow reader: every 2 MB it stops reading for a moment.
      if (seq % 2048 === 0) {
        client.ws.pause();
        peak = Math.max(peak, rss());
        setTimeout(() => client.ws.resume(), 25);
      }
    });
    // Keep frames out of the recorder: 64k of them would only cost test memory.
    client.frames.length = 0;
    client.send({ prompt: `flood ${MB}` });
    const closed = await client.closeResult(120_000);
    expect(closed.code).toBe(1000);
    expect(outOfOrder).toBe(0);
    expect(seq).toBe(MB * 1024);
    expect(client.frames.find((f) => f.type === "flood.done")).toMatchObject({ lines: MB * 1024 });
    // The CLI printed 64 MB far faster than it was read: without back-pressure it would all be
    // buffered in the gateway. The bound is the socket buffer limit plus allocator slack.
    console.log(`slow reader: gateway RSS ${(before / 1048576).toFixed(1)} MB before, peak +${((peak - before) / 1048576).toFixed(1)} MB`);
    expect(peak - before).toBeLessThan(48 * 1024 * 1024);
  });
});

describe("start-up", () => {
  const bad: Array<[string, string]> = [
    ["PORT", "eighty"],
    ["RUN_TIMEOUT_MS", "-5"],
    ["MAX_PROCESSES", "0"],
    ["LOG_LEVEL", "loud"],
    ["CLAUDE_BIN", "/nonexistent/claude"],
    ["CLAUDE_CWD", "/nonexistent/dir"],
  ];
  for (const [name, value] of bad) {
    test(`a bad ${name} stops start-up with exit 2 and a message naming it`, async () => {
      const proc = Bun.spawn([process.execPath, "server.ts"], {
        cwd: join(import.meta.dir, "..", ".."),
        env: { PATH: process.env.PATH ?? "", PORT: "0", STATE_DIR: tmpdir(), [name]: value },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(await within(proc.exited, "exit")).toBe(2);
      expect(await new Response(proc.stderr).text()).toContain(name);
    });
  }
});
