/**
 * Tokens never reach the logs. Gateways at LOG_LEVEL=trace go through the authentication paths —
 * every transport, refusals, first-message auth and refresh, expiry, both reject modes, a JWKS
 * key source — and every token sent (and the payload and signature parts of each), every other
 * credential and the JWT secret are looked for in everything the gateways printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { Gateway, TEST_SECRET, type Transport } from "../helpers/gateway.ts";
import { rawUpgrade } from "../helpers/raw-upgrade.ts";
import { waitFor } from "../helpers/wait.ts";

const SECRET = new TextEncoder().encode(TEST_SECRET);
const OTHER_SECRET = new TextEncoder().encode("another-secret-of-the-same-length-0123456789");
const TOKEN_TRANSPORTS = ["subprotocol", "header", "query", "message"] as const satisfies readonly Transport[];
const HANDSHAKE_TRANSPORTS = ["subprotocol", "header", "query"] as const;

/** Everything that must never be printed. */
const secrets = new Set<string>([TEST_SECRET]);

/** Note a token (and its payload and signature parts, which identify it as well) as secret. */
function remember(token: string): string {
  secrets.add(token);
  for (const part of token.split(".").slice(1)) if (part.length >= 16) secrets.add(part);
  return token;
}

let users = 0;
const nowS = () => Math.floor(Date.now() / 1000);

async function token(over: JWTPayload = {}, key: Uint8Array | CryptoKey = SECRET, alg = "HS256", kid?: string): Promise<string> {
  const payload = { sub: `logged-${++users}`, scopes: ["claude"], iat: nowS(), exp: nowS() + 300, ...over };
  return remember(await new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT", ...(kid !== undefined && { kid }) }).sign(key));
}

const gateways: Gateway[] = [];
let closeMode: Gateway;
let httpMode: Gateway;
let jwksMode: Gateway;
let jwks: ReturnType<typeof Bun.serve>;
let rsaKey: CryptoKey;
const KID = "log-test-key";

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  rsaKey = pair.privateKey;
  const keys = [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" }];
  jwks = Bun.serve({ port: 0, fetch: () => Response.json({ keys }) });
  const common = { LOG_LEVEL: "trace", CONNECT_RATE_PER_IP: "100000", JWT_REQUIRED_SCOPES: "claude" };
  [closeMode, httpMode, jwksMode] = await Promise.all([
    Gateway.start({ env: { ...common, JWT_CLOCK_TOLERANCE: "0", ALLOWED_ORIGINS: "https://app.example.test" } }),
    Gateway.start({ env: { ...common, AUTH_REJECT_MODE: "http" } }),
    Gateway.start({ env: { ...common, JWT_SECRET: "", JWT_JWKS_URL: `http://127.0.0.1:${jwks.port}/jwks.json`, JWT_ALGORITHMS: "RS256" } }),
  ]);
  gateways.push(closeMode, httpMode, jwksMode);
});
afterAll(async () => {
  for (const g of gateways) await g[Symbol.asyncDispose]();
  await jwks.stop(true);
});

