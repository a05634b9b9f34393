/**
 * Admission: who gets a connection and who gets a process, and when.
 *
 * - Connections: a rate per client IP (checked before the token is even verified), then per user
 *   (`sub`) a rate and a cap on open sockets.
 * - Runs: at most MAX_PROCESSES_PER_USER live-or-queued per user, MAX_PROCESSES in all. Past the
 *   global limit a run waits in a bounded queue (QUEUE_LIMIT, QUEUE_TIMEOUT_MS). When a slot frees,
 *   it goes to the waiting user with the fewest live runs (oldest first among equals), so one
 *   user's burst cannot starve the others.
 */
import type { AdmissionConfig } from "../lib/auth/config.ts";
import { GatewayError } from "../lib/errors.ts";
import { RateLimiter } from "../lib/rate-limiter.ts";

export interface RunSlot {
  /** Free the slot (idempotent). Call before the run's close frame goes out. */
  release(): void;
}

export interface RunTicket {
  /** Resolves with a slot; rejects with try_again_later when the wait times out. */
  readonly granted: Promise<RunSlot>;
  /** Leave the queue (socket gone); a granted slot is released. */
  cancel(): void;
}

interface Waiter {
  sub: string;
  seq: number;
  grant: (slot: RunSlot) => void;
  fail: (err: GatewayError) => void;
  timer: Timer;
  onPosition: (position: number) => void;
  position: number;
}

export class Admission {
  private live = 0;
  private readonly liveByUser = new Map<string, number>();
  private readonly queuedByUser = new Map<string, number>();
  private readonly connsByUser = new Map<string, number>();
  private queue: Waiter[] = [];
  private seq = 0;
  /** When each competing user was last granted a slot: the basis of round-robin between users. */
  private readonly lastGrant = new Map<string, number>();
  private grants = 0;
  private readonly ipRate: RateLimiter;
  private readonly userRate: RateLimiter;

  constructor(
    private readonly cfg: AdmissionConfig & { maxProcesses: number },
    now?: () => number,
  ) {
    this.ipRate = new RateLimiter(cfg.connectRatePerIp, now);
    this.userRate = new RateLimiter(cfg.connectRatePerUser, now);
  }

  get liveRuns(): number {
    return this.live;
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  /** Before the upgrade: null, or the refusal. */
  checkIp(ip: string): GatewayError | null {
    const d = this.ipRate.take(ip);
    return d.ok ? null : new GatewayError("rate_limited", "Too many connections from this address; slow down.", d.retryAfterMs);
  }

  /** Once the user is known. On success the caller must call `closeConnection(sub)` later. */
  openConnection(sub: string): GatewayError | null {
    const open = this.connsByUser.get(sub) ?? 0;
    if (open >= this.cfg.maxConnectionsPerUser) {
      return new GatewayError("rate_limited", `At most ${this.cfg.maxConnectionsPerUser} open connections per user; close one first.`, 1000);
    }
    const d = this.userRate.take(sub);
    if (!d.ok) return new GatewayError("rate_limited", "Connecting too fast; slow down.", d.retryAfterMs);
    this.connsByUser.set(sub, open + 1);
    return null;
  }

  closeConnection(sub: string): void {
    decrement(this.connsByUser, sub);
  }

  /** Ask for a process slot. Throws rate_limited (per-user cap) or try_again_later (queue full). */
  requestRun(sub: string, onPosition: (position: number) => void): RunTicket {
    const mine = (this.liveByUser.get(sub) ?? 0) + (this.queuedByUser.get(sub) ?? 0);
    if (mine >= this.cfg.maxProcessesPerUser) {
      throw new GatewayError("rate_limited", `At most ${this.cfg.maxProcessesPerUser} runs at once per user; wait for one to finish.`, 1000);
    }
    if (this.live < this.cfg.maxProcesses && this.queue.length === 0) {
      const slot = this.grant(sub);
      return { granted: Promise.resolve(slot), cancel: () => slot.release() };
    }
    if (this.queue.length >= this.cfg.queueLimit) {
      throw new GatewayError("try_again_later", "The gateway is at capacity and its queue is full; retry later.", this.cfg.queueTimeoutMs);
    }
    let waiter!: Waiter;
    let slot: RunSlot | null = null;
    const granted = new Promise<RunSlot>((resolve, reject) => {
      waiter = {
        sub,
        seq: this.seq++,
        grant: (s) => ((slot = s), resolve(s)),
        fail: reject,
        timer: setTimeout(() => {
          this.leave(waiter);
          this.announcePositions();
          reject(new GatewayError("try_again_later", "Waited too long for a free process slot; retry later.", this.cfg.queueTimeoutMs));
        }, this.cfg.queueTimeoutMs),
        onPosition,
        position: 0,
      };
    });
    this.queue.push(waiter);
    increment(this.queuedByUser, sub);
    this.announcePositions();
    return {
      granted,
      cancel: () => {
        if (slot !== null) (slot as RunSlot).release();
        else if (this.leave(waiter)) this.announcePositions();
      },
    };
  }

  private grant(sub: string): RunSlot {
    this.live++;
    increment(this.liveByUser, sub);
    this.lastGrant.set(sub, ++this.grants);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.live--;
        decrement(this.liveByUser, sub);
        if (!this.liveByUser.has(sub) && !this.queuedByUser.has(sub)) this.lastGrant.delete(sub); // no longer competing
        this.serveQueue();
      },
    };
  }

  /**
   * Give free slots to waiters: the user with the fewest live runs first; among equals, the user
   * served longest ago (round-robin, so a user's second queued run waits for the others' first);
   * then the oldest request.
   */
  private serveQueue(): void {
    let changed = false;
    const rank = (w: Waiter) => [this.liveByUser.get(w.sub) ?? 0, this.lastGrant.get(w.sub) ?? 0, w.seq] as const;
    while (this.live < this.cfg.maxProcesses && this.queue.length > 0) {
      let best = this.queue[0]!;
      for (const w of this.queue) {
        const [a1, a2, a3] = rank(w);
        const [b1, b2, b3] = rank(best);
        if (a1 < b1 || (a1 === b1 && (a2 < b2 || (a2 === b2 && a3 < b3)))) best = w;
      }
      this.leave(best);
      best.grant(this.grant(best.sub));
      changed = true;
    }
    if (changed) this.announcePositions();
  }

  private leave(w: Waiter): boolean {
    const i = this.queue.indexOf(w);
    if (i === -1) return false;
    this.queue.splice(i, 1);
    clearTimeout(w.timer);
    decrement(this.queuedByUser, w.sub);
    return true;
  }

  private announcePositions(): void {
    this.queue.forEach((w, i) => {
      if (w.position !== i + 1) {
        w.position = i + 1;
        w.onPosition(i + 1);
      }
    });
  }
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
