import { describe, expect, test } from "bun:test";
import { RateLimiter } from "../../lib/rate-limiter.ts";

/** A limiter on a clock the test moves by hand. */
function limiter(perMinute: number) {
  let now = 0;
  const rl = new RateLimiter(perMinute, () => now);
  return {
    rl,
    advance: (ms: number) => void (now += ms),
    /** How many `take(key)` succeed in a row right now. */
    drain: (key: string, max = 10_000) => {
      let n = 0;
      while (n < max && rl.take(key).ok) n++;
      return n;
    },
  };
}

/** The limiter's bucket count, read through its private map: the only way to see pruning. */
const bucketCount = (rl: RateLimiter) => (rl as unknown as { buckets: Map<string, unknown> }).buckets.size;

describe("RateLimiter burst capacity", () => {
  // perMinute / 4, rounded up, at least 1 and at most perMinute.
  test.each([
    [1, 1],
    [2, 1],
    [3, 1],
    [4, 1],
    [5, 2],
    [8, 2],
    [60, 15],
    [61, 16],
    [120, 30],
    [1000, 250],
  ])("at %p per minute allows a burst of %p", (perMinute, burst) => {
    expect(limiter(perMinute).drain("k")).toBe(burst);
  });

  test("answers ok with retryAfterMs 0 while tokens remain", () => {
    const { rl } = limiter(60);
    expect(rl.take("k")).toEqual({ ok: true, retryAfterMs: 0 });
  });
});

describe("RateLimiter refill", () => {
  test("gives one more connection per 60000/perMinute ms, never beyond the burst", () => {
    const { advance, drain } = limiter(60);
    expect(drain("k")).toBe(15);
    advance(999);
    expect(drain("k")).toBe(0);
    advance(1);
    expect(drain("k")).toBe(1);
    advance(5_000);
    expect(drain("k")).toBe(5);
    advance(10 * 60_000);
    expect(drain("k")).toBe(15);
  });

  test("keeps fractional progress across refused attempts", () => {
    const { rl, advance } = limiter(60);
    while (rl.take("k").ok);
    for (let i = 0; i < 4; i++) {
      advance(250);
      expect(rl.take("k").ok).toBe(i === 3);
    }
  });

  test("sustains perMinute connections a minute once the burst is spent", () => {
    const { rl, advance, drain } = limiter(120);
    drain("k");
    let allowed = 0;
    for (let t = 0; t < 60_000; t += 100) {
      advance(100);
      if (rl.take("k").ok) allowed++;
    }
    expect(allowed).toBe(120);
  });
});

describe("RateLimiter retryAfterMs", () => {
  test("is 60000/perMinute ms right after the burst is spent", () => {
    const { rl, drain } = limiter(60);
    drain("k");
    expect(rl.take("k")).toEqual({ ok: false, retryAfterMs: 1000 });
    const slow = limiter(4);
    slow.drain("k");
    expect(slow.rl.take("k")).toEqual({ ok: false, retryAfterMs: 15_000 });
  });

  /** Spend the burst, let `elapsed` ms pass, spend what refilled: the bucket holds a fraction. */
  function refusedAfter(perMinute: number, elapsed: number) {
    const l = limiter(perMinute);
    l.drain("k");
    l.advance(elapsed);
    l.drain("k");
    const refused = l.rl.take("k");
    expect(refused.ok).toBe(false);
    return { ...l, hint: refused.retryAfterMs };
  }

  // For each rate and each partial refill: one millisecond before the hint is still too early,
  // and at the hint exactly a connection is allowed.
  test.each([1, 2, 3, 7, 13, 60, 61, 97, 120, 1000, 7919])("is exact to the millisecond at %p per minute", (perMinute) => {
    for (const elapsed of [0, 1, 17, 333, 1234, 4999, 59_999]) {
      const early = refusedAfter(perMinute, elapsed);
      expect(early.hint).toBeGreaterThan(0);
      early.advance(early.hint - 1);
      expect({ perMinute, elapsed, hint: early.hint, ok: early.rl.take("k").ok }).toEqual({ perMinute, elapsed, hint: early.hint, ok: false });
      const onTime = refusedAfter(perMinute, elapsed);
      onTime.advance(onTime.hint);
      expect({ perMinute, elapsed, hint: onTime.hint, ok: onTime.rl.take("k").ok }).toEqual({ perMinute, elapsed, hint: onTime.hint, ok: true });
    }
  });

  // Regression — this was a bug (lib/rate-limiter.ts take): the hint is ceil((1 - tokens) / perMs), and refilling by
  // exactly that many ms can land a hair under 1 token in floating point. At 10 per minute, a
  // bucket 564 ms into its refill gets the hint 5436 ms (564 + 5436 = 6000 exactly), but at
  // +5436 ms it holds 0.9999999999999999 tokens and refuses again, with retryAfterMs 1.
  test("allows a connection exactly at the hint even when the refill is a whole period (10 per minute, 564 ms in)", () => {
    const { rl, advance, hint } = refusedAfter(10, 564);
    expect(hint).toBe(5436);
    advance(hint);
    expect(rl.take("k")).toEqual({ ok: true, retryAfterMs: 0 });
  });
});

describe("RateLimiter keys", () => {
  test("keeps a separate bucket for each key", () => {
    const { rl, drain } = limiter(8);
    expect(drain("203.0.113.7")).toBe(2);
    expect(rl.take("203.0.113.7").ok).toBe(false);
    expect(drain("198.51.100.1")).toBe(2);
    expect(drain("user:42")).toBe(2);
  });

  test("still refuses a spent key after pruning passes over many other keys", () => {
    const { rl, drain } = limiter(60);
    drain("hot");
    for (let i = 0; i < 5_000; i++) expect(rl.take(`ip-${i}`).ok).toBe(true);
    expect(rl.take("hot").ok).toBe(false);
  });

  test("forgets refilled buckets, so the map stays as small as the recently active keys", () => {
    const { rl, advance } = limiter(60);
    for (let i = 0; i < 3_000; i++) rl.take(`ip-${i}`);
    expect(bucketCount(rl)).toBeGreaterThan(1_000);
    advance(60_000);
    for (let i = 0; i < 1_024; i++) rl.take("steady");
    expect(bucketCount(rl)).toBeLessThanOrEqual(1);
  });

  test("gives a forgotten key its full burst again", () => {
    const { rl, advance, drain } = limiter(60);
    drain("returning");
    advance(60_000);
    for (let i = 0; i < 2_048; i++) rl.take(`other-${i % 7}`);
    expect(drain("returning")).toBe(15);
  });
});
