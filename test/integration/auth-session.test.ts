/**
 * Authentication over the life of a socket: the first-message auth frame, a token that expires
 * mid-session (idle or with a live run), and a fresh token sent before it does.
 *
 * JWT_CLOCK_TOLERANCE=0, so a token ends exactly at its exp. The short-lived tokens carry a
 * fractional exp (as Passport writes it), which keeps each expiry wait near LIFETIME_MS.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt, SignJWT } from "jose";
import { Gateway, TEST_SECRET } from "../helpers/gateway.ts";
import { liveInGroup } from "../helpers/processes.ts";
import type { TestClient } from "../helpers/ws-client.ts";

/** Long enough to connect and start a run, short enough to wait for. */
const LIFETIME_MS = 1200;
const SECRET = new TextEncoder().encode(TEST_SECRET);

/** A token for `sub` that expires `ms` from now. */
async function expiringIn(sub: string, ms: number): Promise<{ token: string; expMs: number }> {
  const expMs = Date.now() + ms;
  const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(sub).setIssuedAt().setExpirationTime(expMs / 1000).sign(SECRET);
  return { token, expMs };
}

const types = (c: TestClient) => c.frames.map((f) => f.type);

let gw: Gateway;
beforeAll(async () => {
  gw = await Gateway.start({ env: { JWT_CLOCK_TOLERANCE: "0" } });
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

describe("first-message authentication", () => {
  test("hello says auth is required when the handshake carried no token", async () => {
    const c = await gw.connect({ transport: "none" });
    expect(await c.next((f) => f.type === "gateway.hello")).toMatchObject({ auth: "required", limits: { authTimeoutMs: 5000 } });
    c.ws.close();
  });

  test("an auth frame is answered with gateway.authenticated carrying its exp, and then a prompt runs", async () => {
    const c = await gw.connect({ transport: "none" });
    await c.next((f) => f.type === "gateway.hello");
    const token = await gw.token();
    c.send({ type: "auth", token });
    expect(await c.next((f) => f.type === "gateway.authenticated")).toEqual({ type: "gateway.authenticated", exp: decodeJwt(token).exp! });
    c.send({ prompt: "count 2" });
    expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
    expect(types(c)).toEqual(["gateway.hello", "gateway.authenticated", "gateway.started", "count", "count", "gateway.exit"]);
  });

  test("a prompt pipelined right behind the auth frame, sent without waiting, runs too", async () => {
    const c = await gw.connect({ transport: "message" }); // sends the auth frame on open
    c.send({ prompt: "count 2" });
    expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
    expect(types(c)).toEqual(["gateway.hello", "gateway.authenticated", "gateway.started", "count", "count", "gateway.exit"]);
  });
});

describe("a token that expires during the session", () => {
  // The three waits for an exp run side by side (each on its own user and sockets).
  test.concurrent("ends an idle socket with token_expired and close 4401, at its exp and not before", async () => {
    const { token, expMs } = await expiringIn("idle-user", LIFETIME_MS);
    const c = await gw.connect({ token });
    expect(await c.next((f) => f.type === "gateway.hello")).toMatchObject({ auth: "ok" });
    expect(await c.next((f) => f.type === "gateway.error")).toMatchObject({ code: "token_expired" });
    expect(Date.now()).toBeGreaterThanOrEqual(expMs - 1);
    expect(await c.closeResult()).toEqual({ code: 4401, reason: "token_expired" });
    expect(types(c)).toEqual(["gateway.hello", "gateway.error"]);
  });

  test.concurrent("ends a live run: token_expired, an exit frame with reason token_expired, close 4401, and the group is gone", async () => {
    const { token, expMs } = await expiringIn("busy-user", LIFETIME_MS);
    const c = await gw.connect({ token });
    c.send({ prompt: "hang" });
    const pid = (await c.next((f) => f.type === "gateway.started")).pid as number;
    await c.next((f) => f.type === "fake.ready");
    expect(Date.now()).toBeLessThan(expMs); // the run was live before the token ran out
    expect(liveInGroup(pid).length).toBeGreaterThan(0);

    expect(await c.closeResult()).toEqual({ code: 4401, reason: "token_expired" });
    const error = c.frames.findIndex((f) => f.type === "gateway.error");
    expect(c.frames[error]).toMatchObject({ code: "token_expired" });
    expect(c.frames.at(-1)).toMatchObject({ type: "gateway.exit", reason: "token_expired", signal: "SIGTERM" });
    expect(error).toBeLessThan(c.frames.length - 1);
    // The exit frame is sent only once the group is gone.
    expect(liveInGroup(pid)).toEqual([]);
    const conn = c.frames[0]!.connectionId;
    expect(await gw.waitLog((l) => l.msg === "connection closed" && l.conn === conn)).toMatchObject({ outcome: "token_expired", pid });
  });

  test.concurrent("a fresh token for the same user, sent before exp, keeps the socket working past the first token's exp", async () => {
    const sub = "refreshing-user";
    const first = await expiringIn(sub, LIFETIME_MS);
    // Same user, no refresh, and a token that outlives `first` by 300 ms: once it has lapsed, so has `first`.
    const control = await expiringIn(sub, LIFETIME_MS + 300);
    const kept = await gw.connect({ token: first.token });
    const lapsed = await gw.connect({ token: control.token });

    const fresh = await gw.token(sub, 300);
    kept.send({ type: "auth", token: fresh });
    expect(await kept.next((f) => f.type === "gateway.authenticated")).toMatchObject({ exp: decodeJwt(fresh).exp! });

    expect(await lapsed.closeResult()).toEqual({ code: 4401, reason: "token_expired" });
    expect(Date.now()).toBeGreaterThan(first.expMs);
    // Past the first token's exp the refreshed socket still runs prompts.
    kept.send({ prompt: "count 1" });
    expect(await kept.closeResult()).toEqual({ code: 1000, reason: "completed" });
    expect(kept.ofType("gateway.error")).toEqual([]);
  });

  test("a fresh token for a different user ends an idle socket with forbidden and close 4403", async () => {
    const c = await gw.connect({ sub: "alice" });
    await c.next((f) => f.type === "gateway.hello");
    c.send({ type: "auth", token: await gw.token("mallory") });
    expect(await c.next((f) => f.type === "gateway.error")).toMatchObject({ code: "forbidden" });
    expect(await c.closeResult()).toEqual({ code: 4403, reason: "forbidden" });
    expect(c.ofType("gateway.authenticated")).toEqual([]);
  });

  test("a fresh token for a different user ends a live run with reason forbidden, close 4403, and the group gone", async () => {
    const c = await gw.connect({ sub: "bob" });
    c.send({ prompt: "hang" });
    const pid = (await c.next((f) => f.type === "gateway.started")).pid as number;
    await c.next((f) => f.type === "fake.ready");
    c.send({ type: "auth", token: await gw.token("mallory") });
    expect(await c.closeResult()).toEqual({ code: 4403, reason: "forbidden" });
    expect(c.ofType("gateway.error")).toMatchObject([{ code: "forbidden" }]);
    expect(c.frames.at(-1)).toMatchObject({ type: "gateway.exit", reason: "forbidden" });
    expect(liveInGroup(pid)).toEqual([]);
  });

  const badRefreshes: Array<[string, () => Promise<string>, string]> = [
    ["an invalid", async () => "not-a-jwt", "token_invalid"],
    ["an already expired", async () => (await expiringIn("carol", -5_000)).token, "token_expired"],
  ];
  for (const [what, refresh, code] of badRefreshes) {
    test(`${what} refresh is reported with ${code}, and the current token still holds`, async () => {
      const c = await gw.connect({ sub: "carol" });
      await c.next((f) => f.type === "gateway.hello");
      c.send({ type: "auth", token: await refresh() });
      expect(await c.next((f) => f.type === "gateway.error")).toMatchObject({ code });
      c.send({ prompt: "count 1" });
      expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
    });
  }
});
