/**
 * How much CPU other work on the machine took while a measurement ran: all CPU time the kernel
 * counted (/proc/stat), minus what the bench's own process tree used (itself, its live children
 * — servers, pipe readers — and every descendant already reaped). With 2 cores shared by client,
 * server and emitter, a few percent of foreign load visibly moves throughput and tail latency.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { livePids } from "./processes.ts";

const TICK_US = 10_000; // USER_HZ = 100

/** Busy CPU time of the whole machine in µs (user, nice, system, irq, softirq, steal). */
function machineBusyMicros(): number {
  const cpu = readFileSync("/proc/stat", "latin1").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return (user + nice + system + irq + softirq + steal) * TICK_US;
}

/** utime+stime+cutime+cstime of `pid` in µs, 0 if it is gone. */
function treeMicros(pid: number | "self"): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_US;
  } catch {
    return 0;
  }
}

function ownMicros(): number {
  return treeMicros("self") + livePids().reduce((sum, pid) => sum + treeMicros(pid), 0);
}

export class InterferenceMeter {
  private readonly busy = machineBusyMicros();
  private readonly own = ownMicros();
  private readonly startedAt = performance.now();

  /** Foreign CPU as a percentage of the machine's capacity since construction (≥ 0). */
  foreignPercent(): number {
    const wallUs = (performance.now() - this.startedAt) * 1000;
    const foreign = machineBusyMicros() - this.busy - (ownMicros() - this.own);
    return Math.max(0, (foreign / (wallUs * availableParallelism())) * 100);
  }
}
