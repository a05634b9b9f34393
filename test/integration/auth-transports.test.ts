/**
 * Where a token may travel (subprotocol, Authorization header, query string, first message), what
 * the handshake answers, and the Origin check. Raw handshakes show what a WebSocket client hides:
 * the exact status line and the Sec-WebSocket-Protocol header of the answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Gateway, type Transport } from "../helpers/gateway.ts";
import { rawUpgrade } from "../helpers/raw-upgrade.ts";
import { TestClient, type Closed } from "../helpers/ws-client.ts";

const APP_ORIGIN = "https://app.example.test";

async function expectRefused(g: Gateway, c: TestClient, code: string, close: Closed): Promise<void> {
  const error = await c.next((f) => f.type === "gateway.error", "an error frame");
  expect(error).toMatchObject({ code });
  expect(await c.closeResult()).toEqual(close);
  expect(c.ofType("gateway.started")).toEqual([]);
  const conn = c.frames.find((f) => f.type === "gateway.hello")?.connectionId;
  await g.waitLog((l) => l.msg === "connection closed" && l.conn === conn);
  expect(g.logs.filter((l) => l.msg === "run started" && l.conn === conn)).toEqual([]);
}

/** The log line for the connection that sent `hello`. */
async function openedLine(g: Gateway, c: TestClient) {
  const hello = await c.next((f) => f.type === "gateway.hello");
  return g.waitLog((l) => l.msg === "connection opened" && l.conn === hello.connectionId);
}

describe("a development gateway with ALLOWED_ORIGINS", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await Gateway.start({ env: { ALLOWED_ORIGINS: `${APP_ORIGIN},https://admin.example.test`, CONNECT_RATE_PER_IP: "100000" } });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  const handshakeTransports: Array<Transport> = ["subprotocol", "header", "query"];
  for (const transport of handshakeTransports) {
    test(`takes the token from the ${transport}, says so in the log, and runs the prompt`, async () => {
      const c = await gw.connect({ transport });
      expect(await c.next((f) => f.type === "gateway.hello")).toMatchObject({ auth: "ok" });
      expect(await openedLine(gw, c)).toMatchObject({ auth: "verified", via: transport });
      c.send({ prompt: "count 2" });
      expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
      expect(c.ofType("count")).toHaveLength(2);
    });
  }

  test("a socket without a token is pending until its first message", async () => {
    const c = await gw.connect({ transport: "message" });
    expect(await openedLine(gw, c)).toMatchObject({ auth: "pending" });
    c.send({ prompt: "count 1" });
    expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
  });

  describe("the Sec-WebSocket-Protocol answer", () => {
    test("is exactly claude.v1 when claude.v1 and a bearer token are offered, and never echoes the token", async () => {
      const token = await gw.token();
      const answer = await rawUpgrade(gw.port, { protocols: ["claude.v1", `bearer.${token}`] });
      expect(answer.statusLine).toBe("HTTP/1.1 101 Switching Protocols");
      expect(answer.headers.get("sec-websocket-protocol")).toBe("claude.v1");
      expect(answer.head).not.toContain(token);
    });

    test("is exactly claude.v1 when the bearer token is offered first", async () => {
      const token = await gw.token();
      const answer = await rawUpgrade(gw.port, { protocols: [`bearer.${token}`, "claude.v1"] });
      expect(answer.status).toBe(101);
      expect(answer.headers.get("sec-websocket-protocol")).toBe("claude.v1");
      expect(answer.head).not.toContain(token);
    });

    test("is absent when only the bearer token is offered: the token is never chosen as the protocol", async () => {
      const token = await gw.token();
      const answer = await rawUpgrade(gw.port, { protocols: [`bearer.${token}`] });
      expect(answer.status).toBe(101);
      expect(answer.headers.has("sec-websocket-protocol")).toBe(false);
      expect(answer.head.toLowerCase()).not.toContain("sec-websocket-protocol");
      expect(answer.head).not.toContain(token);
    });

    test("is absent when a refused token is the only protocol offered", async () => {
      const answer = await rawUpgrade(gw.port, { protocols: ["bearer.not-a-jwt"] });
      expect(answer.status).toBe(101);
      expect(answer.head).not.toContain("not-a-jwt");
      expect(answer.headers.has("sec-websocket-protocol")).toBe(false);
    });

    test("a browser-style client that offers claude.v1 with its token sees protocol claude.v1", async () => {
      const c = await gw.connect({ transport: "subprotocol" });
      expect(c.ws.protocol).toBe("claude.v1");
      c.ws.close();
    });
  });

  describe("two tokens at once", () => {
    test("in the subprotocol and the Authorization header: bad_request and close 4400", async () => {
      const c = await gw.connect({ transport: "subprotocol", headers: { authorization: `Bearer ${await gw.token()}` } });
      c.send({ prompt: "count 1" });
      await expectRefused(gw, c, "bad_request", { code: 4400, reason: "bad_request" });
    });

    test("in the Authorization header and the query: bad_request and close 4400", async () => {
      const c = await gw.connect({ transport: "query", headers: { authorization: `Bearer ${await gw.token()}` } });
      c.send({ prompt: "count 1" });
      await expectRefused(gw, c, "bad_request", { code: 4400, reason: "bad_request" });
    });

    test("in the subprotocol and the query: bad_request and close 4400", async () => {
      const url = `${gw.url}?token=${await gw.token()}`;
      const c = await TestClient.connect(url, ["claude.v1", `bearer.${await gw.token()}`]);
      c.send({ prompt: "count 1" });
      await expectRefused(gw, c, "bad_request", { code: 4400, reason: "bad_request" });
    });

    test("as two bearer subprotocols: bad_request and close 4400", async () => {
      const c = await TestClient.connect(gw.url, ["claude.v1", `bearer.${await gw.token()}`, `bearer.${await gw.token()}`]);
      await expectRefused(gw, c, "bad_request", { code: 4400, reason: "bad_request" });
    });

    test("even when the two are the same token: bad_request and close 4400", async () => {
      const token = await gw.token();
      const c = await gw.connect({ token, transport: "subprotocol", headers: { authorization: `Bearer ${token}` } });
      await expectRefused(gw, c, "bad_request", { code: 4400, reason: "bad_request" });
    });
  });

  test("an Authorization header that is not 'Bearer <token>' is refused with token_invalid and close 4401", async () => {
    const c = await gw.connect({ transport: "none", headers: { authorization: `Basic ${btoa("user:password")}` } });
    c.send({ prompt: "count 1" });
    await expectRefused(gw, c, "token_invalid", { code: 4401, reason: "token_invalid" });
  });

  describe("the Origin check, made before the upgrade", () => {
    const originRefused = async (origin: string) => {
      const answer = await rawUpgrade(gw.port, { headers: { origin, authorization: `Bearer ${await gw.token()}` } });
      expect(answer.statusLine).toBe("HTTP/1.1 403 Forbidden");
      expect(answer.headers.has("sec-websocket-accept")).toBe(false);
      expect(JSON.parse(answer.body)).toMatchObject({ error: "origin_not_allowed" });
      await gw.waitLog((l) => l.msg === "origin refused" && l.origin === origin);
    };

    test("refuses a disallowed Origin with 403, even with a valid token", async () => {
      await originRefused("https://evil.example");
    });

    test("refuses an Origin that only resembles an allowed one", async () => {
      await originRefused(`${APP_ORIGIN}.evil.example`);
      await originRefused(`${APP_ORIGIN}:8443`);
      await originRefused("http://app.example.test");
    });

    test('refuses the literal Origin "null" (sandboxed iframes, file: pages) with 403', async () => {
      await originRefused("null");
    });

    test("upgrades an allowed Origin (101), the second entry of the list included", async () => {
      for (const origin of [APP_ORIGIN, "https://admin.example.test"]) {
        const answer = await rawUpgrade(gw.port, { headers: { origin, authorization: `Bearer ${await gw.token()}` } });
        expect(answer.statusLine).toBe("HTTP/1.1 101 Switching Protocols");
      }
    });

    test("upgrades a request without Origin (a server-side client), which still needs a token", async () => {
      const answer = await rawUpgrade(gw.port, { protocols: ["claude.v1"] });
      expect(answer.status).toBe(101);
    });

    test("a WebSocket client from a disallowed Origin never opens", async () => {
      await expect(gw.connect({ headers: { origin: "https://evil.example" } })).rejects.toThrow();
      await expect(gw.connect({ headers: { origin: "null" } })).rejects.toThrow();
    });

    test("a WebSocket client from an allowed Origin opens and runs", async () => {
      const c = await gw.connect({ headers: { origin: APP_ORIGIN } });
      c.send({ prompt: "count 1" });
      expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
    });
  });
});

