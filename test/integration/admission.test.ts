/**
 * Admission: per-user and per-IP connection limits, the per-user run cap, and the bounded queue
 * past MAX_PROCESSES — its positions, its order, its timeout, and who gets a freed slot.
 * Every refusal ends with one error frame, its close code, and no process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Gateway, type Transport } from "../helpers/gateway.ts";
import { liveInGroup } from "../helpers/processes.ts";
import { waitFor } from "../helpers/wait.ts";
import type { Closed, Frame, TestClient } from "../helpers/ws-client.ts";

const TOKEN_TRANSPORTS = ["subprotocol", "header", "query", "message"] as const satisfies readonly Transport[];
const RATE_LIMITED = { code: 4429, reason: "rate_limited" };
const TRY_AGAIN_LATER = { code: 1013, reason: "try_again_later" };
const COMPLETED = { code: 1000, reason: "completed" };

const connOf = (c: TestClient) => c.frames.find((f) => f.type === "gateway.hello")?.connectionId as string;
const positions = (c: TestClient) => c.ofType("gateway.queued").map((f) => f.position);

async function expectRefused(g: Gateway, c: TestClient, code: string, close: Closed): Promise<Frame> {
  const error = await c.next((f) => f.type === "gateway.error", `a ${code} error frame`);
  expect(error).toMatchObject({ code });
  expect(await c.closeResult()).toEqual(close);
  expect(c.ofType("gateway.started")).toEqual([]);
  await closedLog(g, c);
  expect(g.logs.filter((l) => l.msg === "run started" && l.conn === connOf(c))).toEqual([]);
  return error;
}

/** The gateway has finished with this connection (and freed whatever it held). */
const closedLog = (g: Gateway, c: TestClient) => g.waitLog((l) => l.msg === "connection closed" && l.conn === connOf(c));

/** The connections among `clients`, in the order the gateway started their runs. */
const runOrder = (g: Gateway, clients: TestClient[]) => {
  const conns = clients.map(connOf);
  return g.logs.filter((l) => l.msg === "run started" && conns.includes(l.conn as string)).map((l) => conns.indexOf(l.conn as string));
};

/** Connect, prompt `hang`, and return once the CLI is up. */
async function hangingRun(g: Gateway, sub?: string): Promise<{ client: TestClient; pid: number }> {
  const client = await g.connect({ sub });
  client.send({ prompt: "hang" });
  const pid = (await client.next((f) => f.type === "gateway.started")).pid as number;
  await client.next((f) => f.type === "fake.ready");
  return { client, pid };
}

async function queued(g: Gateway, sub?: string): Promise<TestClient> {
  const c = await g.connect({ sub });
  c.send({ prompt: "count 1" });
  await c.next((f) => f.type === "gateway.queued", "a queued frame");
  return c;
}

describe("per-user connection limits (MAX_CONNECTIONS_PER_USER=1, CONNECT_RATE_PER_USER=8: bursts of 2)", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await Gateway.start({ env: { MAX_CONNECTIONS_PER_USER: "1", CONNECT_RATE_PER_USER: "8", CONNECT_RATE_PER_IP: "100000" } });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  for (const transport of TOKEN_TRANSPORTS) {
    test(`a second open socket for a user is refused with rate_limited 4429 and retryAfterMs, and allowed once the first closes (token in the ${transport})`, async () => {
      const sub = `one-socket-${transport}`;
      const first = await gw.connect({ sub, transport });
      await first.next((f) => f.type === (transport === "message" ? "gateway.authenticated" : "gateway.hello"));
      const second = await gw.connect({ sub, transport });
      second.send({ prompt: "count 1" });
      const error = await expectRefused(gw, second, "rate_limited", RATE_LIMITED);
      expect(error.message).toContain("open connections per user");
      expect(error.retryAfterMs).toBeGreaterThan(0);

      first.send({ prompt: "count 1" }); // the first socket is untouched
      expect(await first.closeResult()).toEqual(COMPLETED);
      await closedLog(gw, first);
      const third = await gw.connect({ sub, transport });
      third.send({ prompt: "count 1" });
      expect(await third.closeResult()).toEqual(COMPLETED);
    });

    test(`connecting faster than CONNECT_RATE_PER_USER is refused with rate_limited 4429 and retryAfterMs (token in the ${transport})`, async () => {
      const sub = `hasty-${transport}`;
      for (let i = 0; i < 2; i++) {
        const c = await gw.connect({ sub, transport });
        c.send({ prompt: "count 1" });
        expect(await c.closeResult()).toEqual(COMPLETED);
        await closedLog(gw, c); // so the connection cap is not what refuses the next one
      }
      const hasty = await gw.connect({ sub, transport });
      hasty.send({ prompt: "count 1" });
      const error = await expectRefused(gw, hasty, "rate_limited", RATE_LIMITED);
      expect(error.message).toContain("too fast");
      // 8 a minute: the next one is due within 7.5 s.
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(7_500);
      // Another user is not held back.
      const other = await gw.connect({ transport });
      other.send({ prompt: "count 1" });
      expect(await other.closeResult()).toEqual(COMPLETED);
    });
  }
});

