/**
 * Every process the bench starts goes through here, so each is stopped at the end — on
 * success, on error, and on Ctrl-C — by its own pid.
 */
import type { SpawnOptions, Subprocess } from "bun";

const live = new Set<Subprocess>();
const STOP_GRACE_MS = 20_000; // a gateway stopping 500 runs through its ladder needs a while

export type Spawned = Subprocess<"ignore", "pipe", "pipe">;

/** Bun.spawn with stdin ignored, stdout/stderr piped, remembered until it exits. */
export function spawnTracked(argv: string[], options: Omit<SpawnOptions.OptionsObject<"ignore", "pipe", "pipe">, "stdin" | "stdout" | "stderr"> = {}): Spawned {
  const proc = Bun.spawn(argv, { ...options, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  return proc;
}

function running(proc: Subprocess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(proc: Subprocess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!running(proc)) return;
  proc.kill("SIGTERM");
  let timer: Timer | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), graceMs)));
  const outcome = await Promise.race([proc.exited, late]);
  clearTimeout(timer);
  if (outcome === "late" && running(proc)) {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

/** Pids of the tracked processes still running. */
export function livePids(): number[] {
  return [...live].map((p) => p.pid);
}

/** Stop everything still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => stopProcess(p)));
}

/** Stop everything on Ctrl-C / SIGTERM before exiting. */
export function stopAllOnSignal(): void {
  const handler = (signal: string) => {
    console.error(`\nbench: ${signal}, stopping ${live.size} process(es)`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", () => handler("SIGINT"));
  process.once("SIGTERM", () => handler("SIGTERM"));
}

/** Collect a stream's text (bounded), for error messages. */
export function collectText(stream: ReadableStream<Uint8Array>, maxChars = 64 * 1024): { text: () => string } {
  let text = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of stream) if (text.length < maxChars) text += decoder.decode(chunk, { stream: true });
  })().catch(() => {});
  return { text: () => text };
}
