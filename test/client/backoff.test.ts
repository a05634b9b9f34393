import { describe, expect, test } from "bun:test";
import { backoffDelay, DEFAULT_BACKOFF } from "../../lib/client/backoff.ts";

const opts = { baseMs: 500, maxMs: 8_000, maxAttempts: 6 };

describe("backoffDelay", () => {
  test.each([
    [1, 250, 500],
    [2, 500, 1_000],
    [3, 1_000, 2_000],
    [4, 2_000, 4_000],
    [5, 4_000, 8_000],
    [6, 4_000, 8_000], // capped at maxMs
  ])("attempt %i waits between %i and %i ms", (attempt, low, high) => {
    expect(backoffDelay(attempt, opts, () => 0)).toBe(low);
    expect(backoffDelay(attempt, opts, () => 0.999_999)).toBe(high);
  });

  test("never waits less than half the base delay, so an unlucky random number cannot make a tight loop", () => {
    for (let attempt = 1; attempt <= 20; attempt++) expect(backoffDelay(attempt, DEFAULT_BACKOFF, () => 0)).toBeGreaterThanOrEqual(DEFAULT_BACKOFF.baseMs / 2);
  });

  test("waits at least the gateway's retryAfterMs, even past maxMs", () => {
    expect(backoffDelay(1, opts, () => 0.5, 5_000)).toBe(5_000);
    expect(backoffDelay(1, opts, () => 0.5, 60_000)).toBe(60_000);
    expect(backoffDelay(5, opts, () => 0.999_999, 100)).toBe(8_000);
  });

  test("spreads clients out: different random numbers give different delays", () => {
    const delays = new Set([0.1, 0.3, 0.5, 0.7, 0.9].map((r) => backoffDelay(3, opts, () => r)));
    expect(delays.size).toBe(5);
  });
});
