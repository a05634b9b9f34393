/**
 * The pipe limit: the emitter piped straight into a Bun line reader, no WebSocket. Run as its
 * own process (like a server would be), it prints one JSON result line on stdout.
 *
 *   bun bench/pipe-reader.ts throughput <emitter> N S    lines/s and CPU per line
 *   bun bench/pipe-reader.ts latency <emitter> R D S     receive time − embedded send time
 *   bun bench/pipe-reader.ts first-line <emitter> COUNT  spawn → first line, COUNT times in a row
 */
import { RealtimeClock, stampOf } from "./clock.ts";

export interface PipeThroughput {
  lines: number;
  bytes: number;
  firstMs: number;
  lastMs: number;
  cpuMicros: number;
}

export interface PipeLatency {
  /** Receive minus send, µs, one per line. */
  samplesUs: number[];
}

export interface PipeFirstLine {
  samplesMs: number[];
}

/** Split a byte stream into lines (decoded as UTF-8), calling `onLine` for each. */
async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    const text = pending + decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      onLine(text.slice(start, nl));
      start = nl + 1;
    }
    pending = text.slice(start);
  }
}

function spawnEmitter(emitter: string, mode: string[]) {
  return Bun.spawn([emitter, ...mode], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
}

async function throughput(emitter: string, n: string, s: string): Promise<PipeThroughput> {
  const r: PipeThroughput = { lines: 0, bytes: 0, firstMs: Number.NaN, lastMs: Number.NaN, cpuMicros: 0 };
  const cpu = process.cpuUsage();
  const proc = spawnEmitter(emitter, ["lines", n, s]);
  await readLines(proc.stdout, (line) => {
    const now = performance.now();
    if (r.lines++ === 0) r.firstMs = now;
    r.bytes += line.length;
    r.lastMs = now;
  });
  await proc.exited;
  const used = process.cpuUsage(cpu);
  r.cpuMicros = used.user + used.system;
  return r;
}

async function latency(emitter: string, rate: string, seconds: string, size: string): Promise<PipeLatency> {
  const clock = new RealtimeClock();
  const samplesUs: number[] = [];
  const proc = spawnEmitter(emitter, ["rate", rate, seconds, size]);
  await readLines(proc.stdout, (line) => samplesUs.push((clock.nowNs() - stampOf(line)) / 1000));
  await proc.exited;
  return { samplesUs };
}

async function firstLine(emitter: string, count: string): Promise<PipeFirstLine> {
  const samplesMs: number[] = [];
  for (let i = 0; i < Number(count); i++) {
    const start = performance.now();
    const proc = spawnEmitter(emitter, ["lines", "1", "200"]);
    let first = Number.NaN;
    await readLines(proc.stdout, () => {
      if (Number.isNaN(first)) first = performance.now();
    });
    await proc.exited;
    samplesMs.push(first - start);
  }
  return { samplesMs };
}

if (import.meta.main) {
  const [what, emitter, ...args] = process.argv.slice(2);
  if (emitter === undefined) throw new Error("usage: pipe-reader.ts throughput|latency|first-line <emitter> …");
  const run = { throughput, latency, "first-line": firstLine }[what ?? ""] as ((e: string, ...a: string[]) => Promise<unknown>) | undefined;
  if (run === undefined) throw new Error(`unknown measurement ${what}`);
  console.log(JSON.stringify(await run(emitter, ...args)));
}
