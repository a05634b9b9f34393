/**
 * What the numbers were measured on: CPU, memory, kernel, versions, date.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, release, totalmem } from "node:os";
import { websocketdVersion } from "./targets/websocketd.ts";

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  bun: string;
  websocketd: string | null;
  date: string;
  /** 1-minute load average when the bench started: other work on the machine skews every figure. */
  loadAtStart: number;
}

/** Read before anything is started. */
export const LOAD_AT_START = loadavg()[0] ?? Number.NaN;

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    return m?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  return {
    cpus: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    bun: Bun.version,
    websocketd: await websocketdVersion(),
    date: new Date().toISOString(),
    loadAtStart: LOAD_AT_START,
  };
}
