/**
 * Stopping a process group, written as a table of steps.
 *
 * Each step acts, then waits up to its time for the whole group to be gone (the leader
 * exited and no live member left: tool shells, MCP servers, grandchildren that ignore
 * SIGTERM). The first step after which the group is gone is the one that "ended it".
 */
export type StepName = "close_stdin" | "sigterm" | "sigkill";

export interface TerminationTarget {
  /** Close the child's stdin; false if it has none (then the step is skipped, with no wait). */
  closeStdin(): boolean;
  /** Send `signal` to the whole process group. */
  signalGroup(signal: "SIGTERM" | "SIGKILL"): void;
  /** Resolves when the leader has exited. */
  readonly exited: Promise<unknown>;
  /** True once the leader has exited and the group has no live member. */
  gone(): boolean;
}

interface Step {
  name: StepName;
  /** false: nothing to do, go to the next step at once. */
  act(target: TerminationTarget): boolean;
}

export const LADDER: readonly Step[] = [
  { name: "close_stdin", act: (t) => t.closeStdin() },
  { name: "sigterm", act: (t) => (t.signalGroup("SIGTERM"), true) },
  { name: "sigkill", act: (t) => (t.signalGroup("SIGKILL"), true) },
];

/** How often group membership is re-read while waiting; only during termination. */
const POLL_MS = 20;

export type TerminationOutcome = StepName | "already_gone" | "survived";

/**
 * Run the ladder from `from` (a leader that already exited on its own has no stdin worth
 * closing: sweeping its leftovers starts at SIGTERM). Resolves with the step that ended it.
 */
export async function terminate(
  target: TerminationTarget,
  graceMs: number,
  from: StepName = "close_stdin",
): Promise<TerminationOutcome> {
  if (target.gone()) return "already_gone";
  const start = LADDER.findIndex((s) => s.name === from);
  for (const step of LADDER.slice(start)) {
    if (!step.act(target)) continue;
    if (await waitGone(target, graceMs)) return step.name;
  }
  return "survived";
}

/** Wait until the group is gone or `ms` pass; true if it is gone. */
export async function waitGone(target: TerminationTarget, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  let timer: Timer | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([target.exited, expired]);
    while (!target.gone()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await Bun.sleep(Math.min(POLL_MS, left));
    }
    return true;
  } finally {
    clearTimeout(timer);
  }
}