describe("query-string tokens", () => {
  test("are refused with token_invalid and close 4401 when ALLOW_QUERY_TOKEN=false, valid or not", async () => {
    await using g = await Gateway.start({ env: { ALLOW_QUERY_TOKEN: "false" } });
    const c = await g.connect({ transport: "query" });
    c.send({ prompt: "count 1" });
    await expectRefused(g, c, "token_invalid", { code: 4401, reason: "token_invalid" });
    expect(c.ofType("gateway.error")[0]!.message).toContain("query");
    const ok = await g.connect({ transport: "subprotocol" });
    ok.send({ prompt: "count 1" });
    expect(await ok.closeResult()).toEqual({ code: 1000, reason: "completed" });
  });

  describe("with NODE_ENV=production", () => {
    let prod: Gateway;
    beforeAll(async () => {
      prod = await Gateway.start({ env: { NODE_ENV: "production" } });
    });
    afterAll(async () => {
      await prod[Symbol.asyncDispose]();
    });

    test("are off by default: a valid query token is refused with token_invalid and close 4401", async () => {
      const c = await prod.connect({ transport: "query" });
      c.send({ prompt: "count 1" });
      await expectRefused(prod, c, "token_invalid", { code: 4401, reason: "token_invalid" });
    });

    test("the subprotocol, header and first message still work", async () => {
      for (const transport of ["subprotocol", "header", "message"] as const) {
        const c = await prod.connect({ transport });
        c.send({ prompt: "count 1" });
        expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
      }
    });

    test("without ALLOWED_ORIGINS only the gateway's own origin may connect", async () => {
      const own = await rawUpgrade(prod.port, { headers: { origin: `http://127.0.0.1:${prod.port}` } });
      expect(own.status).toBe(101);
      const other = await rawUpgrade(prod.port, { headers: { origin: `http://localhost:${prod.port}` } });
      expect(other.statusLine).toBe("HTTP/1.1 403 Forbidden");
    });
  });

  test("can be turned back on in production with ALLOW_QUERY_TOKEN=true", async () => {
    await using g = await Gateway.start({ env: { NODE_ENV: "production", ALLOW_QUERY_TOKEN: "true" } });
    const c = await g.connect({ transport: "query" });
    c.send({ prompt: "count 1" });
    expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
  });
});
