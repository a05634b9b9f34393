import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createLogger } from "../../lib/logger.ts";
import { GroupRegistry, type GroupRecord } from "../../websocket/group-registry.ts";
import { anyAlive, liveInGroup } from "../helpers/processes.ts";
import { waitFor, within } from "../helpers/wait.ts";

/** Field 22 of /proc/<pid>/stat, parsed here independently of lib/proc-table.ts. */
function startTimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}

const BOOT_ID = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();

let stateDir: string;
let groupsDir: string;
let children: Subprocess<"pipe", "pipe", "inherit">[];
let logLines: string[];

const log = () => createLogger("warn", { write: (line: string) => void logLines.push(line) });

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), "group-registry-test-"));
  groupsDir = join(stateDir, "groups");
  children = [];
  logLines = [];
});

afterEach(async () => {
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // ESRCH: already gone.
    }
    await within(child.exited, `pid ${child.pid} to exit`);
  }
  rmSync(stateDir, { recursive: true, force: true });
});

/**
 * A detached `sh -c script` (its own process group), once it has printed "ready". The shell
 * then waits for a line on stdin, so its start time can be read before it exits.
 */
async function startGroup(script: string): Promise<Subprocess<"pipe", "pipe", "inherit">> {
  const child = Bun.spawn(["sh", "-c", `${script}\necho ready\nread line`], { stdin: "pipe", stdout: "pipe", detached: true });
  children.push(child);
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes("ready")) {
    const { value, done } = await within(reader.read(), "the group to be ready");
    if (done) throw new Error(`group ended before it was ready: ${seen}`);
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return child;
}

/** A pid and start time that once named a process, now dead: a crashed gateway. */
async function deadProcess(): Promise<{ pid: number; startTime: number }> {
  const child = Bun.spawn(["sleep", "1000"]);
  const startTime = startTimeOf(child.pid);
  child.kill("SIGKILL");
  await within(child.exited, "the stand-in gateway to die");
  return { pid: child.pid, startTime };
}

function writeRecord(record: Partial<GroupRecord> & { pid: number }): string {
  const full: GroupRecord = {
    spawnTicks: record.spawnTicks ?? startTimeOf(record.pid),
    bootId: BOOT_ID,
    gatewayPid: process.pid,
    gatewayStartTime: record.gatewayStartTime ?? startTimeOf(process.pid),
    createdAt: new Date().toISOString(),
    ...record,
  };
  const path = join(groupsDir, `${record.pid}.json`);
  writeFileSync(path, JSON.stringify(full));
  return path;
}

describe("GroupRegistry records", () => {
  test("add() writes a private record naming the group and this gateway; remove() deletes it", async () => {
    const registry = new GroupRegistry(stateDir);
    const group = await startGroup("true");
    registry.add(group.pid);
    const path = join(groupsDir, `${group.pid}.json`);
    const record = JSON.parse(readFileSync(path, "utf8"));
    expect(record).toMatchObject({ pid: group.pid, bootId: BOOT_ID, gatewayPid: process.pid, gatewayStartTime: startTimeOf(process.pid) });
    // The spawn time stands in for the child's start time (read without waiting on the child).
    expect(Math.abs(record.spawnTicks - startTimeOf(group.pid))).toBeLessThanOrEqual(100);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(groupsDir).mode & 0o777).toBe(0o700);
    expect(registry.list().map((r) => r.pid)).toEqual([group.pid]);
    registry.remove(group.pid);
    registry.remove(group.pid);
    expect(readdirSync(groupsDir)).toEqual([]);
  });

  test("list() deletes torn and invalid record files and leaves other files alone", () => {
    const registry = new GroupRegistry(stateDir);
    writeFileSync(join(groupsDir, "101.json"), '{"pid":101,"startT');
    writeFileSync(join(groupsDir, "102.json"), JSON.stringify({ pid: "102" }));
    writeFileSync(join(groupsDir, "103.json"), JSON.stringify({ pid: -1, spawnTicks: 1, bootId: BOOT_ID, gatewayPid: 1, gatewayStartTime: 1, createdAt: "" }));
    writeFileSync(join(groupsDir, "notes.txt"), "not a record");
    expect(registry.list()).toEqual([]);
    expect(registry.reapOrphans(log())).toEqual([]);
    expect(readdirSync(groupsDir)).toEqual(["notes.txt"]);
  });
});

