/**
 * The pipe-limit target: runs bench/pipe-reader.ts as its own Bun process and returns its result.
 */
import { join } from "node:path";
import type { PipeFirstLine, PipeLatency, PipeThroughput } from "../pipe-reader.ts";
import { collectText, spawnTracked } from "../processes.ts";
import { within } from "../wait.ts";

const READER = join(import.meta.dir, "..", "pipe-reader.ts");

async function runReader<T>(args: string[], timeoutMs: number): Promise<T> {
  const proc = spawnTracked([process.execPath, READER, ...args]);
  const stderr = collectText(proc.stderr);
  const [out, code] = await within(Promise.all([new Response(proc.stdout).text(), proc.exited]), `pipe-reader ${args[0]}`, timeoutMs);
  if (code !== 0) throw new Error(`pipe-reader ${args.join(" ")} exited ${code}:\n${stderr.text()}`);
  return JSON.parse(out) as T;
}

export const pipeTarget = {
  throughput: (emitter: string, lines: number, size: number, timeoutMs: number) =>
    runReader<PipeThroughput>(["throughput", emitter, String(lines), String(size)], timeoutMs),
  latency: (emitter: string, rate: number, seconds: number, size: number) =>
    runReader<PipeLatency>(["latency", emitter, String(rate), String(seconds), String(size)], seconds * 1000 + 30_000),
  firstLine: (emitter: string, count: number) => runReader<PipeFirstLine>(["first-line", emitter, String(count)], count * 1000 + 30_000),
};
