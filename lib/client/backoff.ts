/**
 * How long to wait before a reconnect: exponential, with jitter so that many clients dropped by
 * one gateway restart do not come back in step, and never less than the gateway's own
 * `retryAfterMs` hint.
 */

export interface BackoffOptions {
  /** The first delay's ceiling. */
  baseMs: number;
  /** No delay grows past this (a `retryAfterMs` hint may). */
  maxMs: number;
  /** Reconnects after one failure before giving up. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 500, // a restart or a freed slot takes about this long
  maxMs: 30_000,
  maxAttempts: 6, // ~0.5 + 1 + 2 + 4 + 8 + 16 s at most, then let the person decide
};

/**
 * The delay before reconnect number `attempt` (1-based). "Equal jitter": half the exponential
 * step is fixed and half random, so a delay is never below `baseMs / 2` — no tight loop even with
 * an unlucky random number.
 *
 * @example
 * backoffDelay(3, DEFAULT_BACKOFF, Math.random)        // between 1000 and 2000
 * backoffDelay(1, DEFAULT_BACKOFF, Math.random, 5000)  // 5000: the gateway's hint wins
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number, retryAfterMs?: number): number {
  const step = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = step / 2 + (random() * step) / 2;
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}
