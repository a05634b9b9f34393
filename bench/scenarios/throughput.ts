/**
 * (1) Throughput on one socket: N lines of S bytes as fast as the emitter prints them.
 * lines/s and MB/s run from the first CLI line received to the last; server CPU is the
 * server process's utime+stime over the session (its children excluded) per frame.
 */
import { runSession } from "../client/session.ts";
import type { BenchContext, Column, Figure } from "../figures.ts";
import { wsTargets } from "../figures.ts";
import { cpuMicros } from "../proc-stats.ts";
import { summarize } from "../stats.ts";
import { pipeTarget } from "../targets/pipe.ts";
import { withServers, type RunningServer } from "../targets/target.ts";

interface Rep {
  linesPerSec: number;
  mbPerSec: number;
  serverCpuPerFrame: number;
  clientCpuPerFrame: number;
}

const TIMEOUT_MS = 300_000;

function rate(lines: number, bytes: number, ms: number): Pick<Rep, "linesPerSec" | "mbPerSec"> {
  const secs = ms / 1000;
  return { linesPerSec: (lines - 1) / secs, mbPerSec: (bytes * (lines - 1)) / lines / secs / 1e6 };
}

async function overSocket(server: RunningServer, expected: number): Promise<Rep> {
  const serverBefore = cpuMicros(server.pid);
  const clientBefore = process.cpuUsage();
  const r = await runSession(server, { timeoutMs: TIMEOUT_MS });
  const serverUs = cpuMicros(server.pid) - serverBefore;
  const client = process.cpuUsage(clientBefore);
  if (r.lines !== expected) throw new Error(`${server.name}: received ${r.lines} of ${expected} lines`);
  return { ...rate(r.lines, r.bytes, r.lastLineAt - r.firstLineAt), serverCpuPerFrame: serverUs / r.lines, clientCpuPerFrame: (client.user + client.system) / r.lines };
}

async function overPipe(ctx: BenchContext, lines: number, lineBytes: number): Promise<Rep> {
  const p = await pipeTarget.throughput(ctx.emitter, lines, lineBytes, TIMEOUT_MS);
  if (p.lines !== lines) throw new Error(`pipe: read ${p.lines} of ${lines} lines`);
  return { ...rate(p.lines, p.bytes, p.lastMs - p.firstMs), serverCpuPerFrame: p.cpuMicros / p.lines, clientCpuPerFrame: Number.NaN };
}

export async function measureThroughput(ctx: BenchContext): Promise<Figure[]> {
  const { lines, lineBytes, reps } = ctx.sizes.throughput;
  const results = new Map<Column, Rep[]>([["pipe", []]]);
  await withServers(wsTargets(ctx), ["lines", String(lines), String(lineBytes)], async (servers) => {
    for (const s of servers) {
      results.set(s.name, []);
      await runSession(s, { timeoutMs: TIMEOUT_MS }); // warm-up, not counted
    }
    for (let i = 0; i < reps; i++) {
      for (const s of servers) results.get(s.name)!.push(await overSocket(s, lines));
      results.get("pipe")!.push(await overPipe(ctx, lines, lineBytes));
      ctx.log(`  #${i + 1}: ${[...results].map(([col, runs]) => `${col} ${Math.round(runs.at(-1)!.linesPerSec)}`).join(", ")} lines/s`);
    }
  });
  const figure = (key: Figure["key"], label: string, unit: string, pick: (r: Rep) => number, note?: string): Figure => ({
    key,
    label,
    unit,
    values: Object.fromEntries([...results].map(([col, runs]) => [col, summarize(runs.map(pick))])),
    note,
  });
  const shape = `${lines.toLocaleString("en")} × ${lineBytes} B`;
  return [
    figure("throughputLines", `Throughput, one socket (${shape})`, "lines/s", (r) => r.linesPerSec),
    figure("throughputMB", `Throughput, one socket (${shape})`, "MB/s", (r) => r.mbPerSec),
    figure("cpuPerFrame", "Server CPU per frame", "µs", (r) => r.serverCpuPerFrame, "pipe: the reader's own CPU per line"),
    figure("clientCpuPerFrame", "Load client CPU per frame (same client for both)", "µs", (r) => r.clientCpuPerFrame),
  ];
}
