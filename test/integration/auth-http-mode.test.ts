/**
 * AUTH_REJECT_MODE=http: refusals known at the handshake are plain HTTP answers (401, 403, 429,
 * 400, 503) and the socket is never upgraded. Raw handshakes read the status line exactly.
 *
 * TRUST_PROXY is on and each request comes "from" its own X-Forwarded-For address, so the per-IP
 * rate (1 a minute here) only bites where a test repeats an address on purpose.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { Gateway, TEST_SECRET } from "../helpers/gateway.ts";
import { rawUpgrade, type RawHandshake } from "../helpers/raw-upgrade.ts";

const SECRET = new TextEncoder().encode(TEST_SECRET);
const OTHER_SECRET = new TextEncoder().encode("another-secret-of-the-same-length-0123456789");
type HandshakeTransport = "subprotocol" | "header" | "query";
const HANDSHAKE_TRANSPORTS: HandshakeTransport[] = ["subprotocol", "header", "query"];

let users = 0;
let ips = 0;
const nowS = () => Math.floor(Date.now() / 1000);
/** A client address of its own (TEST-NET-3), so per-IP buckets never overlap between tests. */
const fromNewIp = () => ({ "x-forwarded-for": `203.0.113.${++ips}` });

function sign(over: JWTPayload = {}, key: Uint8Array | CryptoKey = SECRET, alg = "HS256"): Promise<string> {
  const payload = { sub: `http-${++users}`, scopes: ["claude"], iat: nowS(), exp: nowS() + 300, ...over };
  return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
}

function handshake(port: number, token: string, transport: HandshakeTransport, headers: Record<string, string> = fromNewIp()): Promise<RawHandshake> {
  return rawUpgrade(port, {
    path: transport === "query" ? `/ws/claude?token=${encodeURIComponent(token)}` : "/ws/claude",
    protocols: transport === "subprotocol" ? ["claude.v1", `bearer.${token}`] : ["claude.v1"],
    headers: transport === "header" ? { ...headers, authorization: `Bearer ${token}` } : headers,
  });
}

/** A plain HTTP refusal: the status, a JSON body naming the code, no upgrade, no token echoed. */
function expectHttpRefusal(answer: RawHandshake, statusLine: string, code: string, token?: string): void {
  expect(answer.statusLine).toBe(statusLine);
  expect(answer.headers.has("sec-websocket-accept")).toBe(false);
  expect(answer.headers.get("upgrade")).toBeNull();
  const body = JSON.parse(answer.body) as { error: string; message: string };
  expect(body.error).toBe(code);
  expect(typeof body.message).toBe("string");
  if (token !== undefined) expect(answer.head + answer.body).not.toContain(token);
}

