import { afterEach, describe, expect, test } from "bun:test";
import type { AdmissionConfig } from "../../lib/auth/config.ts";
import { GatewayError } from "../../lib/errors.ts";
import { Admission, type RunSlot, type RunTicket } from "../../websocket/admission.ts";

type Limits = AdmissionConfig & { maxProcesses: number };

/** Generous limits, so each test tightens only what it is about. */
const LOOSE: Limits = {
  maxProcesses: 10,
  maxProcessesPerUser: 100,
  maxConnectionsPerUser: 100,
  connectRatePerUser: 60_000,
  connectRatePerIp: 60_000,
  queueLimit: 64,
  queueTimeoutMs: 60_000,
};

let clock = 0;
const tickets: RunTicket[] = [];

/** An Admission on a hand-moved clock; every ticket it hands out is cancelled after the test. */
function admission(limits: Partial<Limits> = {}): Admission {
  clock = 0;
  return new Admission({ ...LOOSE, ...limits }, () => clock);
}

afterEach(() => {
  for (const t of tickets.splice(0)) t.cancel(); // clears queue timers
});

/** One event-loop turn: every promise already resolved has run its callbacks. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Run {
  name: string;
  ticket: RunTicket;
  positions: number[];
  slot: RunSlot | null;
  error: GatewayError | null;
}

/** Ask for a run as `sub`; `order` records the names of runs in the order they are granted. */
function run(adm: Admission, sub: string, name: string, order: string[] = []): Run {
  const positions: number[] = [];
  const ticket = adm.requestRun(sub, (p) => positions.push(p));
  tickets.push(ticket);
  const r: Run = { name, ticket, positions, slot: null, error: null };
  ticket.granted.then(
    (slot) => {
      r.slot = slot;
      order.push(name);
    },
    (err: GatewayError) => (r.error = err),
  );
  return r;
}

/** The GatewayError `fn` throws; fails the test if it returns. */
function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a GatewayError");
}

describe("connections", () => {
  test("limits connections per client IP, each address on its own", () => {
    const adm = admission({ connectRatePerIp: 8 }); // bursts of 2
    expect(adm.checkIp("203.0.113.7")).toBeNull();
    expect(adm.checkIp("203.0.113.7")).toBeNull();
    const refused = adm.checkIp("203.0.113.7");
    expect(refused).toMatchObject({ code: "rate_limited", retryAfterMs: 7_500 });
    expect(adm.checkIp("198.51.100.1")).toBeNull();
    clock += 7_500;
    expect(adm.checkIp("203.0.113.7")).toBeNull();
  });

  test("caps open connections per user until one is closed", () => {
    const adm = admission({ maxConnectionsPerUser: 2 });
    expect(adm.openConnection("42")).toBeNull();
    expect(adm.openConnection("42")).toBeNull();
    const refused = adm.openConnection("42");
    expect(refused).toMatchObject({ code: "rate_limited", retryAfterMs: 1000 });
    expect(refused?.message).toContain("2 open connections");
    expect(adm.openConnection("7")).toBeNull();
    adm.closeConnection("42");
    expect(adm.openConnection("42")).toBeNull();
  });

  test("limits the connection rate per user, with the time until the next one", () => {
    const adm = admission({ connectRatePerUser: 4 }); // bursts of 1, one per 15 s
    expect(adm.openConnection("42")).toBeNull();
    adm.closeConnection("42");
    expect(adm.openConnection("42")).toMatchObject({ code: "rate_limited", retryAfterMs: 15_000 });
    expect(adm.openConnection("7")).toBeNull();
    clock += 15_000;
    expect(adm.openConnection("42")).toBeNull();
  });

  test("does not spend the user's rate on a connection the cap refused", () => {
    const adm = admission({ maxConnectionsPerUser: 1, connectRatePerUser: 8 }); // bursts of 2
    expect(adm.openConnection("42")).toBeNull();
    expect(adm.openConnection("42")?.message).toContain("open connections");
    adm.closeConnection("42");
    expect(adm.openConnection("42")).toBeNull();
    adm.closeConnection("42");
    expect(adm.openConnection("42")?.message).toContain("too fast");
  });

  test("ignores closing more connections than were opened", () => {
    const adm = admission({ maxConnectionsPerUser: 1 });
    adm.closeConnection("42");
    adm.closeConnection("42");
    expect(adm.openConnection("42")).toBeNull();
    expect(adm.openConnection("42")?.code).toBe("rate_limited");
  });
});

