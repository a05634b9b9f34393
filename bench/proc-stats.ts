/**
 * What a server process costs, read from /proc (Linux): CPU time and resident memory.
 * Only the process itself is counted: its children's CPU is not in utime/stime.
 */
import { readFileSync, readdirSync } from "node:fs";

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_SEC = 100;

/** utime + stime of `pid` in microseconds. */
export function cpuMicros(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "latin1");
  // Field 2 (comm) may contain spaces or ')': count fields after the last ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(rest[11]) + Number(rest[12]); // fields 14 (utime) and 15 (stime)
  return (ticks * 1e6) / TICKS_PER_SEC;
}

/** Resident set size of `pid` in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "latin1");
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** The soft limit on open files of `pid`. */
export function openFilesLimit(pid: number): number {
  const limits = readFileSync(`/proc/${pid}/limits`, "latin1");
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return m === null || m[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** Pids of the live (non-zombie) children of `pid`. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/task/${task}/children`, "latin1");
    } catch {
      continue; // the thread ended meanwhile
    }
    for (const p of text.split(" ")) if (p.trim() !== "") out.push(Number(p));
  }
  return out.filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "latin1");
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
      return false;
    }
  });
}
