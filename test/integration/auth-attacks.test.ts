/**
 * Forged tokens: the classic ways to get a JWT past a verifier — no algorithm, a public key used
 * as an HMAC secret, an edited payload, a key id the gateway does not know, a token not valid yet.
 * Each is refused through every transport that carries a token, and nothing runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { Gateway, TEST_SECRET, type Transport } from "../helpers/gateway.ts";
import type { TestClient } from "../helpers/ws-client.ts";

const SECRET = new TextEncoder().encode(TEST_SECRET);
const TOKEN_TRANSPORTS = ["subprotocol", "header", "query", "message"] as const satisfies readonly Transport[];

let users = 0;
const nowS = () => Math.floor(Date.now() / 1000);
const claims = (over: JWTPayload = {}): JWTPayload => ({ sub: `attacker-${++users}`, iat: nowS(), exp: nowS() + 300, ...over });
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function sign(payload: JWTPayload, alg: string, key: Uint8Array | CryptoKey, kid?: string): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT", ...(kid !== undefined && { kid }) }).sign(key);
}

/** Connect with `token`, send a prompt at once, and expect token_invalid / 4401 with nothing run. */
async function expectForgeryRefused(g: Gateway, token: string, transport: Transport): Promise<void> {
  const c = await g.connect({ token, transport });
  c.send({ prompt: "count 1" });
  const error = await c.next((f) => f.type === "gateway.error", "an error frame");
  expect(error).toMatchObject({ code: "token_invalid" });
  expect(await c.closeResult()).toEqual({ code: 4401, reason: "token_invalid" });
  await expectNothingRan(g, c);
}

async function expectNothingRan(g: Gateway, c: TestClient): Promise<void> {
  expect(c.ofType("gateway.started")).toEqual([]);
  const conn = c.frames.find((f) => f.type === "gateway.hello")?.connectionId;
  await g.waitLog((l) => l.msg === "connection closed" && l.conn === conn);
  expect(g.logs.filter((l) => l.msg === "run started" && l.conn === conn)).toEqual([]);
}

async function expectRuns(g: Gateway, token: string, transport: Transport): Promise<void> {
  const c = await g.connect({ token, transport });
  c.send({ prompt: "count 1" });
  expect(await c.closeResult()).toEqual({ code: 1000, reason: "completed" });
}

describe("against an HS256 gateway", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await Gateway.start({ env: { CONNECT_RATE_PER_IP: "100000" } });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  const forgeries: Array<[string, () => Promise<string>]> = [
    ['an unsigned token (alg "none")', async () => `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims())}.`],
    ['an unsigned token (alg "none") that keeps a real signature', async () => {
      const [, , signature] = (await sign(claims(), "HS256", SECRET)).split(".");
      return `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims())}.${signature}`;
    }],
    ["a validly signed token whose payload was edited to another sub", async () => {
      const [header, , signature] = (await sign(claims(), "HS256", SECRET)).split(".");
      return `${header}.${b64url(claims({ sub: "admin" }))}.${signature}`;
    }],
    ["a validly signed token whose exp was pushed a year on", async () => {
      const payload = claims({ exp: nowS() - 60 });
      const [header, , signature] = (await sign(payload, "HS256", SECRET)).split(".");
      return `${header}.${b64url({ ...payload, exp: nowS() + 365 * 86_400 })}.${signature}`;
    }],
    ["a token that is not valid before an hour from now (nbf)", () => sign(claims({ nbf: nowS() + 3600 }), "HS256", SECRET)],
  ];

  for (const transport of TOKEN_TRANSPORTS) {
    for (const [what, forge] of forgeries) {
      test(`refuses ${what} sent in the ${transport}`, async () => {
        await expectForgeryRefused(gw, await forge(), transport);
      });
    }
  }
});

describe("against an RS256 gateway with a PEM public key", () => {
  let gw: Gateway;
  let pem: string;
  let privateKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    privateKey = pair.privateKey;
    pem = await exportSPKI(pair.publicKey);
    gw = await Gateway.start({ env: { JWT_SECRET: "", JWT_PUBLIC_KEY: pem, JWT_ALGORITHMS: "RS256", CONNECT_RATE_PER_IP: "100000" } });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  for (const transport of TOKEN_TRANSPORTS) {
    test(`accepts a token signed with the private key, sent in the ${transport}`, async () => {
      await expectRuns(gw, await sign(claims(), "RS256", privateKey), transport);
    });

    // Algorithm confusion: a verifier that lets the token pick its algorithm would use the
    // (public) PEM text as the HMAC secret and accept this.
    test(`refuses an HS256 token signed with the public key PEM as its secret, sent in the ${transport}`, async () => {
      await expectForgeryRefused(gw, await sign(claims(), "HS256", new TextEncoder().encode(pem)), transport);
    });
  }

  test("refuses an HS256 token signed with the trimmed PEM text too", async () => {
    await expectForgeryRefused(gw, await sign(claims(), "HS256", new TextEncoder().encode(pem.trim())), "subprotocol");
  });

  test("refuses an RS256 token signed with another key pair", async () => {
    const other = await generateKeyPair("RS256");
    await expectForgeryRefused(gw, await sign(claims(), "RS256", other.privateKey), "subprotocol");
  });
});

describe("against a gateway that takes its keys from a JWKS endpoint", () => {
  const KID = "laravel-2026";
  let jwks: ReturnType<typeof Bun.serve>;
  let fetches = 0;
  let gw: Gateway;
  let privateKey: CryptoKey;
  let strangerKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    privateKey = pair.privateKey;
    strangerKey = (await generateKeyPair("RS256")).privateKey;
    const keys = [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" }];
    jwks = Bun.serve({ port: 0, fetch: () => (fetches++, Response.json({ keys })) });
    gw = await Gateway.start({
      env: { JWT_SECRET: "", JWT_JWKS_URL: `http://127.0.0.1:${jwks.port}/jwks.json`, JWT_ALGORITHMS: "RS256", CONNECT_RATE_PER_IP: "100000" },
    });
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
    await jwks.stop(true);
  });

  for (const transport of TOKEN_TRANSPORTS) {
    test(`accepts a token whose kid is in the key set, sent in the ${transport}`, async () => {
      await expectRuns(gw, await sign(claims(), "RS256", privateKey, KID), transport);
    });

    test(`refuses a token whose kid is not in the key set, sent in the ${transport}`, async () => {
      await expectForgeryRefused(gw, await sign(claims(), "RS256", strangerKey, "attacker-key"), transport);
    });
  }

  test("refuses a token that names the known kid but was signed with another key", async () => {
    await expectForgeryRefused(gw, await sign(claims(), "RS256", strangerKey, KID), "subprotocol");
  });

  // Each unknown kid could otherwise make the gateway fetch the key set again: a cheap amplifier.
  test("does not refetch the key set for every token with an unknown kid", async () => {
    await expectRuns(gw, await sign(claims(), "RS256", privateKey, KID), "subprotocol");
    const before = fetches;
    expect(before).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 3; i++) await expectForgeryRefused(gw, await sign(claims(), "RS256", strangerKey, `unknown-${i}`), "header");
    expect(fetches).toBe(before);
  });
});