describe("AUTH_REJECT_MODE=http", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await Gateway.start({
      env: {
        AUTH_REJECT_MODE: "http",
        TRUST_PROXY: "true",
        CONNECT_RATE_PER_IP: "1",
        JWT_REQUIRED_SCOPES: "claude",
        MAX_CONNECTIONS_PER_USER: "1",
        CONNECT_RATE_PER_USER: "4", // bursts of 1
      },
    });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  for (const transport of HANDSHAKE_TRANSPORTS) {
    describe(`with the token in the ${transport}`, () => {
      test("a valid token is upgraded (101)", async () => {
        const answer = await handshake(gw.port, await sign(), transport);
        expect(answer.statusLine).toBe("HTTP/1.1 101 Switching Protocols");
      });

      test("a token signed with another secret gets 401 token_invalid, not an upgrade", async () => {
        const token = await sign({}, OTHER_SECRET);
        expectHttpRefusal(await handshake(gw.port, token, transport), "HTTP/1.1 401 Unauthorized", "token_invalid", token);
        await gw.waitLog((l) => l.msg === "upgrade refused" && l.code === "token_invalid");
      });

      test("a malformed token gets 401 token_invalid", async () => {
        expectHttpRefusal(await handshake(gw.port, "not-a-jwt", transport), "HTTP/1.1 401 Unauthorized", "token_invalid");
      });

      test("an expired token gets 401 token_expired", async () => {
        const token = await sign({ iat: nowS() - 600, exp: nowS() - 300 });
        expectHttpRefusal(await handshake(gw.port, token, transport), "HTTP/1.1 401 Unauthorized", "token_expired", token);
      });

      test("a valid token without the required scope gets 403 forbidden", async () => {
        const token = await sign({ scopes: ["read"] });
        expectHttpRefusal(await handshake(gw.port, token, transport), "HTTP/1.1 403 Forbidden", "forbidden", token);
      });
    });
  }

  test("two tokens at once get 400 bad_request", async () => {
    const token = await sign();
    const answer = await rawUpgrade(gw.port, { protocols: ["claude.v1", `bearer.${token}`], headers: { ...fromNewIp(), authorization: `Bearer ${token}` } });
    expectHttpRefusal(answer, "HTTP/1.1 400 Bad Request", "bad_request", token);
  });

  test("a second connection from the same address within the minute gets 429 with Retry-After, whatever its token", async () => {
    const sameIp = fromNewIp();
    expect((await handshake(gw.port, await sign(), "header", sameIp)).status).toBe(101);
    for (const token of [await sign(), "not-a-jwt"]) {
      const answer = await handshake(gw.port, token, "header", sameIp);
      expectHttpRefusal(answer, "HTTP/1.1 429 Too Many Requests", "rate_limited");
      const retryAfter = answer.headers.get("retry-after");
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    }
    // Another address is not held back.
    expect((await handshake(gw.port, await sign(), "header")).status).toBe(101);
  });

  test("a WebSocket client with a refused token never opens", async () => {
    await expect(gw.connect({ token: await sign({}, OTHER_SECRET), headers: fromNewIp() })).rejects.toThrow();
    await expect(gw.connect({ token: await sign({ scopes: [] }), transport: "header", headers: fromNewIp() })).rejects.toThrow();
  });

  test("a handshake without a token is still upgraded: the first message may carry one", async () => {
    const answer = await rawUpgrade(gw.port, { protocols: ["claude.v1"], headers: fromNewIp() });
    expect(answer.status).toBe(101);
    const c = await gw.connect({ transport: "message", token: await sign(), headers: fromNewIp() });
    c.send({ prompt: "count 2" });
    expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
    expect(c.ofType("count")).toHaveLength(2);
  });

  test("a bad first-message token is refused on the socket (4401): the HTTP answer was already given", async () => {
    const c = await gw.connect({ transport: "message", token: await sign({}, OTHER_SECRET), headers: fromNewIp() });
    c.send({ prompt: "count 1" });
    expect(await c.next((f) => f.type === "gateway.error")).toMatchObject({ code: "token_invalid" });
    expect(await c.closeResult()).toEqual({ code: 4401, reason: "token_invalid" });
    expect(c.ofType("gateway.started")).toEqual([]);
  });

  // Regression — this was a bug: docs/protocol.md says that with AUTH_REJECT_MODE=http the 4429 rows ("too many
  // connections … for this user, or connecting too fast") are answered before the upgrade as 429.
  // Only the per-IP rate is: MAX_CONNECTIONS_PER_USER and CONNECT_RATE_PER_USER are checked in
  // Connection.open() (admitUser), after the upgrade, even when the handshake carried a verified
  // token — so the client gets 101, then gateway.error rate_limited and close 4429.
  test("a user over MAX_CONNECTIONS_PER_USER gets 429 before the upgrade", async () => {
    const sub = "http-one-socket-user";
    const first = await gw.connect({ sub, claims: { scopes: ["claude"] }, headers: fromNewIp() });
    try {
      await first.next((f) => f.type === "gateway.hello");
      const answer = await handshake(gw.port, await sign({ sub }), "header");
      expectHttpRefusal(answer, "HTTP/1.1 429 Too Many Requests", "rate_limited");
    } finally {
      first.ws.close();
    }
  });

  test("a user connecting faster than CONNECT_RATE_PER_USER gets 429 before the upgrade", async () => {
    const sub = "http-hasty-user";
    expect((await handshake(gw.port, await sign({ sub }), "header")).status).toBe(101);
    await gw.waitLog((l) => l.msg === "connection closed" && l.sub === sub); // so the connection cap is not what refuses it
    const answer = await handshake(gw.port, await sign({ sub }), "header");
    expectHttpRefusal(answer, "HTTP/1.1 429 Too Many Requests", "rate_limited");
  });
});

describe("AUTH_REJECT_MODE=http with the JWKS endpoint down", () => {
  let gw: Gateway;
  let privateKey: CryptoKey;
  beforeAll(async () => {
    ({ privateKey } = await generateKeyPair("RS256"));
    const gone = Bun.serve({ port: 0, fetch: () => new Response("") });
    const url = `http://127.0.0.1:${gone.port}/jwks.json`;
    await gone.stop(true);
    gw = await Gateway.start({ env: { AUTH_REJECT_MODE: "http", JWT_SECRET: "", JWT_JWKS_URL: url, JWT_ALGORITHMS: "RS256" } });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  test("a token that cannot be checked gets 503 auth_unavailable", async () => {
    const token = await sign({}, privateKey, "RS256");
    expectHttpRefusal(await handshake(gw.port, token, "subprotocol"), "HTTP/1.1 503 Service Unavailable", "auth_unavailable", token);
  });
});
