/**
 * Shows the emitter is never the bottleneck: its rate with stdout on /dev/null, to compare
 * with the slowest reader measured (the pipe limit, which reads every line in Bun).
 */
import type { BenchContext } from "../figures.ts";
import { summarize, type Summary } from "../stats.ts";

const RUNS = 3;

export async function emitterRate(ctx: BenchContext): Promise<Summary> {
  const { lines, lineBytes } = ctx.sizes.throughput;
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const proc = Bun.spawn([ctx.emitter, "lines", String(lines), String(lineBytes)], { stdin: "ignore", stdout: "ignore", stderr: "inherit" });
    const code = await proc.exited;
    if (code !== 0) throw new Error(`emitter exited ${code}`);
    rates.push(lines / ((performance.now() - start) / 1000));
  }
  return summarize(rates);
}
