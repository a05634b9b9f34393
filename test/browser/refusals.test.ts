/**
 * Every refusal path as a real browser sees it: Chromium's own WebSocket, opened from a page,
 * reports the close code, the reason and the gateway.error frame before it — or, for refusals made
 * before the upgrade (Origin, AUTH_REJECT_MODE=http), only 1006, which is why those are the
 * exceptions and not the rule.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { Page } from "playwright-core";
import { mintToken } from "../../lib/mint-token.ts";
import { Browser, skipBrowserTests, startTogether } from "../helpers/browser.ts";
import { Gateway, TEST_SECRET } from "../helpers/gateway.ts";

interface Seen {
  code: number;
  reason: string;
  error: { code: string } | null;
}

const OTHER_SECRET = new TextEncoder().encode("not-the-gateway-secret-0123456789abcdef");

/** Opens a socket from the page, optionally sends frames on open, and reports how it ended. */
async function browserSees(page: Page, url: string, protocols: string[], send: unknown[] = []): Promise<Seen> {
  return page.evaluate(
    ({ url, protocols, send }) =>
      new Promise<Seen>((resolve) => {
        const ws = new WebSocket(url, protocols);
        let error: { code: string } | null = null;
        ws.onopen = () => send.forEach((f) => ws.send(JSON.stringify(f)));
        ws.onmessage = (e) => {
          const frame = JSON.parse(String(e.data));
          if (frame.type === "gateway.error") error = { code: frame.code };
        };
        ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, error });
      }),
    { url, protocols, send },
  );
}

const bearer = (token: string) => ["claude.v1", `bearer.${token}`];

describe.skipIf(skipBrowserTests)("refusals, as Chromium sees them", () => {
  let browser: Browser | undefined;
  let gw: Gateway | undefined;
  let page: Page;
  const token = (sub: string, claims: Record<string, unknown> = { scopes: ["claude"] }, ttlS = 300) => gw!.token(sub, ttlS, claims);

  beforeAll(async () => {
    await startTogether(
      Gateway.start({ env: { JWT_REQUIRED_SCOPES: "claude", MAX_CONNECTIONS_PER_USER: "1", AUTH_TIMEOUT_MS: "300", JWT_CLOCK_TOLERANCE: "0" } }),
      Browser.launch(),
      (g, b) => ((gw = g), (browser = b)),
    );
    page = await browser!.newPage();
    await page.goto(`${gw!.http}/health`); // same origin as the socket: Origin allowed
  }, 60_000);
  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]();
    await gw?.[Symbol.asyncDispose]();
  });

  test("a prompt without a token: 4401 token_missing", async () => {
    expect(await browserSees(page, gw!.url, ["claude.v1"], [{ prompt: "hi" }])).toEqual({ code: 4401, reason: "token_missing", error: { code: "token_missing" } });
  });

  test("a token with a bad signature: 4401 token_invalid", async () => {
    const forged = await mintToken({ secret: OTHER_SECRET, sub: "x", ttlS: 300, claims: { scopes: ["claude"] } });
    expect(await browserSees(page, gw!.url, bearer(forged))).toEqual({ code: 4401, reason: "token_invalid", error: { code: "token_invalid" } });
  });

  test("an expired token: 4401 token_expired", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ scopes: ["claude"] }).setProtectedHeader({ alg: "HS256" }).setSubject("x").setIssuedAt(now - 600).setExpirationTime(now - 60).sign(new TextEncoder().encode(TEST_SECRET));
    expect(await browserSees(page, gw!.url, bearer(expired))).toEqual({ code: 4401, reason: "token_expired", error: { code: "token_expired" } });
  });

  test("a valid token without the required scope: 4403 forbidden", async () => {
    expect(await browserSees(page, gw!.url, bearer(await token("no-scope", {})))).toEqual({ code: 4403, reason: "forbidden", error: { code: "forbidden" } });
  });

  test("a second connection over MAX_CONNECTIONS_PER_USER: 4429 rate_limited", async () => {
    const holder = await gw!.connect({ sub: "busy-user", claims: { scopes: ["claude"] } });
    await holder.next((f) => f.type === "gateway.hello");
    expect(await browserSees(page, gw!.url, bearer(await token("busy-user")))).toEqual({ code: 4429, reason: "rate_limited", error: { code: "rate_limited" } });
    holder.ws.close();
  });

  test("no token and no auth message in time: 4408 auth_timeout", async () => {
    expect(await browserSees(page, gw!.url, ["claude.v1"])).toEqual({ code: 4408, reason: "auth_timeout", error: { code: "auth_timeout" } });
  });

  test("two tokens at once (subprotocol and query): 4400 bad_request", async () => {
    const t = await token("two");
    expect(await browserSees(page, `${gw!.url}?token=${t}`, bearer(t))).toEqual({ code: 4400, reason: "bad_request", error: { code: "bad_request" } });
  });

  test("a page on another origin: the upgrade is refused (HTTP 403), so the browser sees only 1006", async () => {
    const other = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("<!doctype html><title>other</title>", { headers: { "content-type": "text/html" } }) });
    try {
      const elsewhere = await browser!.newPage();
      await elsewhere.goto(`http://localhost:${other.port}/`);
      expect(await browserSees(elsewhere, gw!.url, bearer(await token("o")))).toMatchObject({ code: 1006, error: null });
      // It was the gateway's refusal, not the browser's own network policy.
      expect(await gw!.waitLog((l) => l.msg === "origin refused" && l.origin === `http://localhost:${other.port}`)).toBeDefined();
      await elsewhere.close();
    } finally {
      void other.stop(true);
    }
  });

  test("AUTH_REJECT_MODE=http: a bad token is an HTTP 401, so the browser sees only 1006", async () => {
    await using http = await Gateway.start({ env: { AUTH_REJECT_MODE: "http" } });
    const p = await browser!.newPage();
    await p.goto(`${http.http}/health`);
    const forged = await mintToken({ secret: OTHER_SECRET, sub: "x", ttlS: 300 });
    expect(await browserSees(p, http.url, bearer(forged))).toMatchObject({ code: 1006, error: null });
    expect(await http.waitLog((l) => l.msg === "upgrade refused" && l.code === "token_invalid")).toBeDefined();
    await p.close();
  });

  test("the JWKS endpoint down: 1011 auth_unavailable", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
    const jwks = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ keys: [jwk] }) });
    const jwksUrl = `http://127.0.0.1:${jwks.port}/jwks.json`;
    void jwks.stop(true); // down before the first fetch
    await using g = await Gateway.start({ env: { JWT_SECRET: "", JWT_JWKS_URL: jwksUrl, JWT_ALGORITHMS: "RS256", JWT_JWKS_TIMEOUT_MS: "1000" } });
    const p = await browser!.newPage();
    await p.goto(`${g.http}/health`);
    const signed = await new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject("x").setIssuedAt().setExpirationTime("5m").sign(privateKey);
    expect(await browserSees(p, g.url, bearer(signed))).toEqual({ code: 1011, reason: "auth_unavailable", error: { code: "auth_unavailable" } });
    await p.close();
  });
});
