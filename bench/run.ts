/**
 * The benchmark suite: the gateway against websocketd and the pipe limit, written to
 * bench/RESULTS.md (`--quick`: a smaller smoke run, written to bench/RESULTS-quick.md).
 *
 *   bun bench/run.ts [--quick] [--only=throughput,latency,setup,memory,slow,real-cli] [--out=FILE] [--gateway-dir=DIR]
 *
 * --gateway-dir runs another checkout's server.ts (e.g. a `git archive` of a commit, with
 * node_modules linked in), to compare versions with the same bench.
 *
 * Every process it starts is stopped at the end, on error and on Ctrl-C.
 */
import { join, resolve } from "node:path";
import { BENCH_DIR, buildEmitter } from "./build.ts";
import type { BenchContext, Figure } from "./figures.ts";
import { InterferenceMeter } from "./interference.ts";
import { machineInfo } from "./machine.ts";
import { stopAll, stopAllOnSignal } from "./processes.ts";
import { formatNumber, renderReport } from "./report.ts";
import { emitterRate } from "./scenarios/emitter-check.ts";
import { measureLatency } from "./scenarios/latency.ts";
import { measureMemory } from "./scenarios/memory.ts";
import { measureRealCli } from "./scenarios/real-cli.ts";
import { measureSetup } from "./scenarios/setup.ts";
import { measureSlowConsumer } from "./scenarios/slow-consumer.ts";
import { measureThroughput } from "./scenarios/throughput.ts";
import { FULL, QUICK } from "./sizes.ts";
import { gatewaySource, gatewayTarget } from "./targets/gateway.ts";
import { websocketdTarget } from "./targets/websocketd.ts";

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<Figure[]>> = {
  throughput: measureThroughput,
  latency: measureLatency,
  setup: measureSetup,
  memory: measureMemory,
  slow: measureSlowConsumer,
  "real-cli": measureRealCli,
};

function parseArgs(argv: string[]) {
  const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = argv.includes("--quick");
  const only = flag("only")?.split(",") ?? Object.keys(SCENARIOS);
  const unknown = only.filter((s) => !(s in SCENARIOS));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${Object.keys(SCENARIOS).join(", ")}`);
  const gatewayDir = flag("gateway-dir");
  return { sizes: quick ? QUICK : FULL, only, gatewayDir: gatewayDir ? resolve(gatewayDir) : undefined, out: flag("out") ?? join(BENCH_DIR, quick ? "RESULTS-quick.md" : "RESULTS.md") };
}

async function main(): Promise<number> {
  const { sizes, only, out, gatewayDir } = parseArgs(process.argv.slice(2));
  stopAllOnSignal();
  const started = performance.now();
  const log = (m: string) => console.log(m);
  const notes: string[] = [];
  const emitter = await buildEmitter();
  installWebsocketd(log);
  const websocketd = websocketdTarget(emitter);
  if (websocketd === null) {
    const notice = "websocketd is not installed (apt-get install -y websocketd): its column and the ratios to it are skipped";
    log(`NOTICE: ${notice}`);
    notes.push(notice);
  }
  notes.push(`Gateway measured: ${gatewaySource(gatewayDir)}${gatewayDir ? " (--gateway-dir)" : ""}.`);
  const ctx: BenchContext = { emitter, sizes, gateway: gatewayTarget({ emitter, root: gatewayDir }), websocketd, log };
  const figures: Figure[] = [];
  const foreign: string[] = [];
  let failed = 0;
  try {
    const emitted = await emitterRate(ctx);
    log(`emitter → /dev/null: ${formatNumber(emitted.median)} lines/s`);
    for (const name of only) {
      log(`\n== ${name} (${sizes.name})`);
      const meter = new InterferenceMeter();
      try {
        figures.push(...(await SCENARIOS[name]!(ctx)));
        foreign.push(`${name} ${meter.foreignPercent().toFixed(1)}%`);
      } catch (err) {
        failed++;
        log(`FAILED: ${name}: ${(err as Error).stack ?? err}`);
        notes.push(`${name} FAILED: ${(err as Error).message.split("\n")[0]}`);
        await stopAll(); // whatever that scenario left running
      }
    }
    const pipe = figures.find((f) => f.key === "throughputLines")?.values.pipe;
    const vsPipe = pipe?.runs ? ` — ${(emitted.median / pipe.median).toFixed(0)}× the pipe limit, so the emitter is never what is measured` : "";
    notes.push(`CPU taken by other work on the machine during each measurement (share of all cores; more than a few % skews throughput and tails): ${foreign.join(", ")}.`);
    notes.push(`Emitter alone (stdout → /dev/null): ${formatNumber(emitted.median)} lines/s (${formatNumber(emitted.min)}–${formatNumber(emitted.max)})${vsPipe}.`);
  } finally {
    await stopAll();
  }
  notes.push(
    "Throughput is timed from the first CLI line received to the last; server CPU is utime+stime of the server process alone (/proc/<pid>/stat, 10 ms ticks) over the session, per frame.",
    "Latency: each line carries its CLOCK_REALTIME send time; the client's clock is calibrated against Date.now() at a millisecond tick. Each server's first latency session is a warm-up.",
    "Gateway: LOG_LEVEL=warn (per-connection info lines are not part of any figure), MAX_PROCESSES=1000, admission limits raised, a fresh HS256 JWT verified on every connection; the port is chosen by the bench. websocketd: --loglevel=error.",
  );
  const report = renderReport({ machine: await machineInfo(), sizes, figures, notes, elapsedSec: (performance.now() - started) / 1000 });
  await Bun.write(out, report);
  log(`\n${report}\nwritten to ${out}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main().catch(async (err) => {
  console.error(err);
  await stopAll();
  return 1;
});

/** On a fresh Debian machine as root, fetch websocketd (Debian's package) rather than skip it. */
function installWebsocketd(log: (m: string) => void): void {
  if (Bun.which("websocketd") !== null || Bun.which("apt-get") === null || process.getuid?.() !== 0) return;
  log("websocketd is missing: apt-get install -y websocketd");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  Bun.spawnSync(["apt-get", "update"], { env, stdout: "ignore", stderr: "inherit" });
  const install = Bun.spawnSync(["apt-get", "install", "-y", "websocketd"], { env, stdout: "ignore", stderr: "inherit" });
  if (install.exitCode !== 0) log("apt-get could not install websocketd; its column is skipped");
}
