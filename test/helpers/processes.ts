/**
 * The OS process table as `ps` sees it: cleanup tests check this, never the gateway's own state.
 * Zombies (state Z) are dead and are not counted: this machine's PID 1 does not reap orphans.
 */
export interface PsRow {
  pid: number;
  pgid: number;
  stat: string;
  args: string;
}

export function ps(): PsRow[] {
  const out = Bun.spawnSync(["ps", "-eo", "pid=,pgid=,stat=,args="], { stdout: "pipe" }).stdout.toString();
  return out
    .split("\n")
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), pgid: Number(m[2]), stat: m[3]!, args: m[4]! }));
}

/** Live processes in process group `pgid`. */
export function liveInGroup(pgid: number): PsRow[] {
  return ps().filter((p) => p.pgid === pgid && !p.stat.startsWith("Z"));
}

/** Whether any of `pids` is still a live (non-zombie) process. */
export function anyAlive(pids: number[]): PsRow[] {
  const set = new Set(pids);
  return ps().filter((p) => set.has(p.pid) && !p.stat.startsWith("Z"));
}
