/**
 * (3) Connection setup. Sequential: connect → first CLI line (the process is started either
 * way: on connect for websocketd, on the prompt after `gateway.hello` for the gateway), one
 * connection at a time, each run to its close. Parallel: whole sessions, `concurrency` at once.
 * The pipe column is spawn → first line with no socket at all.
 */
import { runSession, type SessionResult } from "../client/session.ts";
import type { BenchContext, Column, Figure } from "../figures.ts";
import { wsTargets } from "../figures.ts";
import { cpuMicros } from "../proc-stats.ts";
import { percentile, summarize } from "../stats.ts";
import { pipeTarget } from "../targets/pipe.ts";
import { withServers, type RunningServer } from "../targets/target.ts";

interface Rep {
  cpuPerConn: number;
  helloP50: number;
  firstP50: number;
  firstP99: number;
  connsPerSec: number;
}

const SESSION_TIMEOUT_MS = 10_000;
const WARM_UP = 20;

async function sequential(server: RunningServer, count: number): Promise<SessionResult[]> {
  const out: SessionResult[] = [];
  for (let i = 0; i < count; i++) out.push(await runSession(server, { timeoutMs: SESSION_TIMEOUT_MS }));
  return out;
}

/** `total` sessions, `concurrency` at a time; returns sessions per second. */
async function parallel(server: RunningServer, total: number, concurrency: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      await runSession(server, { timeoutMs: SESSION_TIMEOUT_MS });
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return total / ((performance.now() - start) / 1000);
}

async function oneRep(server: RunningServer, count: number, total: number, concurrency: number): Promise<Rep> {
  const cpuBefore = cpuMicros(server.pid);
  const seq = await sequential(server, count);
  const cpuPerConn = (cpuMicros(server.pid) - cpuBefore) / count;
  const first = seq.map((r) => r.firstLineAt - r.startedAt);
  const hello = seq.map((r) => r.helloAt - r.startedAt);
  const connsPerSec = await parallel(server, total, concurrency);
  return { cpuPerConn, helloP50: percentile(hello, 50), firstP50: percentile(first, 50), firstP99: percentile(first, 99), connsPerSec };
}

export async function measureSetup(ctx: BenchContext): Promise<Figure[]> {
  const { sequential: count, parallel: total, concurrency, reps } = ctx.sizes.setup;
  const results = new Map<Column, Rep[]>([["pipe", []]]);
  await withServers(wsTargets(ctx), ["lines", "1", "200"], async (servers) => {
    for (const s of servers) {
      results.set(s.name, []);
      await sequential(s, WARM_UP);
    }
    for (let i = 0; i < reps; i++) {
      for (const s of servers) {
        const r = await oneRep(s, count, total, concurrency);
        results.get(s.name)!.push(r);
        ctx.log(`  #${i + 1} ${s.name}: first line p50 ${r.firstP50.toFixed(2)} ms, p99 ${r.firstP99.toFixed(2)} ms, ${r.connsPerSec.toFixed(0)} conn/s`);
      }
      const { samplesMs } = await pipeTarget.firstLine(ctx.emitter, count);
      results.get("pipe")!.push({ cpuPerConn: Number.NaN, helloP50: Number.NaN, firstP50: percentile(samplesMs, 50), firstP99: percentile(samplesMs, 99), connsPerSec: Number.NaN });
    }
  });
  const values = (pick: (r: Rep) => number) => Object.fromEntries([...results].map(([col, runs]) => [col, summarize(runs.map(pick))]));
  const seqNote = `${count} sequential connections`;
  return [
    { key: "helloP50", label: `Connect → gateway.hello p50 (${seqNote})`, unit: "ms", values: values((r) => r.helloP50), note: "gateway only: no process yet" },
    { key: "firstFrameP50", label: `Connect → first CLI line p50 (${seqNote})`, unit: "ms", values: values((r) => r.firstP50), note: "pipe: spawn → first line, no socket" },
    { key: "firstFrameP99", label: `Connect → first CLI line p99 (${seqNote})`, unit: "ms", values: values((r) => r.firstP99) },
    { key: "cpuPerConn", label: `Server CPU per connection (${seqNote})`, unit: "µs", values: values((r) => r.cpuPerConn), note: "the server process alone: spawning is charged to it, the child's own work is not" },
    { key: "connsPerSec", label: `Connections/s (${total} whole sessions, ${concurrency} in parallel)`, unit: "conn/s", values: values((r) => r.connsPerSec) },
  ];
}
