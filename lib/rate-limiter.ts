/**
 * A token bucket per key (user or IP): `perMinute` connections a minute, in bursts of up to
 * `perMinute / 4` (at least 1 and at most perMinute). Buckets that have refilled are forgotten,
 * so the map stays as small as the set of keys active in the last minute.
 */
export interface RateDecision {
  ok: boolean;
  /** When `ok` is false: how long until one more is allowed. */
  retryAfterMs: number;
}

interface Bucket {
  /** Fill level in units of 1/60000 token: refilling adds `perMinute` units a millisecond. */
  level: number;
  at: number;
}

const PRUNE_EVERY = 1024;
const UNIT = 60_000; // one token, in units: integer arithmetic keeps retryAfterMs exact

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private calls = 0;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = Math.max(1, Math.min(perMinute, Math.ceil(perMinute / 4))) * UNIT;
  }

  take(key: string): RateDecision {
    const now = Math.floor(this.now());
    if (++this.calls % PRUNE_EVERY === 0) this.prune(now);
    const b = this.buckets.get(key) ?? { level: this.capacity, at: now };
    b.level = Math.min(this.capacity, b.level + (now - b.at) * this.perMinute);
    b.at = now;
    this.buckets.set(key, b);
    if (b.level >= UNIT) {
      b.level -= UNIT;
      return { ok: true, retryAfterMs: 0 };
    }
    return { ok: false, retryAfterMs: Math.ceil((UNIT - b.level) / this.perMinute) };
  }

  private prune(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.level + (now - b.at) * this.perMinute >= this.capacity) this.buckets.delete(key);
    }
  }
}
