/**
 * The refusal table for tokens: every way a token can be wrong, through every transport that
 * carries one, ends the same way — one gateway.error frame, the close code and reason for it, and
 * no process. Each refused client also sends a prompt straight away, which must never run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { Gateway, TEST_SECRET, type Transport } from "../helpers/gateway.ts";
import type { Closed, Frame, TestClient } from "../helpers/ws-client.ts";

const ISSUER = "https://app.example.test";
const AUDIENCE = "claude-gateway";
const MAX_AGE_S = 600;
const SECRET = new TextEncoder().encode(TEST_SECRET);
const OTHER_SECRET = new TextEncoder().encode("another-secret-of-the-same-length-0123456789");
const TOKEN_TRANSPORTS = ["subprotocol", "header", "query", "message"] as const satisfies readonly Transport[];

let users = 0;
const nowS = () => Math.floor(Date.now() / 1000);

/** Claims this file's gateway accepts, for a fresh user; `over` changes some, and `undefined` drops one. */
function claims(over: JWTPayload = {}): JWTPayload {
  const all: JWTPayload = { sub: `refusal-${++users}`, iss: ISSUER, aud: AUDIENCE, scopes: ["claude"], iat: nowS(), exp: nowS() + 300, ...over };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

function sign(payload: JWTPayload, alg = "HS256", key: Uint8Array | CryptoKey = SECRET, kid?: string): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT", ...(kid !== undefined && { kid }) }).sign(key);
}

/** Connect with `token` in `transport` and send a prompt at once, without waiting for anything. */
async function connectAndPrompt(g: Gateway, token: string, transport: Transport): Promise<TestClient> {
  const c = await g.connect({ token, transport });
  c.send({ prompt: "count 1" });
  return c;
}

/** One error frame with `code`, then the close; and the gateway never started a run for it. */
async function expectRefused(g: Gateway, c: TestClient, code: string, close: Closed): Promise<Frame> {
  const error = await c.next((f) => f.type === "gateway.error", `a ${code} error frame`);
  expect(error).toMatchObject({ type: "gateway.error", code });
  expect(typeof error.message).toBe("string");
  expect(await c.closeResult()).toEqual(close);
  expect(c.ofType("gateway.error")).toHaveLength(1);
  await expectNothingRan(g, c);
  return error;
}

async function expectNothingRan(g: Gateway, c: TestClient): Promise<void> {
  expect(c.ofType("gateway.started")).toEqual([]);
  const conn = c.frames.find((f) => f.type === "gateway.hello")?.connectionId;
  expect(typeof conn).toBe("string");
  // "connection closed" is the connection's last line: a run would have logged "run started" before it.
  await g.waitLog((l) => l.msg === "connection closed" && l.conn === conn);
  expect(g.logs.filter((l) => l.msg === "run started" && l.conn === conn)).toEqual([]);
}

describe("a gateway with an issuer, audience, maximum age and required scope", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await Gateway.start({
      env: {
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        JWT_MAX_AGE: String(MAX_AGE_S),
        JWT_REQUIRED_SCOPES: "claude",
        AUTH_TIMEOUT_MS: "300",
        // Every test here connects from 127.0.0.1: the default per-IP burst (30) would refuse them.
        CONNECT_RATE_PER_IP: "100000",
      },
    });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  const INVALID = { code: 4401, reason: "token_invalid" };
  const EXPIRED = { code: 4401, reason: "token_expired" };
  const rows: Array<{ what: string; token: () => Promise<string>; code: string; close: Closed }> = [
    { what: "a token signed with another secret", token: () => sign(claims(), "HS256", OTHER_SECRET), code: "token_invalid", close: INVALID },
    { what: "a malformed token", token: async () => "not-a-jwt", code: "token_invalid", close: INVALID },
    { what: "an HS384 token (algorithm not allowed)", token: () => sign(claims(), "HS384"), code: "token_invalid", close: INVALID },
    { what: "a token from the wrong issuer", token: () => sign(claims({ iss: "https://evil.example" })), code: "token_invalid", close: INVALID },
    { what: "a token for the wrong audience", token: () => sign(claims({ aud: "another-service" })), code: "token_invalid", close: INVALID },
    { what: "a token without a sub claim", token: () => sign(claims({ sub: undefined })), code: "token_invalid", close: INVALID },
    { what: "a token with an empty sub", token: () => sign(claims({ sub: "" })), code: "token_invalid", close: INVALID },
    { what: "a token without an exp claim", token: () => sign(claims({ exp: undefined })), code: "token_invalid", close: INVALID },
    // Past the default 30 s clock tolerance, and younger than JWT_MAX_AGE so exp is the only fault.
    { what: "an expired token", token: () => sign(claims({ iat: nowS() - 120, exp: nowS() - 60 })), code: "token_expired", close: EXPIRED },
    { what: "a token older than JWT_MAX_AGE", token: () => sign(claims({ iat: nowS() - MAX_AGE_S - 120 })), code: "token_expired", close: EXPIRED },
    { what: "a token without the required scope", token: () => sign(claims({ scopes: ["read"] })), code: "forbidden", close: { code: 4403, reason: "forbidden" } },
  ];

  for (const transport of TOKEN_TRANSPORTS) {
    describe(`with the token in the ${transport}`, () => {
      test("a token with every claim right is accepted and its prompt runs", async () => {
        const c = await connectAndPrompt(gw, await sign(claims()), transport);
        expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
        expect(c.ofType("gateway.error")).toEqual([]);
        expect(c.ofType("count")).toHaveLength(1);
      });

      test("scopes given as a space-separated scope string are accepted too", async () => {
        const c = await connectAndPrompt(gw, await sign(claims({ scopes: undefined, scope: "read claude" })), transport);
        expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
      });

      for (const row of rows) {
        test(`${row.what} is refused with ${row.code} and close ${row.close.code}`, async () => {
          const c = await connectAndPrompt(gw, await row.token(), transport);
          await expectRefused(gw, c, row.code, row.close);
        });
      }
    });
  }

  test("a token older than JWT_MAX_AGE is told apart from an expired one in the message", async () => {
    const c = await connectAndPrompt(gw, await sign(claims({ iat: nowS() - MAX_AGE_S - 120 })), "subprotocol");
    const error = await expectRefused(gw, c, "token_expired", EXPIRED);
    expect(error.message).toContain("older");
  });

  test("a prompt with no token at all is refused with token_missing and close 4401", async () => {
    const c = await gw.connect({ transport: "none" });
    c.send({ prompt: "count 1" });
    await expectRefused(gw, c, "token_missing", { code: 4401, reason: "token_missing" });
    expect(c.frames[0]).toMatchObject({ type: "gateway.hello", auth: "required" });
  });

  test("a socket that sends no auth message within AUTH_TIMEOUT_MS is refused with auth_timeout and close 4408", async () => {
    const c = await gw.connect({ transport: "none" });
    const openedAt = performance.now();
    const hello = await c.next((f) => f.type === "gateway.hello");
    expect(hello).toMatchObject({ auth: "required", limits: { authTimeoutMs: 300 } });
    await expectRefused(gw, c, "auth_timeout", { code: 4408, reason: "auth_timeout" });
    expect(performance.now() - openedAt).toBeGreaterThanOrEqual(250);
  });

  // Regression — this was a bug: websocket/connection.ts open() sent auth:"ok" for every state but "pending", including
  // "refused" — yet schemas.ts documents "ok" as "the handshake's token was accepted".
  test("hello does not say auth ok when the handshake's token was refused", async () => {
    const c = await gw.connect({ token: await sign(claims(), "HS256", OTHER_SECRET) });
    await c.closeResult();
    expect(c.frames[0]).toMatchObject({ type: "gateway.hello" });
    expect(c.frames[0]!.auth).not.toBe("ok");
  });
});

