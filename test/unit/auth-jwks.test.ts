import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { exportJWK, type JWK } from "jose";
import { rmSync } from "node:fs";
import { gatewayError, keyPair, outcome, sign, T0, tempDir, verifierFor, type KeyPair } from "./auth-fixtures.ts";

const stateDir = tempDir("auth-jwks-test");
const servers: Array<Server<unknown>> = [];
/** Resolved at cleanup: lets the never-answering handler finish so its server can stop. */
let releaseHangingRequests!: () => void;
const hanging = new Promise<void>((resolve) => (releaseHangingRequests = resolve));

let pair: KeyPair;
let jwk: JWK;

/** A JWKS endpoint on a free port, answering every request with `respond`. */
function serve(respond: () => Response | Promise<Response>): string {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: respond });
  servers.push(server);
  return new URL("/.well-known/jwks.json", server.url).href;
}

beforeAll(async () => {
  pair = await keyPair("RS256");
  jwk = { ...(await exportJWK(pair.publicKey)), kid: "passport-2025", alg: "RS256", use: "sig" };
});

afterAll(async () => {
  releaseHangingRequests();
  await Promise.all(servers.map((s) => s.stop(true)));
  rmSync(stateDir, { recursive: true, force: true });
});

const claims = { sub: "7", iat: T0, exp: T0 + 300 };
/** Each test loads its own key set, so nothing is cached between tests. */
const jwksVerifier = (url: string, extra: Record<string, string> = {}) =>
  verifierFor({ JWT_JWKS_URL: url, JWT_ALGORITHMS: "RS256", JWT_JWKS_TIMEOUT_MS: "200", ...extra }, stateDir);

describe("keys from JWT_JWKS_URL", () => {
  test("verifies a token whose kid is in the served key set", async () => {
    const { verifier } = await jwksVerifier(serve(() => Response.json({ keys: [jwk] })));
    const principal = await verifier.verify(await sign(claims, pair.privateKey, "RS256", { kid: "passport-2025" }));
    expect(principal.sub).toBe("7");
  });

  test("rejects a token whose kid is not in the key set as token_invalid", async () => {
    const { verifier } = await jwksVerifier(serve(() => Response.json({ keys: [jwk] })));
    expect(await outcome(verifier, await sign(claims, pair.privateKey, "RS256", { kid: "rotated-away" }))).toBe("token_invalid");
  });

  test("rejects a token signed by another key under a known kid as token_invalid", async () => {
    const other = await keyPair("RS256");
    const { verifier } = await jwksVerifier(serve(() => Response.json({ keys: [jwk] })));
    expect(await outcome(verifier, await sign(claims, other.privateKey, "RS256", { kid: "passport-2025" }))).toBe("token_invalid");
  });

  test("answers auth_unavailable when the JWKS server refuses connections", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ keys: [jwk] }) });
    const url = new URL("/.well-known/jwks.json", server.url).href;
    await server.stop(true);
    const { verifier } = await jwksVerifier(url);
    const err = await gatewayError(verifier.verify(await sign(claims, pair.privateKey, "RS256", { kid: "passport-2025" })));
    expect(err.code).toBe("auth_unavailable");
    expect(err.close).toMatchObject({ code: 1011, retry: true });
  });

  test("answers auth_unavailable when the JWKS server does not answer within JWT_JWKS_TIMEOUT_MS", async () => {
    const url = serve(async () => {
      await hanging;
      return Response.json({ keys: [jwk] });
    });
    const { verifier } = await jwksVerifier(url);
    const started = performance.now();
    const err = await gatewayError(verifier.verify(await sign(claims, pair.privateKey, "RS256", { kid: "passport-2025" })));
    expect(err.code).toBe("auth_unavailable");
    expect(performance.now() - started).toBeGreaterThanOrEqual(150); // waited for the timeout, not failed early
  });

  // Regression — this was a bug (lib/auth/verifier.ts toGatewayError): jose reports a non-200 JWKS response, or one that
  // is not JSON, as a plain JOSEError, which is mapped to token_invalid (terminal: "get a new
  // token") instead of auth_unavailable (retry) — though the token was never judged.
  test("answers auth_unavailable when the JWKS endpoint returns 500", async () => {
    const { verifier } = await jwksVerifier(serve(() => new Response("Server Error", { status: 500 })));
    expect(await outcome(verifier, await sign(claims, pair.privateKey, "RS256", { kid: "passport-2025" }))).toBe("auth_unavailable");
  });

  test("answers auth_unavailable when the JWKS endpoint returns a body that is not JSON", async () => {
    const { verifier } = await jwksVerifier(serve(() => new Response("<html>maintenance</html>", { status: 200 })));
    expect(await outcome(verifier, await sign(claims, pair.privateKey, "RS256", { kid: "passport-2025" }))).toBe("auth_unavailable");
  });
});