describe("run slots", () => {
  test("grants a run at once while under MAX_PROCESSES, without a queue position", async () => {
    const adm = admission({ maxProcesses: 2 });
    const a = run(adm, "42", "a");
    await a.ticket.granted;
    expect(adm.liveRuns).toBe(1);
    expect(adm.queueDepth).toBe(0);
    expect(a.positions).toEqual([]);
  });

  test("caps live runs per user with rate_limited, other users unaffected", async () => {
    const adm = admission({ maxProcessesPerUser: 2 });
    const first = run(adm, "42", "first");
    run(adm, "42", "second");
    const err = thrown(() => adm.requestRun("42", () => {}));
    expect(err).toMatchObject({ code: "rate_limited", retryAfterMs: 1000 });
    expect(err.message).toContain("2 runs");
    run(adm, "7", "other");
    await first.ticket.granted;
    first.slot!.release();
    run(adm, "42", "third");
    expect(adm.liveRuns).toBe(3);
  });

  test("counts queued runs toward the per-user cap", async () => {
    const adm = admission({ maxProcesses: 1, maxProcessesPerUser: 2 });
    run(adm, "42", "live");
    run(adm, "42", "queued");
    expect(thrown(() => adm.requestRun("42", () => {})).code).toBe("rate_limited");
    expect(adm.queueDepth).toBe(1);
    run(adm, "7", "other user");
    expect(adm.queueDepth).toBe(2);
  });

  test("queues past MAX_PROCESSES, telling each waiter its position as the queue moves", async () => {
    const order: string[] = [];
    const adm = admission({ maxProcesses: 1 });
    const holder = run(adm, "h", "holder", order);
    const b = run(adm, "b", "b", order);
    const c = run(adm, "c", "c", order);
    const d = run(adm, "d", "d", order);
    expect([b.positions, c.positions, d.positions]).toEqual([[1], [2], [3]]);
    expect(adm.queueDepth).toBe(3);
    await turn();
    expect(order).toEqual(["holder"]);

    holder.slot!.release();
    await turn();
    expect(order).toEqual(["holder", "b"]);
    expect([b.positions, c.positions, d.positions]).toEqual([[1], [2, 1], [3, 2]]);
    expect(adm.liveRuns).toBe(1);

    b.slot!.release();
    await turn();
    expect(order).toEqual(["holder", "b", "c"]);
    expect(d.positions).toEqual([3, 2, 1]);
    expect(adm.queueDepth).toBe(1);
  });

  test("refuses with try_again_later when QUEUE_LIMIT waiters are already queued", () => {
    const adm = admission({ maxProcesses: 1, queueLimit: 2, queueTimeoutMs: 45_000 });
    run(adm, "h", "holder");
    run(adm, "a", "a");
    run(adm, "b", "b");
    expect(thrown(() => adm.requestRun("c", () => {}))).toMatchObject({ code: "try_again_later", retryAfterMs: 45_000 });
    expect(adm.queueDepth).toBe(2);
  });

  test("with QUEUE_LIMIT=0 refuses at once when every slot is taken", () => {
    const adm = admission({ maxProcesses: 1, queueLimit: 0 });
    run(adm, "h", "holder");
    expect(thrown(() => adm.requestRun("c", () => {})).code).toBe("try_again_later");
  });
});

describe("the queue timeout", () => {
  test("rejects a waiter with try_again_later and takes it out of the queue", async () => {
    const order: string[] = [];
    const adm = admission({ maxProcesses: 1, maxProcessesPerUser: 1, queueTimeoutMs: 20 });
    const holder = run(adm, "h", "holder", order);
    const waiter = run(adm, "w", "waiter", order);
    const err = await waiter.ticket.granted.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: "try_again_later", retryAfterMs: 20 });
    expect(adm.queueDepth).toBe(0);

    holder.slot!.release();
    await turn();
    expect(order).toEqual(["holder"]); // the slot did not go to the waiter that left
    expect(adm.liveRuns).toBe(0);
    run(adm, "w", "retry", order); // its place under the per-user cap is free again
    expect(adm.liveRuns).toBe(1);
  });

  // Regression — this was a bug (websocket/admission.ts requestRun, the timer callback): a waiter that times out leaves
  // the queue without announcePositions(), so the waiters behind it keep a stale position
  // (cancel() announces; the timeout path does not).
  test("moves the waiters behind a timed-out one up, telling them their new position", async () => {
    const adm = admission({ maxProcesses: 1, queueTimeoutMs: 20 });
    run(adm, "h", "holder");
    const first = run(adm, "a", "first");
    const second = run(adm, "b", "second");
    await first.ticket.granted.catch(() => {});
    expect(second.positions).toEqual([2, 1]);
  });
});

