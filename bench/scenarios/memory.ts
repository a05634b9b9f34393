/**
 * (4) Memory per idle connection: `sockets` connections each holding a child that printed one
 * line and sleeps. Server RSS (the server process alone) after they are all up, minus RSS
 * before, divided by `sockets`. A fresh server per repetition, warmed up by a few sessions
 * that have fully ended, so one-off start-up allocations are not charged to connections.
 */
import { Session } from "../client/session.ts";
import type { BenchContext, Column, Figure } from "../figures.ts";
import { wsTargets } from "../figures.ts";
import { childPids, openFilesLimit, rssBytes } from "../proc-stats.ts";
import { summarize } from "../stats.ts";
import { withServer, type RunningServer } from "../targets/target.ts";
import { waitFor, within } from "../wait.ts";

const WARM_UP = 20;
const OPEN_CONCURRENCY = 50;
const FIRST_LINE_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 30_000;
/** Per connection a server holds a socket and, for its child, two or three pipe ends. */
const FDS_PER_CONNECTION = 4;

/** Open `count` sessions (a few at a time), each up once its child's first line arrived. */
async function openIdle(server: RunningServer, count: number): Promise<Session[]> {
  const sessions: Session[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const s = await Session.open(server, { timeoutMs: 10 * 60_000 });
      sessions.push(s);
      await within(s.firstLine, "an idle session's first line", FIRST_LINE_TIMEOUT_MS);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, worker));
  } catch (err) {
    await closeAll(sessions);
    throw err;
  }
  return sessions;
}

async function closeAll(sessions: Session[]): Promise<void> {
  for (const s of sessions) s.close();
  await within(Promise.all(sessions.map((s) => s.done)), "idle sessions to close", CLOSE_TIMEOUT_MS);
}

function checkFdLimits(server: RunningServer, sockets: number): void {
  const need = sockets * FDS_PER_CONNECTION + 256;
  for (const [who, pid] of [[server.name, server.pid], ["bench client", process.pid]] as const) {
    const limit = openFilesLimit(pid);
    if (limit < need) throw new Error(`${who} may open only ${limit} files, ${need} needed for ${sockets} sockets: raise \`ulimit -n\``);
  }
}

async function oneRep(server: RunningServer, sockets: number): Promise<number> {
  checkFdLimits(server, sockets);
  await closeAll(await openIdle(server, WARM_UP));
  await waitFor(() => childPids(server.pid).length === 0, `${server.name}'s warm-up children to exit`, CLOSE_TIMEOUT_MS);
  const before = rssBytes(server.pid);
  const sessions = await openIdle(server, sockets);
  const after = rssBytes(server.pid);
  await closeAll(sessions);
  return (after - before) / sockets / 1024;
}

export async function measureMemory(ctx: BenchContext): Promise<Figure[]> {
  const { sockets, reps } = ctx.sizes.memory;
  const results = new Map<Column, number[]>(wsTargets(ctx).map((t) => [t.name, []]));
  for (let i = 0; i < reps; i++) {
    for (const target of wsTargets(ctx)) {
      const kb = await withServer(target, ["sleep"], (server) => oneRep(server, sockets));
      results.get(target.name)!.push(kb);
      ctx.log(`  #${i + 1} ${target.name}: ${kb.toFixed(1)} KB per idle connection`);
    }
  }
  return [
    {
      key: "rssPerConn",
      label: `Server RSS per idle connection (${sockets} sockets, each with a sleeping child)`,
      unit: "KB",
      values: Object.fromEntries([...results].map(([col, runs]) => [col, summarize(runs)])),
      note: "server process only; children not counted",
    },
  ];
}
