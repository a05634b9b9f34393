import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../lib/logger.ts";
import { GroupRegistry } from "../../websocket/group-registry.ts";
import { ProcessManager, type ManagedProcess } from "../../websocket/process-manager.ts";
import { terminate, type TerminationTarget } from "../../websocket/termination.ts";
import { liveInGroup } from "../helpers/processes.ts";
import { within } from "../helpers/wait.ts";

const GRACE_MS = 200;

const stateDir = mkdtempSync(join(tmpdir(), "termination-test-"));
const manager = new ProcessManager({ killGraceMs: GRACE_MS }, new GroupRegistry(stateDir), createLogger("silent"));
const started: ManagedProcess[] = [];

function spawn(script: string, stdin: "pipe" | "ignore" = "ignore"): ManagedProcess {
  const proc = manager.spawn({ argv: ["sh", "-c", script], cwd: stateDir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdin });
  started.push(proc);
  return proc;
}

/** Read stdout until `text` appears: the fixture is set up (traps installed, children started). */
async function ready(proc: ManagedProcess, text = "ready"): Promise<void> {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  await within(
    (async () => {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stdout ended before ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`);
        seen += decoder.decode(value, { stream: true });
      }
    })(),
    `${JSON.stringify(text)} from pid ${proc.pid}`,
  );
  reader.releaseLock();
}

afterEach(async () => {
  for (const proc of started.splice(0)) {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      // ESRCH: the test already ended the group.
    }
    await within(proc.done, `group ${proc.pid} to be gone`);
  }
});

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe("terminate() on real process groups", () => {
  test("ends a plain sleep at sigterm", async () => {
    const proc = spawn("exec sleep 1000");
    expect(await within(terminate(proc, GRACE_MS), "terminate")).toBe("sigterm");
    expect(await proc.exited).toEqual({ code: null, signal: "SIGTERM" });
    expect(liveInGroup(proc.pid)).toEqual([]);
  });

  test("ends a group whose members ignore SIGTERM at sigkill, leaving no live member", async () => {
    const proc = spawn(`trap "" TERM; sleep 1000 & echo ready; wait`);
    await ready(proc);
    expect(liveInGroup(proc.pid).length).toBe(2);
    expect(await within(terminate(proc, GRACE_MS), "terminate")).toBe("sigkill");
    expect(liveInGroup(proc.pid)).toEqual([]);
  });

  test("ends a process that exits on stdin EOF at close_stdin", async () => {
    const proc = spawn("exec cat", "pipe");
    expect(await within(terminate(proc, GRACE_MS), "terminate")).toBe("close_stdin");
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(liveInGroup(proc.pid)).toEqual([]);
  });

  test("moves on to sigterm when closing stdin does not end the process", async () => {
    const proc = spawn("exec sleep 1000", "pipe");
    expect(await within(terminate(proc, GRACE_MS), "terminate")).toBe("sigterm");
    expect(liveInGroup(proc.pid)).toEqual([]);
  });

  test("reports already_gone for a group that has exited", async () => {
    const proc = spawn("exit 0");
    expect(await within(proc.done, "the group to finish")).toBe("already_gone");
    expect(await terminate(proc, GRACE_MS)).toBe("already_gone");
  });

  test("sweeps what a leader left behind when it exits on its own, and drops its record", async () => {
    const proc = spawn("sleep 1000 & echo ready");
    await ready(proc);
    expect(await within(proc.done, "the leftovers to be swept")).toBe("sigterm");
    expect(liveInGroup(proc.pid)).toEqual([]);
    expect(existsSync(join(stateDir, "groups", `${proc.pid}.json`))).toBe(false);
  });

  test("stop() runs the ladder once; later calls share the first outcome", async () => {
    const proc = spawn("exec sleep 1000");
    const first = proc.stop();
    expect(proc.stop()).toBe(first);
    expect(await within(first, "stop")).toBe("sigterm");
  });
});

/** A target that records what the ladder does to it and dies at the step named in `diesAt`. */
function fakeTarget(diesAt: "stdin" | "SIGTERM" | "SIGKILL" | "never", hasStdin = true) {
  const actions: string[] = [];
  let dead = false;
  let exit!: () => void;
  const exited = new Promise<void>((resolve) => (exit = resolve));
  const act = (name: string) => {
    actions.push(name);
    if (name === diesAt) {
      dead = true;
      exit();
    }
  };
  const target: TerminationTarget = {
    closeStdin: () => (hasStdin ? (act("stdin"), true) : false),
    signalGroup: (signal) => act(signal),
    exited,
    gone: () => dead,
  };
  return { target, actions };
}

describe("the termination ladder", () => {
  test.each([
    ["stdin", true, "close_stdin", ["stdin"]],
    ["SIGTERM", true, "sigterm", ["stdin", "SIGTERM"]],
    ["SIGTERM", false, "sigterm", ["SIGTERM"]],
    ["SIGKILL", true, "sigkill", ["stdin", "SIGTERM", "SIGKILL"]],
    ["never", true, "survived", ["stdin", "SIGTERM", "SIGKILL"]],
  ] as const)("a target that dies at %s (stdin: %p) ends at %s after %p", async (diesAt, hasStdin, outcome, actions) => {
    const fake = fakeTarget(diesAt, hasStdin);
    expect(await terminate(fake.target, 10)).toBe(outcome);
    expect(fake.actions).toEqual([...actions]);
  });

  test("starting from sigterm never touches stdin", async () => {
    const fake = fakeTarget("SIGKILL");
    expect(await terminate(fake.target, 10, "sigterm")).toBe("sigkill");
    expect(fake.actions).toEqual(["SIGTERM", "SIGKILL"]);
  });

  test("does nothing to a target that is already gone", async () => {
    const fake = fakeTarget("never");
    fake.target.gone = () => true;
    expect(await terminate(fake.target, 10)).toBe("already_gone");
    expect(fake.actions).toEqual([]);
  });
});
