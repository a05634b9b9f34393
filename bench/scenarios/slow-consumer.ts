/**
 * (5) Slow consumer: the emitter prints B bytes of numbered 1 KiB lines to a client that reads
 * ~1 MB/s. The server must hold back (pipe unread, CLI blocked) rather than buffer: its RSS
 * growth (peak during the run minus before it) stays bounded, and every byte arrives in order.
 * The targets run side by side: each reads at 1 MB/s, far from any CPU limit.
 */
import { runSession } from "../client/session.ts";
import { rawSession } from "../client/raw-ws.ts";
import type { BenchContext, Figure } from "../figures.ts";
import { wsTargets } from "../figures.ts";
import { rssBytes } from "../proc-stats.ts";
import { summarize } from "../stats.ts";
import { withServer, type RunningServer, type WsTarget } from "../targets/target.ts";

interface Outcome {
  growthMB: number;
  missingBytes: number;
  outOfOrder: number;
  readMBps: number;
}

const RSS_SAMPLE_MS = 250;
const SEQ_PREFIX = '{"seq":';

/** Checks the stream: consecutive `seq` from 0, and the byte count (each line plus its newline). */
class SequenceCheck {
  bytes = 0;
  /** Lines whose seq was not the one expected (a gap, a repeat, or no seq). */
  outOfOrder = 0;
  firstProblem: string | null = null;
  private next = 0;
  private readonly decoder = new TextDecoder();

  onLine(payload: Uint8Array): void {
    this.bytes += payload.length + 1;
    const head = this.decoder.decode(payload.subarray(0, 24));
    const seq = head.startsWith(SEQ_PREFIX) ? Number.parseInt(head.slice(SEQ_PREFIX.length), 10) : Number.NaN;
    if (seq !== this.next) {
      this.outOfOrder++;
      this.firstProblem ??= `line ${this.next}: got seq ${seq}`;
    }
    this.next = Number.isNaN(seq) ? this.next + 1 : seq + 1;
  }
}

async function slowOne(target: WsTarget, ctx: BenchContext): Promise<Outcome> {
  const { bytes, readBytesPerSec } = ctx.sizes.slow;
  const expectedSecs = bytes / readBytesPerSec;
  const runTimeoutMs = String(Math.ceil(expectedSecs * 3000 + 60_000)); // the gateway's RUN_TIMEOUT_MS must outlast the slow read
  return withServer(target, ["bytes", String(bytes)], async (server: RunningServer) => {
    await runSession(server, { timeoutMs: 30_000, closeOnFirstLine: true }); // warm-up: first-connection allocations are not growth
    const before = rssBytes(server.pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(server.pid))), RSS_SAMPLE_MS);
    const check = new SequenceCheck();
    const r = await rawSession({
      port: server.port,
      path: new URL(server.url).pathname,
      headers: await server.headers(),
      promptFrame: server.promptFrame,
      readBytesPerSec,
      onLine: (p) => check.onLine(p),
      timeoutMs: expectedSecs * 2000 + 60_000,
    }).finally(() => clearInterval(sampler));
    peak = Math.max(peak, rssBytes(server.pid));
    const secs = (r.closedAt - r.startedAt) / 1000;
    const problems = [r.error, check.firstProblem, target.name === "gateway" && r.exitReason !== "completed" ? `exit reason ${r.exitReason}` : null].filter(Boolean);
    if (problems.length > 0) ctx.log(`  ${target.name}: ${problems.join("; ")}`);
    const outcome = { growthMB: (peak - before) / 1e6, missingBytes: bytes - check.bytes, outOfOrder: check.outOfOrder, readMBps: r.wireBytes / secs / 1e6 };
    ctx.log(`  ${target.name}: RSS +${outcome.growthMB.toFixed(1)} MB, ${check.bytes} of ${bytes} bytes in ${secs.toFixed(0)} s`);
    return outcome;
  }, { env: { RUN_TIMEOUT_MS: runTimeoutMs } });
}

export async function measureSlowConsumer(ctx: BenchContext): Promise<Figure[]> {
  const targets = wsTargets(ctx);
  const outcomes = await Promise.all(targets.map((t) => slowOne(t, ctx)));
  const values = (pick: (o: Outcome) => number) => Object.fromEntries(targets.map((t, i) => [t.name, summarize([pick(outcomes[i]!)])]));
  const mb = ctx.sizes.slow.bytes / 1e6;
  const rate = ctx.sizes.slow.readBytesPerSec / 1e6;
  return [
    { key: "slowRssGrowth", label: `Slow consumer: server RSS growth (${mb} MB read at ${rate} MB/s)`, unit: "MB", values: values((o) => o.growthMB), note: "peak during the run minus before it; one run" },
    { key: "slowLost", label: "Slow consumer: bytes missing at the close", unit: "bytes", values: values((o) => o.missingBytes) },
    { key: "slowOutOfOrder", label: "Slow consumer: lines out of sequence", unit: "lines", values: values((o) => o.outOfOrder) },
    { key: "slowReadRate", label: "Slow consumer: achieved read rate (shows the throttle held)", unit: "MB/s", values: values((o) => o.readMBps) },
  ];
}