describe("a gateway whose JWKS endpoint is unreachable", () => {
  const KID = "key-1";
  let privateKey: CryptoKey;
  let downUrl: string;
  let gw: Gateway;
  beforeAll(async () => {
    ({ privateKey } = await generateKeyPair("RS256"));
    // A port that was just listening and is closed now: connection refused.
    const gone = Bun.serve({ port: 0, fetch: () => new Response("") });
    downUrl = `http://127.0.0.1:${gone.port}/.well-known/jwks.json`;
    await gone.stop(true);
    gw = await Gateway.start({ env: { JWT_SECRET: "", JWT_JWKS_URL: downUrl, JWT_ALGORITHMS: "RS256" } });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  for (const transport of TOKEN_TRANSPORTS) {
    test(`refuses a token in the ${transport} with auth_unavailable and close 1011, a verdict on the keys, not the token`, async () => {
      const c = await connectAndPrompt(gw, await sign(claims({ iss: undefined, aud: undefined }), "RS256", privateKey, KID), transport);
      await expectRefused(gw, c, "auth_unavailable", { code: 1011, reason: "auth_unavailable" });
    });
  }
});

describe("a JWKS endpoint that answers, but not with keys", () => {
  const KID = "key-1";
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  let answer: "keys" | "503" | "junk" | "slow" = "keys";
  const stalled: Array<() => void> = [];
  let jwks: ReturnType<typeof Bun.serve>;
  beforeAll(async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    privateKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" };
    jwks = Bun.serve({
      port: 0,
      fetch: () => {
        if (answer === "503") return new Response("maintenance", { status: 503 });
        if (answer === "junk") return new Response("<html>login</html>", { headers: { "content-type": "text/html" } });
        if (answer === "slow") return new Promise<Response>((resolve) => stalled.push(() => resolve(Response.json({ keys: [publicJwk] }))));
        return Response.json({ keys: [publicJwk] });
      },
    });
  });
  afterAll(async () => {
    for (const release of stalled) release();
    await jwks.stop(true);
  });

  const start = (extra: Record<string, string> = {}) =>
    Gateway.start({ env: { JWT_SECRET: "", JWT_JWKS_URL: `http://127.0.0.1:${jwks.port}/jwks.json`, JWT_ALGORITHMS: "RS256", ...extra } });
  const token = () => sign(claims({ iss: undefined, aud: undefined }), "RS256", privateKey, KID);

  test("slower than JWT_JWKS_TIMEOUT_MS: the token is refused with auth_unavailable and close 1011", async () => {
    answer = "slow";
    await using g = await start({ JWT_JWKS_TIMEOUT_MS: "200" });
    const c = await connectAndPrompt(g, await token(), "subprotocol");
    await expectRefused(g, c, "auth_unavailable", { code: 1011, reason: "auth_unavailable" });
  });

  // Regression (fixed in 87dfb18): every JOSEError was mapped to token_invalid before `jwks` was
  // looked at, and jose reports a non-200 or non-JSON JWKS answer as a plain JOSEError — so an
  // endpoint down for maintenance told clients with valid tokens to get new ones (4401, no retry).
  for (const [what, mode] of [["answering 503", "503"], ["answering an HTML page", "junk"]] as const) {
    test(`${what}: a valid token is refused with auth_unavailable 1011, not token_invalid 4401`, async () => {
      answer = mode;
      await using g = await start();
      const c = await connectAndPrompt(g, await token(), "subprotocol");
      await expectRefused(g, c, "auth_unavailable", { code: 1011, reason: "auth_unavailable" });
    });
  }
});
