/**
 * The process side: spawning CLI processes in their own process groups, recording them in the
 * on-disk registry, and stopping them — always the whole group — through the termination ladder.
 */
import type { Subprocess } from "bun";
import { GatewayError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { groupAlive } from "../lib/proc-table.ts";
import type { GroupRegistry } from "./group-registry.ts";
import { terminate, type TerminationOutcome, type TerminationTarget } from "./termination.ts";

export interface SpawnSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** "pipe" for stream-json input; "ignore" (/dev/null) otherwise, so the CLI never waits on stdin. */
  stdin: "pipe" | "ignore";
}

export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

type Child = Subprocess<"pipe" | "ignore", "pipe", "pipe">;

/** One CLI process group. The leader's pid is the group id (spawned detached, i.e. setsid). */
export class ManagedProcess implements TerminationTarget {
  readonly pid: number;
  readonly startedAt = performance.now();
  readonly exited: Promise<ProcessExit>;
  /** Resolves once the whole group is gone (or survived SIGKILL) and its record is removed. */
  readonly done: Promise<TerminationOutcome>;
  private leaderExited = false;
  private stopping: Promise<TerminationOutcome> | null = null;

  constructor(
    readonly child: Child,
    private readonly graceMs: number,
    private readonly onGone: () => void,
  ) {
    this.pid = child.pid;
    this.exited = child.exited.then(() => {
      this.leaderExited = true;
      const signal = child.signalCode;
      return { code: child.exitCode, signal: signal === null ? null : String(signal) };
    });
    this.done = this.exited.then(async () => {
      // The leader is gone; anything left in its group (a backgrounded tool process, a
      // grandchild holding stdout open) is swept up, starting at SIGTERM.
      this.stopping ??= terminate(this, this.graceMs, "sigterm");
      const outcome = await this.stopping;
      this.onGone();
      return outcome;
    });
  }

  get stdout(): ReadableStream<Uint8Array> {
    return this.child.stdout;
  }

  get stderr(): ReadableStream<Uint8Array> {
    return this.child.stderr;
  }

  /** Write to stdin (stream-json mode only). */
  write(data: string): void {
    const stdin = this.child.stdin;
    if (stdin && typeof stdin !== "number") {
      stdin.write(data);
      stdin.flush();
    }
  }

  /** Run the termination ladder once; later calls share the first call's outcome. */
  stop(): Promise<TerminationOutcome> {
    this.stopping ??= terminate(this, this.graceMs);
    return this.stopping;
  }

  closeStdin(): boolean {
    const stdin = this.child.stdin;
    if (!stdin || typeof stdin === "number") return false;
    try {
      stdin.end();
    } catch {
      // Already closed: the child exited and the pipe broke.
    }
    return true;
  }

  signalGroup(signal: "SIGTERM" | "SIGKILL"): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: nobody left in the group.
    }
  }

  gone(): boolean {
    return this.leaderExited && !groupAlive(this.pid);
  }
}

export interface ProcessManagerOptions {
  killGraceMs: number;
}

export class ProcessManager {
  private readonly live = new Set<ManagedProcess>();

  constructor(
    private readonly options: ProcessManagerOptions,
    private readonly registry: GroupRegistry,
    private readonly log: Logger,
  ) {}

  /** Live process groups: spawned and not yet fully gone. */
  get size(): number {
    return this.live.size;
  }

  /** Spawn without a shell, in a new session, recorded before this returns. */
  spawn(spec: SpawnSpec): ManagedProcess {
    let child: Child;
    try {
      child = Bun.spawn(spec.argv, {
        cwd: spec.cwd,
        env: spec.env,
        stdin: spec.stdin,
        stdout: "pipe",
        stderr: "pipe",
        detached: true,
      }) as Child;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new GatewayError("spawn_failed", `Could not start the CLI (${e.code ?? e.message}).`);
    }
    try {
      this.registry.add(child.pid);
    } catch (err) {
      // Without a record a gateway crash could orphan this group: refuse to run it.
      this.log.error({ err, pid: child.pid }, "could not record process group; killing it");
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      throw new GatewayError("spawn_failed", "Could not record the CLI process for cleanup.");
    }
    const managed = new ManagedProcess(child, this.options.killGraceMs, () => {
      this.registry.remove(managed.pid);
      this.live.delete(managed);
    });
    this.live.add(managed);
    return managed;
  }

  /** Stop every live group through the ladder, in parallel. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.live].map(async (p) => (await p.stop(), p.done)));
  }
}
