/**
 * (2) Relay latency: the emitter prints R lines/s for D seconds, each stamped with its
 * CLOCK_REALTIME send time; latency is the client's receive time minus that stamp. Each
 * server's first session is a warm-up; each later one gives a p50 and a p99.
 */
import { runSession } from "../client/session.ts";
import { RealtimeClock, stampOf } from "../clock.ts";
import type { BenchContext, Column, Figure } from "../figures.ts";
import { wsTargets } from "../figures.ts";
import { percentile, summarize } from "../stats.ts";
import { pipeTarget } from "../targets/pipe.ts";
import { withServers, type RunningServer } from "../targets/target.ts";

interface Rep {
  p50: number;
  p99: number;
}

function repOf(samplesUs: number[], expected: number, who: string): Rep {
  if (samplesUs.length !== expected) throw new Error(`${who}: ${samplesUs.length} of ${expected} lines`);
  if (samplesUs.some((s) => !Number.isFinite(s))) throw new Error(`${who}: a line without a valid "t" stamp`);
  return { p50: percentile(samplesUs, 50), p99: percentile(samplesUs, 99) };
}

async function oneSession(server: RunningServer, expected: number, timeoutMs: number): Promise<Rep> {
  const clock = new RealtimeClock();
  const samples: number[] = [];
  await runSession(server, { timeoutMs, onLine: (line) => samples.push((clock.nowNs() - stampOf(line)) / 1000) });
  return repOf(samples, expected, server.name);
}

export async function measureLatency(ctx: BenchContext): Promise<Figure[]> {
  const { linesPerSec, seconds, lineBytes, reps } = ctx.sizes.latency;
  const expected = linesPerSec * seconds;
  const timeoutMs = seconds * 1000 + 30_000;
  const mode = ["rate", String(linesPerSec), String(seconds), String(lineBytes)];
  const results = new Map<Column, Rep[]>([["pipe", []]]);
  await withServers(wsTargets(ctx), mode, async (servers) => {
    for (const s of servers) {
      results.set(s.name, []);
      await oneSession(s, expected, timeoutMs); // warm-up
    }
    for (let i = 0; i < reps; i++) {
      for (const s of servers) results.get(s.name)!.push(await oneSession(s, expected, timeoutMs));
      results.get("pipe")!.push(repOf((await pipeTarget.latency(ctx.emitter, linesPerSec, seconds, lineBytes)).samplesUs, expected, "pipe"));
      ctx.log(`  #${i + 1}: ${[...results].map(([col, runs]) => `${col} p50 ${runs.at(-1)!.p50.toFixed(0)} µs, p99 ${runs.at(-1)!.p99.toFixed(0)} µs`).join("; ")}`);
    }
  });
  const values = (pick: (r: Rep) => number) => Object.fromEntries([...results].map(([col, runs]) => [col, summarize(runs.map(pick))]));
  const shape = `${linesPerSec.toLocaleString("en")} lines/s for ${seconds} s`;
  return [
    { key: "latencyP50", label: `Relay latency p50 (${shape})`, unit: "µs", values: values((r) => r.p50) },
    { key: "latencyP99", label: `Relay latency p99 (${shape})`, unit: "µs", values: values((r) => r.p99) },
  ];
}