describe("the per-user run cap (MAX_PROCESSES_PER_USER=1)", () => {
  test("a second run for a user is refused with rate_limited 4429 while the first runs on; others and later runs are not held back", async () => {
    await using g = await Gateway.start({ env: { MAX_PROCESSES_PER_USER: "1" } });
    const sub = "one-run-user";
    const { client: busy, pid } = await hangingRun(g, sub);
    const second = await g.connect({ sub });
    second.send({ prompt: "count 1" });
    const error = await expectRefused(g, second, "rate_limited", RATE_LIMITED);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(liveInGroup(pid).length).toBeGreaterThan(0);
    expect(busy.ofType("gateway.error")).toEqual([]);

    const other = await g.connect();
    other.send({ prompt: "count 1" });
    expect(await other.closeResult()).toEqual(COMPLETED);

    busy.ws.close();
    await closedLog(g, busy); // logged once the run's group is gone and its slot is free
    expect(liveInGroup(pid)).toEqual([]);
    const again = await g.connect({ sub });
    again.send({ prompt: "count 1" });
    expect(await again.closeResult()).toEqual(COMPLETED);
  });
});

describe("the per-IP connection rate (CONNECT_RATE_PER_IP=1, TRUST_PROXY=true)", () => {
  let gw: Gateway;
  let ips = 0;
  beforeAll(async () => {
    gw = await Gateway.start({ env: { CONNECT_RATE_PER_IP: "1", TRUST_PROXY: "true" } });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  test("a second connection from the peer's address within the minute is refused with rate_limited 4429 and retryAfterMs", async () => {
    const first = await gw.connect();
    first.send({ prompt: "count 1" });
    expect(await first.closeResult()).toEqual(COMPLETED);
    const second = await gw.connect();
    second.send({ prompt: "count 1" });
    const error = await expectRefused(gw, second, "rate_limited", RATE_LIMITED);
    expect(error.message).toContain("address");
    expect(error.retryAfterMs).toBeGreaterThan(1_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  for (const transport of TOKEN_TRANSPORTS) {
    test(`counts connections before any token is read, so a valid token in the ${transport} does not help`, async () => {
      const headers = { "x-forwarded-for": `198.51.100.${++ips}` };
      const first = await gw.connect({ transport, headers });
      first.send({ prompt: "count 1" });
      expect(await first.closeResult()).toEqual(COMPLETED);
      const second = await gw.connect({ transport, headers });
      second.send({ prompt: "count 1" });
      expect((await expectRefused(gw, second, "rate_limited", RATE_LIMITED)).retryAfterMs).toBeGreaterThan(0);
    });
  }
});

describe("the queue past MAX_PROCESSES (MAX_PROCESSES=1, QUEUE_LIMIT=2, MAX_PROCESSES_PER_USER=2)", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await Gateway.start({ env: { MAX_PROCESSES: "1", QUEUE_LIMIT: "2", MAX_PROCESSES_PER_USER: "2" } });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  test("queues the second and third runs at positions 1 and 2, refuses a fourth with try_again_later 1013, and runs them in order", async () => {
    const { client: first } = await hangingRun(gw);
    const second = await queued(gw);
    const third = await queued(gw);
    expect(positions(second)).toEqual([1]);
    expect(positions(third)).toEqual([2]);
    const fourth = await gw.connect();
    fourth.send({ prompt: "count 1" });
    const error = await expectRefused(gw, fourth, "try_again_later", TRY_AGAIN_LATER);
    expect(typeof error.retryAfterMs).toBe("number");

    first.ws.close();
    expect(await second.closeResult()).toEqual(COMPLETED);
    expect(await third.closeResult()).toEqual(COMPLETED);
    expect(runOrder(gw, [first, second, third])).toEqual([0, 1, 2]);
    // The third moved up to position 1 when the second left the queue, before it ran.
    expect(positions(third)).toEqual([2, 1]);
    expect(third.frames.map((f) => f.type)).toEqual(["gateway.hello", "gateway.queued", "gateway.queued", "gateway.started", "count", "gateway.exit"]);
    expect(positions(second)).toEqual([1]);
  });

  test("a queued client that disconnects leaves the queue, and the one behind it moves up", async () => {
    const { client: first } = await hangingRun(gw);
    const leaver = await queued(gw);
    const stayer = await queued(gw);
    expect(positions(stayer)).toEqual([2]);
    leaver.ws.close();
    await stayer.next((f) => f.type === "gateway.queued" && f.position === 1, "the move to position 1");
    await closedLog(gw, leaver);

    first.ws.close();
    expect(await stayer.closeResult()).toEqual(COMPLETED);
    expect(runOrder(gw, [first, leaver, stayer])).toEqual([0, 2]);
  });

  test("a user's queued runs count towards MAX_PROCESSES_PER_USER", async () => {
    const { client: first } = await hangingRun(gw, "queue-hog");
    const second = await queued(gw, "queue-hog");
    const third = await gw.connect({ sub: "queue-hog" });
    third.send({ prompt: "count 1" });
    await expectRefused(gw, third, "rate_limited", RATE_LIMITED);
    expect(positions(second)).toEqual([1]);
    first.ws.close();
    expect(await second.closeResult()).toEqual(COMPLETED);
  });

  // Regression (fixed in 87dfb18): ties on live runs went to the oldest request, so when A's only
  // live run ended, A's older queued run beat B's and B waited behind A's whole burst. Ties now go
  // to the user served longest ago.
  test("fairness: when user A's run ends, user B's queued run goes before A's second", async () => {
    const { client: a1 } = await hangingRun(gw, "burst-a");
    const a2 = await queued(gw, "burst-a");
    const b = await queued(gw, "patient-b");
    expect([positions(a2), positions(b)]).toEqual([[1], [2]]);
    a1.ws.close();
    // Wait for both to finish before judging, so nothing is left running on the shared gateway.
    expect(await a2.closeResult()).toEqual(COMPLETED);
    expect(await b.closeResult()).toEqual(COMPLETED);
    expect(runOrder(gw, [a1, a2, b])).toEqual([0, 2, 1]);
  });
});

describe("fairness with MAX_PROCESSES=2 (MAX_PROCESSES_PER_USER=3)", () => {
  test("a freed slot goes to the waiting user with fewer live runs, ahead of an older run of a busier user", async () => {
    await using g = await Gateway.start({ env: { MAX_PROCESSES: "2", MAX_PROCESSES_PER_USER: "3" } });
    const a1 = await hangingRun(g, "busy-a");
    const a2 = await hangingRun(g, "busy-a");
    const a3 = await queued(g, "busy-a");
    const b = await queued(g, "quiet-b");
    expect([positions(a3), positions(b)]).toEqual([[1], [2]]);

    a1.client.ws.close(); // A still has a2 live; B has none
    expect(await b.closeResult()).toEqual(COMPLETED);
    expect(await a3.closeResult()).toEqual(COMPLETED);
    expect(runOrder(g, [a1.client, a2.client, a3, b])).toEqual([0, 1, 3, 2]);
    a2.client.ws.close();
    await waitFor(() => liveInGroup(a2.pid).length === 0, "a2's group to be gone");
  });
});

describe("the queue timeout (MAX_PROCESSES=1, QUEUE_TIMEOUT_MS=300)", () => {
  test("a run that waits longer than QUEUE_TIMEOUT_MS is refused with try_again_later 1013 and leaves the queue", async () => {
    await using g = await Gateway.start({ env: { MAX_PROCESSES: "1", QUEUE_TIMEOUT_MS: "300" } });
    const { client: holder, pid } = await hangingRun(g);
    const waiter = await queued(g);
    const queuedAt = performance.now();
    const error = await expectRefused(g, waiter, "try_again_later", TRY_AGAIN_LATER);
    expect(performance.now() - queuedAt).toBeGreaterThanOrEqual(250);
    expect(error.retryAfterMs).toBe(300);
    expect(positions(waiter)).toEqual([1]);

    // The timed-out run left the queue: the next one is first in line, and the holder ran on.
    const next = await queued(g);
    expect(positions(next)).toEqual([1]);
    expect(liveInGroup(pid).length).toBeGreaterThan(0);
    expect(holder.ofType("gateway.error")).toEqual([]);
    next.ws.close();
    holder.ws.close();
    await waitFor(() => liveInGroup(pid).length === 0, "the holder's group to be gone");
  });
});
