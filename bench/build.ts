/**
 * Builds the emitter (bench/emitter.c → bench/bin/emitter) with the system C compiler.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const BENCH_DIR = import.meta.dir;

export async function buildEmitter(): Promise<string> {
  const out = join(BENCH_DIR, "bin", "emitter");
  mkdirSync(join(BENCH_DIR, "bin"), { recursive: true });
  const cc = Bun.which("cc") ?? Bun.which("gcc") ?? Bun.which("clang");
  if (cc === null) throw new Error("no C compiler (cc, gcc or clang) on PATH: install one, e.g. apt-get install -y gcc");
  const proc = Bun.spawn([cc, "-O2", "-Wall", "-o", out, join(BENCH_DIR, "emitter.c")], { stdout: "pipe", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`building the emitter failed (${code}):\n${stderr}`);
  return out;
}
