/**
 * Wall-clock time in nanoseconds with sub-millisecond resolution, comparable with the emitter's
 * CLOCK_REALTIME stamps. JavaScript only has `Date.now()` (1 ms steps) and the monotonic
 * `performance.now()`. At the instant `Date.now()` ticks to N, wall time is N ms plus however
 * late the tick was noticed (≥ 0), so `N - performance.now()` underestimates the offset by that
 * delay: over several ticks the largest estimate is the closest (within a microsecond or two,
 * unless every tick was noticed late). Re-create per run: the two clocks may drift apart.
 */
const TICKS = 12;
const MAX_SPIN_MS = 5; // per tick; Date.now() ticks every millisecond

export class RealtimeClock {
  /** Wall-clock ms minus performance.now() ms. */
  private readonly offsetMs: number;

  constructor() {
    let best = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < TICKS; k++) {
      const start = Date.now();
      const deadline = performance.now() + MAX_SPIN_MS;
      let now = start;
      let perf = performance.now();
      while (now === start && perf < deadline) {
        now = Date.now();
        perf = performance.now();
      }
      if (now !== start) best = Math.max(best, now - perf);
    }
    this.offsetMs = Number.isFinite(best) ? best : Date.now() - performance.now();
  }

  /** Nanoseconds since the epoch (a double: ~256 ns of rounding at today's magnitude). */
  nowNs(): number {
    return (this.offsetMs + performance.now()) * 1e6;
  }
}

/** The `"t":<ns>` stamp at the start of an emitter `rate` line, or NaN. */
export function stampOf(line: string): number {
  if (!line.startsWith('{"t":')) return Number.NaN;
  const end = line.indexOf(",", 5);
  return end < 0 ? Number.NaN : Number(line.slice(5, end));
}
