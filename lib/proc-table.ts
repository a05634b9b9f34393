/**
 * Reading the OS process table from /proc (Linux).
 *
 * Used to tell whether a process group still has live members (zombies do not count: where
 * PID 1 does not reap orphans — some container inits don't — they linger forever), and to
 * recognise a process by its start time so a reused pid is never taken for ours.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  /** One letter: R, S, D, Z, T, … */
  state: string;
  /** Clock ticks after boot at which the process started; with the pid, it names one process. */
  startTime: number;
}

/** The stat of one process, or null if it does not exist (or /proc is unavailable). */
export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const close = text.lastIndexOf(")");
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return {
    pid,
    state: rest[0] ?? "?",
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    startTime: Number(rest[19]),
  };
}

/** Every process visible in /proc. */
export function listProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const stat = readProcStat(Number(name));
    if (stat !== null) out.push(stat);
  }
  return out;
}

/** Live (non-zombie) members of process group `pgid`. */
export function liveGroupMembers(pgid: number): ProcStat[] {
  return listProcesses().filter((p) => p.pgrp === pgid && p.state !== "Z" && p.state !== "X");
}

/**
 * Whether group `pgid` has a live member. The cheap `kill(-pgid, 0)` answers "no" for most
 * groups; only when it says "yes" is /proc scanned, to discount zombies.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    // EPERM means a member exists that we may not signal: not ours, but alive.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  return liveGroupMembers(pgid).length > 0;
}

/** Kernel boot id: start times are only comparable within one boot. */
export function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
}