describe("reapOrphans", () => {
  test("kills every member of a group whose gateway is dead, and drops the record", async () => {
    const registry = new GroupRegistry(stateDir);
    const group = await startGroup("sleep 1000 & sleep 1000 &");
    const members = liveInGroup(group.pid).map((p) => p.pid);
    expect(members.length).toBe(3);
    const gateway = await deadProcess();
    const path = writeRecord({ pid: group.pid, gatewayPid: gateway.pid, gatewayStartTime: gateway.startTime });

    const reaped = registry.reapOrphans(log());

    expect(reaped.map((r) => ({ pid: r.pid, killed: r.killed.sort() }))).toEqual([{ pid: group.pid, killed: members.sort() }]);
    await waitFor(() => liveInGroup(group.pid).length === 0, `group ${group.pid} to be gone`);
    expect(existsSync(path)).toBe(false);
    expect(logLines.join("")).toContain("reaped orphaned process group");
  });

  test("kills the members left behind by a leader that already exited", async () => {
    const registry = new GroupRegistry(stateDir);
    const group = await startGroup("sleep 1000 &");
    const gateway = await deadProcess();
    writeRecord({ pid: group.pid, gatewayPid: gateway.pid, gatewayStartTime: gateway.startTime });
    group.stdin.end(); // the shell reads EOF and exits; its background sleep stays in the group
    await within(group.exited, "the leader to exit");
    expect(liveInGroup(group.pid).length).toBe(1);

    expect(registry.reapOrphans(log()).map((r) => r.pid)).toEqual([group.pid]);
    await waitFor(() => liveInGroup(group.pid).length === 0, `group ${group.pid} to be gone`);
  });

  test("does not kill a process that reuses a recorded pid (it started long after the recorded spawn)", async () => {
    const registry = new GroupRegistry(stateDir);
    const group = await startGroup("true");
    const gateway = await deadProcess();
    const path = writeRecord({
      pid: group.pid,
      spawnTicks: startTimeOf(group.pid) - 1000, // 10 s before it started (at 100 ticks/s), past the slack
      gatewayPid: gateway.pid,
      gatewayStartTime: gateway.startTime,
    });

    expect(registry.reapOrphans(log())).toEqual([]);
    expect(anyAlive([group.pid]).map((p) => p.pid)).toEqual([group.pid]);
    expect(existsSync(path)).toBe(false);
  });

  test("skips the groups of a gateway that is still running, keeping their records", async () => {
    const registry = new GroupRegistry(stateDir);
    const group = await startGroup("true");
    const path = writeRecord({ pid: group.pid }); // owned by this test process, with its real start time

    expect(registry.reapOrphans(log())).toEqual([]);
    expect(anyAlive([group.pid]).length).toBe(1);
    expect(existsSync(path)).toBe(true);
  });

  test("treats a live gateway pid with another start time as a dead gateway", async () => {
    const registry = new GroupRegistry(stateDir);
    const group = await startGroup("true");
    writeRecord({ pid: group.pid, gatewayStartTime: startTimeOf(process.pid) - 1 });

    expect(registry.reapOrphans(log()).map((r) => r.pid)).toEqual([group.pid]);
    await waitFor(() => liveInGroup(group.pid).length === 0, `group ${group.pid} to be gone`);
  });

  test("ignores and drops a record from another boot", async () => {
    const registry = new GroupRegistry(stateDir);
    const group = await startGroup("true");
    const gateway = await deadProcess();
    const path = writeRecord({ pid: group.pid, bootId: "another-boot", gatewayPid: gateway.pid, gatewayStartTime: gateway.startTime });

    expect(registry.reapOrphans(log())).toEqual([]);
    expect(anyAlive([group.pid]).length).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  test("drops the record of a dead gateway whose group is already gone", async () => {
    const registry = new GroupRegistry(stateDir);
    const group = await deadProcess();
    const gateway = await deadProcess();
    const path = writeRecord({ pid: group.pid, spawnTicks: group.startTime, gatewayPid: gateway.pid, gatewayStartTime: gateway.startTime });

    expect(registry.reapOrphans(log())).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });
});