describe("cancel and release", () => {
  test("cancel while queued leaves the queue, moves the others up, and never grants", async () => {
    const order: string[] = [];
    const adm = admission({ maxProcesses: 1, maxProcessesPerUser: 1 });
    const holder = run(adm, "h", "holder", order);
    const b = run(adm, "b", "b", order);
    const c = run(adm, "c", "c", order);
    b.ticket.cancel();
    expect(adm.queueDepth).toBe(1);
    expect(c.positions).toEqual([2, 1]);

    await turn();
    holder.slot!.release();
    await turn();
    expect(order).toEqual(["holder", "c"]);
    expect(b.slot).toBeNull();
    expect(b.error).toBeNull();
    expect(() => run(adm, "b", "b again")).not.toThrow(); // b's place under the per-user cap is free
  });

  test("cancel after the grant releases the slot to the next waiter", async () => {
    const order: string[] = [];
    const adm = admission({ maxProcesses: 1 });
    const holder = run(adm, "h", "holder", order);
    const b = run(adm, "b", "b", order);
    const c = run(adm, "c", "c", order);
    holder.ticket.cancel(); // an immediate grant: cancel releases it
    await turn();
    expect(order).toEqual(["holder", "b"]);
    b.ticket.cancel(); // granted from the queue: cancel releases it
    await turn();
    expect(order).toEqual(["holder", "b", "c"]);
    expect(adm.liveRuns).toBe(1);
    c.ticket.cancel();
    expect(adm.liveRuns).toBe(0);
  });

  test("release is idempotent: a second release frees nothing and serves no one", async () => {
    const order: string[] = [];
    const adm = admission({ maxProcesses: 1 });
    const holder = run(adm, "h", "holder", order);
    run(adm, "b", "b", order);
    const c = run(adm, "c", "c", order);
    await turn();
    holder.slot!.release();
    holder.slot!.release();
    holder.ticket.cancel();
    await turn();
    expect(order).toEqual(["holder", "b"]);
    expect(adm.liveRuns).toBe(1);
    expect(adm.queueDepth).toBe(1);
    expect(c.positions).toEqual([2, 1]);
  });
});

describe("fairness when a slot frees", () => {
  test("serves the waiting user with the fewest live runs before an older waiter", async () => {
    const order: string[] = [];
    const adm = admission({ maxProcesses: 2, maxProcessesPerUser: 3 });
    const a1 = run(adm, "A", "A1", order);
    run(adm, "A", "A2", order);
    run(adm, "A", "A3", order); // queued first
    run(adm, "B", "B1", order); // queued second
    await turn();
    a1.slot!.release(); // A still has 1 live run, B has none
    await turn();
    expect(order).toEqual(["A1", "A2", "B1"]);
  });

  test("serves users with equal live runs oldest first", async () => {
    const order: string[] = [];
    const adm = admission({ maxProcesses: 1 });
    const holder = run(adm, "X", "X1", order);
    run(adm, "B", "B1", order);
    run(adm, "C", "C1", order);
    await turn();
    holder.slot!.release();
    await turn();
    expect(order).toEqual(["X1", "B1"]);
  });

  // Regression — this was a bug (websocket/admission.ts serveQueue): "fewest live runs" is counted after the releasing
  // run has left, so the user who just finished ties with everyone at 0 live runs and wins on
  // age with its own older queued runs. With one slot, A's burst is served entirely before B:
  // actual order A1, A2, A3, B1 — the starvation the file's header says cannot happen.
  test("serves another user before a user's second queued run when that user's only slot frees", async () => {
    const order: string[] = [];
    const adm = admission({ maxProcesses: 1, maxProcessesPerUser: 3 });
    const a1 = run(adm, "A", "A1", order);
    run(adm, "A", "A2", order);
    run(adm, "A", "A3", order);
    run(adm, "B", "B1", order);
    await turn();
    a1.slot!.release();
    await turn();
    expect(order).toEqual(["A1", "B1"]);
  });
});
