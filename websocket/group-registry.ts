/**
 * The registry of live process groups, kept on disk in STATE_DIR so that a gateway killed
 * with SIGKILL (or by the OOM killer) does not leave its CLI processes running forever.
 *
 * One small file per group, written when the group is spawned and removed when it is gone.
 * On start-up `reapOrphans` kills the groups a dead gateway left behind, taking care never to
 * kill a process that merely reuses a recorded pid.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { Logger } from "../lib/logger.ts";
import { bootId, liveGroupMembers, readProcStat } from "../lib/proc-table.ts";

const RecordSchema = z.object({
  pid: z.number().int().positive(),
  /** Clock ticks after boot when the group was spawned: its leader's start time, give or take SPAWN_SLACK_S. */
  spawnTicks: z.number().nonnegative(),
  bootId: z.string(),
  gatewayPid: z.number().int().positive(),
  gatewayStartTime: z.number().int().nonnegative(),
  createdAt: z.string(),
});

export type GroupRecord = z.infer<typeof RecordSchema>;

export interface ReapResult {
  pid: number;
  /** Live members killed (the leader included, if it was still alive). */
  killed: number[];
}

export class GroupRegistry {
  private readonly dir: string;
  private readonly boot = bootId();
  private readonly self = readProcStat(process.pid);

  constructor(stateDir: string) {
    this.dir = join(stateDir, "groups");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Record a freshly spawned group leader (its pid is its process group id). The child's own
   * start time is not read here: /proc/<pid>/stat blocks until the child has exec'd, which was a
   * sixth of the gateway's CPU per connection. The clock now stands in for it (reaping allows
   * SPAWN_SLACK_S either way).
   */
  add(pid: number): void {
    const record: GroupRecord = {
      pid,
      spawnTicks: uptimeTicks(),
      bootId: this.boot,
      gatewayPid: process.pid,
      gatewayStartTime: this.self?.startTime ?? 0,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(this.path(pid), JSON.stringify(record), { mode: 0o600 });
  }

  remove(pid: number): void {
    rmSync(this.path(pid), { force: true });
  }

  list(): GroupRecord[] {
    const out: GroupRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(".json")) continue;
      try {
        out.push(RecordSchema.parse(JSON.parse(readFileSync(join(this.dir, name), "utf8"))));
      } catch {
        rmSync(join(this.dir, name), { force: true }); // torn write from a crash: nothing to act on
      }
    }
    return out;
  }

  /**
   * Kill the groups recorded by gateways that are no longer running. A record is acted on only
   * if it comes from this boot, its gateway is gone, and its leader is either the very process
   * recorded (same start time) or gone with members of its group still alive.
   */
  reapOrphans(log: Logger): ReapResult[] {
    const reaped: ReapResult[] = [];
    for (const rec of this.list()) {
      // A record from an earlier boot names processes that cannot exist any more.
      if (rec.bootId === this.boot) {
        // Its owner (possibly this very gateway) still runs: those groups are not orphans.
        if (sameProcess(rec.gatewayPid, rec.gatewayStartTime)) continue;
        const result = reapGroup(rec);
        if (result !== null) {
          reaped.push(result);
          log.warn({ pgid: rec.pid, killed: result.killed, recordedAt: rec.createdAt }, "reaped orphaned process group");
        }
      }
      this.remove(rec.pid);
    }
    return reaped;
  }

  private path(pid: number): string {
    return join(this.dir, `${pid}.json`);
  }
}

const REAP_WAIT_MS = 2_000;
/**
 * How far a recorded spawn time may be from the leader's start time. A pid is reused only after
 * the kernel has cycled through every free pid, which takes far longer than this.
 */
const SPAWN_SLACK_S = 2;
const CLK_TCK = clockTicks();

/** Clock ticks since boot, as /proc/<pid>/stat counts start times. */
export function uptimeTicks(): number {
  try {
    return Math.floor(Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * CLK_TCK);
  } catch {
    return 0;
  }
}

function clockTicks(): number {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
  const n = Number(out.stdout.toString().trim());
  return Number.isInteger(n) && n > 0 ? n : 100; // 100 on every mainstream Linux
}

function sameProcess(pid: number, startTime: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && stat.state !== "Z" && stat.startTime === startTime;
}

function reapGroup(rec: GroupRecord): ReapResult | null {
  const slack = SPAWN_SLACK_S * CLK_TCK;
  const leader = readProcStat(rec.pid);
  // The pid now names another process: while any member of our group lived, its id could not
  // have been handed out again, so our group is gone and that process is not ours.
  if (leader !== null && leader.state !== "Z" && Math.abs(leader.startTime - rec.spawnTicks) > slack) return null;
  const members = liveGroupMembers(rec.pid).filter((p) => p.startTime >= rec.spawnTicks - slack);
  if (members.length === 0) return null;
  try {
    process.kill(-rec.pid, "SIGKILL");
  } catch {
    // ESRCH: it died between the scan and the kill.
  }
  // SIGKILL is delivered asynchronously: wait (briefly, at start-up only) until the group is
  // really gone, so that "reaped" in the log means gone from the process table.
  const deadline = performance.now() + REAP_WAIT_MS;
  while (liveGroupMembers(rec.pid).some((p) => p.startTime >= rec.spawnTicks - slack) && performance.now() < deadline) Bun.sleepSync(5);
  return { pid: rec.pid, killed: members.map((p) => p.pid) };
}
