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
  tokens: number;
  at: number;
}

const PRUNE_EVERY = 1024;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly perMs: number;
  private calls = 0;

  constructor(
    perMinute: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = Math.max(1, Math.min(perMinute, Math.ceil(perMinute / 4)));
    this.perMs = perMinute / 60_000;
  }

  take(key: string): RateDecision {
    const now = this.now();
    if (++this.calls % PRUNE_EVERY === 0) this.prune(now);
    const b = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    b.tokens = Math.min(this.capacity, b.tokens + (now - b.at) * this.perMs);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, retryAfterMs: 0 };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / this.perMs) };
  }

  private prune(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.capacity) this.buckets.delete(key);
    }
  }
}