describe("at LOG_LEVEL=trace, in close mode", () => {
  for (const transport of TOKEN_TRANSPORTS) {
    test(`a run with the token in the ${transport}`, async () => {
      const c = await closeMode.connect({ token: await token(), transport });
      c.send({ prompt: "count 1" });
      expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
    });

    const refusals: Array<[string, () => Promise<string>, number]> = [
      ["a bad signature", () => token({}, OTHER_SECRET), 4401],
      ["an expired token", () => token({ iat: nowS() - 600, exp: nowS() - 300 }), 4401],
      ["a token without the scope", () => token({ scopes: [] }), 4403],
      ["a malformed token", async () => remember(`not-a-jwt-${crypto.randomUUID()}`), 4401],
    ];
    for (const [what, make, code] of refusals) {
      test(`${what} in the ${transport}`, async () => {
        const c = await closeMode.connect({ token: await make(), transport });
        expect((await c.closeResult()).code).toBe(code);
      });
    }
  }

  test("two tokens at once, a query token among other parameters, and non-Bearer Authorization headers", async () => {
    const two = await closeMode.connect({ token: await token(), transport: "subprotocol", headers: { authorization: `Bearer ${await token()}` } });
    expect((await two.closeResult()).code).toBe(4400);
    const answer = await rawUpgrade(closeMode.port, { path: `/ws/claude?lang=en&token=${await token()}&x=1` });
    expect(answer.status).toBe(101);
    for (const authorization of [`Token ${await token()}`, `Basic ${remember(btoa(`admin:${crypto.randomUUID()}`))}`]) {
      const c = await closeMode.connect({ transport: "none", headers: { authorization } });
      expect((await c.closeResult()).code).toBe(4401);
    }
  });

  test("a session cookie sent along with the token", async () => {
    const cookie = remember(`laravel_session=${crypto.randomUUID()}`);
    const c = await closeMode.connect({ token: await token(), headers: { cookie } });
    c.send({ prompt: "count 1" });
    expect((await c.closeResult()).code).toBe(1000);
  });

  test("first-message auth with a pipelined prompt, then a bad refresh, a good one, and another user's token", async () => {
    const sub = "refresher";
    const c = await closeMode.connect({ token: await token({ sub }), transport: "message" });
    c.send({ prompt: "hang" });
    await c.next((f) => f.type === "fake.ready");
    c.send({ type: "auth", token: await token({ sub }, OTHER_SECRET) });
    await c.next((f) => f.type === "gateway.error" && f.code === "token_invalid");
    c.send({ type: "auth", token: await token({ sub }) });
    await waitFor(() => c.ofType("gateway.authenticated").length === 2, "the refresh to be accepted");
    c.send({ type: "auth", token: await token({ sub: "someone-else" }) });
    expect(await c.closeResult()).toEqual({ code: 4403, reason: "forbidden" });
  });

  test("a token that expires during a run", async () => {
    const expMs = Date.now() + 1000;
    const short = remember(await new SignJWT({ scopes: ["claude"] }).setProtectedHeader({ alg: "HS256" }).setSubject("short-lived").setIssuedAt().setExpirationTime(expMs / 1000).sign(SECRET));
    const c = await closeMode.connect({ token: short });
    c.send({ prompt: "hang" });
    expect(await c.closeResult()).toEqual({ code: 4401, reason: "token_expired" });
  });

  test("a refused Origin with a token in the query and the header", async () => {
    const answer = await rawUpgrade(closeMode.port, {
      path: `/ws/claude?token=${await token()}`,
      headers: { origin: "https://evil.example", authorization: `Bearer ${await token()}` },
    });
    expect(answer.status).toBe(403);
  });
});

describe("at LOG_LEVEL=trace, in http reject mode", () => {
  for (const transport of HANDSHAKE_TRANSPORTS) {
    test(`valid, forged, expired and unscoped tokens in the ${transport}`, async () => {
      const cases: Array<[Promise<string>, number]> = [
        [token(), 101],
        [token({}, OTHER_SECRET), 401],
        [token({ iat: nowS() - 600, exp: nowS() - 300 }), 401],
        [token({ scopes: [] }), 403],
      ];
      for (const [made, status] of cases) {
        const t = await made;
        const answer = await rawUpgrade(httpMode.port, {
          path: transport === "query" ? `/ws/claude?token=${t}` : "/ws/claude",
          protocols: transport === "subprotocol" ? ["claude.v1", `bearer.${t}`] : ["claude.v1"],
          headers: transport === "header" ? { authorization: `Bearer ${t}` } : {},
        });
        expect(answer.status).toBe(status);
      }
    });
  }

  test("two tokens at once", async () => {
    const answer = await rawUpgrade(httpMode.port, { protocols: ["claude.v1", `bearer.${await token()}`], path: `/ws/claude?token=${await token()}` });
    expect(answer.status).toBe(400);
  });
});

describe("at LOG_LEVEL=trace, with a JWKS key source", () => {
  test("a token whose kid is known runs, and one whose kid is not is refused", async () => {
    const ok = await jwksMode.connect({ token: await token({}, rsaKey, "RS256", KID) });
    ok.send({ prompt: "count 1" });
    expect((await ok.closeResult()).code).toBe(1000);
    const stranger = (await generateKeyPair("RS256")).privateKey;
    const refused = await jwksMode.connect({ token: await token({}, stranger, "RS256", "unknown-kid") });
    expect(await refused.closeResult()).toEqual({ code: 4401, reason: "token_invalid" });
  });
});

test("no gateway printed a token, a part of one, another credential, or the JWT secret", async () => {
  for (const g of gateways) {
    await g.stop();
    // Everything printed up to the last line is in `output` once that line is.
    await waitFor(() => g.output.includes('"shutdown complete"'), "the last log line");
    expect(g.logs.filter((l) => l.msg === "connection opened" || l.msg === "upgrade refused").length).toBeGreaterThan(0);
  }
  expect(secrets.size).toBeGreaterThan(100);
  for (const g of gateways) {
    const leaked = [...secrets].filter((s) => g.output.includes(s));
    expect(leaked).toEqual([]);
  }
});
