import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportPKCS8, importPKCS8, type JWTPayload } from "jose";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { devSecretIn } from "../../lib/auth/keys.ts";
import { createVerifier } from "../../lib/auth/verifier.ts";
import { mintToken } from "../../lib/mint-token.ts";
import { b64url, configError, gatewayError, keyPair, outcome, sign, T0, tempDir, verifierFor, type KeyPair } from "./auth-fixtures.ts";

const stateDir = tempDir("auth-verifier-test");
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** What `php artisan jwt:secret` writes: Str::random(64), used as text. */
function tymonSecret(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(64), (b) => alphabet[b % alphabet.length]).join("");
}

/** The claims tymon/jwt-auth (and its maintained fork) put in a login token. */
const tymonClaims = (): JWTPayload => ({
  iss: "https://app.example.com/api/auth/login",
  iat: T0,
  exp: T0 + 3600,
  nbf: T0,
  jti: "hV2x3Yq8aLk0Zp1N",
  sub: "42",
  prv: "23bd5c8949f600adb39e701c400872db7a5976f7", // sha1 of the user model's class name
});

/** Passport (lcobucci/jwt) writes microsecond timestamps and the client id as a single aud. */
const PASSPORT_IAT = T0 + 0.123456;
const passportClaims = (): JWTPayload => ({
  aud: "3",
  jti: "9f1c1a0c5b0e4a7e8f3d2c1b0a9f8e7d6c5b4a39f1c1a0c5b0e4a7e8f3d2c1b0a9f8e7d6c5b4a3",
  iat: PASSPORT_IAT,
  nbf: PASSPORT_IAT,
  exp: PASSPORT_IAT + 31_536_000,
  sub: "7",
  scopes: ["claude"],
});

describe("tymon/jwt-auth HS256 tokens", () => {
  const secret = tymonSecret();
  const env = { JWT_SECRET: secret, JWT_SECRET_ENCODING: "utf8" };

  test("accepts a login token signed with the plain-text 64-character secret", async () => {
    const { verifier } = await verifierFor(env, stateDir);
    const token = await sign(tymonClaims(), new TextEncoder().encode(secret), "HS256");
    const principal = await verifier.verify(token);
    expect(principal.sub).toBe("42");
    expect(principal.exp).toBe(T0 + 3600);
    expect(principal.claims).toMatchObject({ iss: "https://app.example.com/api/auth/login", prv: "23bd5c8949f600adb39e701c400872db7a5976f7" });
  });

  test("accepts the issuer when JWT_ISSUER names tymon's login URL", async () => {
    const { verifier } = await verifierFor({ ...env, JWT_ISSUER: "https://app.example.com/api/auth/login" }, stateDir);
    const token = await sign(tymonClaims(), new TextEncoder().encode(secret), "HS256");
    expect(await outcome(verifier, token)).toBe("accepted");
  });

  test("rejects a token signed with another secret", async () => {
    const { verifier } = await verifierFor(env, stateDir);
    const token = await sign(tymonClaims(), new TextEncoder().encode(tymonSecret()), "HS256");
    expect(await outcome(verifier, token)).toBe("token_invalid");
  });
});

describe("Laravel Passport RS256 tokens", () => {
  let pair: KeyPair;
  let keyFile: string;
  const passportEnv = (extra: Record<string, string> = {}) => ({
    JWT_PUBLIC_KEY_FILE: keyFile,
    JWT_ALGORITHMS: "RS256",
    JWT_AUDIENCE: "3",
    ...extra,
  });

  beforeAll(async () => {
    pair = await keyPair("RS256");
    keyFile = join(stateDir, "oauth-public.key");
    writeFileSync(keyFile, pair.spki, { mode: 0o600 });
  });

  test("accepts a token verified with storage/oauth-public.key, keeping the fractional exp", async () => {
    const { verifier } = await verifierFor(passportEnv({ JWT_REQUIRED_SCOPES: "claude" }), stateDir, PASSPORT_IAT + 60);
    const principal = await verifier.verify(await sign(passportClaims(), pair.privateKey, "RS256"));
    expect(principal.sub).toBe("7");
    expect(principal.exp).toBe(PASSPORT_IAT + 31_536_000);
    expect(principal.claims.scopes).toEqual(["claude"]);
  });

  // jose compares nbf/iat against the current time floored to whole seconds, so with no
  // tolerance a Passport token is refused for the rest of the second it was issued in — even
  // after its own fractional nbf. The default tolerance (30 s) is what makes fresh tokens work.
  const SAME_SECOND: Array<{ at: number; tolerance: string; expected: string; why: string }> = [
    { at: T0 + 0.05, tolerance: "30", expected: "accepted", why: "before the fractional nbf, default tolerance" },
    { at: T0 + 0.5, tolerance: "30", expected: "accepted", why: "after the fractional nbf, same second, default tolerance" },
    { at: T0 + 0.1, tolerance: "0", expected: "token_invalid", why: "slightly before the fractional nbf, no tolerance" },
    { at: T0 + 0.5, tolerance: "0", expected: "token_invalid", why: "after the fractional nbf but in the same second, no tolerance (jose floors now)" },
    { at: T0 + 1, tolerance: "0", expected: "accepted", why: "the next whole second, no tolerance" },
  ];
  for (const c of SAME_SECOND) {
    test(`with JWT_CLOCK_TOLERANCE=${c.tolerance}, a token used at nbf${(c.at - PASSPORT_IAT >= 0 ? "+" : "") + (c.at - PASSPORT_IAT).toFixed(3)}s is ${c.expected} (${c.why})`, async () => {
      const { verifier } = await verifierFor(passportEnv({ JWT_CLOCK_TOLERANCE: c.tolerance }), stateDir, c.at);
      expect(await outcome(verifier, await sign(passportClaims(), pair.privateKey, "RS256"))).toBe(c.expected);
    });
  }

  test("rejects a token issued for another client (aud)", async () => {
    const { verifier } = await verifierFor(passportEnv(), stateDir, PASSPORT_IAT + 60);
    expect(await outcome(verifier, await sign({ ...passportClaims(), aud: "4" }, pair.privateKey, "RS256"))).toBe("token_invalid");
  });

  test("rejects a token signed by another key pair", async () => {
    const other = await keyPair("RS256");
    const { verifier } = await verifierFor(passportEnv(), stateDir, PASSPORT_IAT + 60);
    expect(await outcome(verifier, await sign(passportClaims(), other.privateKey, "RS256"))).toBe("token_invalid");
  });
});

describe("php-open-source-saver/jwt-auth RS512 tokens", () => {
  let pair: KeyPair;
  beforeAll(async () => {
    pair = await keyPair("RS512");
  });

  test("accepts a token verified with JWT_PUBLIC_KEY given as PEM text", async () => {
    const { verifier } = await verifierFor({ JWT_ALGORITHMS: "RS512", JWT_PUBLIC_KEY: pair.spki }, stateDir);
    expect((await verifier.verify(await sign(tymonClaims(), pair.privateKey, "RS512"))).sub).toBe("42");
  });

  test("accepts JWT_PUBLIC_KEY written on one line with literal \\n escapes, as .env files hold it", async () => {
    const oneLine = pair.spki.trim().replace(/\n/g, "\\n");
    expect(oneLine).not.toContain("\n");
    const { verifier } = await verifierFor({ JWT_ALGORITHMS: "RS512", JWT_PUBLIC_KEY: oneLine }, stateDir);
    expect((await verifier.verify(await sign(tymonClaims(), pair.privateKey, "RS512"))).sub).toBe("42");
  });

  test("rejects an RS256 token from the same key when only RS512 is allowed", async () => {
    const { verifier } = await verifierFor({ JWT_ALGORITHMS: "RS512", JWT_PUBLIC_KEY: pair.spki }, stateDir);
    const sameKeyAsRs256 = await importPKCS8(await exportPKCS8(pair.privateKey), "RS256"); // WebCrypto binds the hash to the key
    expect(await outcome(verifier, await sign(tymonClaims(), sameKeyAsRs256, "RS256"))).toBe("token_invalid");
  });
});

describe("tokens signed with a Laravel APP_KEY", () => {
  const keyBytes = new Uint8Array(randomBytes(32));
  const encoded = Buffer.from(keyBytes).toString("base64");
  const APP_KEY = `base64:${encoded}`;

  test("accepts the token when JWT_SECRET is the part after base64: and JWT_SECRET_ENCODING=base64", async () => {
    const { verifier } = await verifierFor({ JWT_SECRET: encoded, JWT_SECRET_ENCODING: "base64" }, stateDir);
    expect(await outcome(verifier, await sign(tymonClaims(), keyBytes, "HS256"))).toBe("accepted");
  });

  test("does not verify it when the same value is used as text (utf8)", async () => {
    const { verifier } = await verifierFor({ JWT_SECRET: encoded, JWT_SECRET_ENCODING: "utf8" }, stateDir);
    expect(await outcome(verifier, await sign(tymonClaims(), keyBytes, "HS256"))).toBe("token_invalid");
  });

  test("refuses the whole APP_KEY with its base64: prefix under base64 encoding, never guessing from the prefix", async () => {
    const err = await configError(verifierFor({ JWT_SECRET: APP_KEY, JWT_SECRET_ENCODING: "base64" }, stateDir));
    expect(err.variable).toBe("JWT_SECRET");
    expect(err.message).toContain("base64:");
  });

  test("does not verify it when the whole APP_KEY is used as text", async () => {
    const { verifier } = await verifierFor({ JWT_SECRET: APP_KEY }, stateDir);
    expect(await outcome(verifier, await sign(tymonClaims(), keyBytes, "HS256"))).toBe("token_invalid");
  });
});

describe("attacks on an HS256 gateway", () => {
  const secret = new TextEncoder().encode(tymonSecret());
  const env = { JWT_SECRET: new TextDecoder().decode(secret) };
  const claims = (): JWTPayload => ({ sub: "42", iat: T0, exp: T0 + 300 });

  test("rejects an unsecured token (alg none, empty signature)", async () => {
    const { verifier } = await verifierFor(env, stateDir);
    for (const alg of ["none", "None", "NONE"]) {
      const token = `${b64url({ alg, typ: "JWT" })}.${b64url(claims())}.`;
      expect({ alg, outcome: await outcome(verifier, token) }).toEqual({ alg, outcome: "token_invalid" });
    }
  });

  test("rejects a token whose payload was changed after signing", async () => {
    const { verifier } = await verifierFor(env, stateDir);
    const [header, , signature] = (await sign(claims(), secret, "HS256")).split(".");
    const forged = `${header}.${b64url({ ...claims(), sub: "1" })}.${signature}`;
    expect(await outcome(verifier, forged)).toBe("token_invalid");
  });

  test("rejects a token whose signature was stripped", async () => {
    const { verifier } = await verifierFor(env, stateDir);
    const [header, payload] = (await sign(claims(), secret, "HS256")).split(".");
    expect(await outcome(verifier, `${header}.${payload}.`)).toBe("token_invalid");
  });

  test("rejects an algorithm left out of the allowlist, and accepts it once listed", async () => {
    const hs384 = await sign(claims(), secret, "HS384");
    expect(await outcome((await verifierFor(env, stateDir)).verifier, hs384)).toBe("token_invalid");
    expect(await outcome((await verifierFor({ ...env, JWT_ALGORITHMS: "HS256,HS384" }, stateDir)).verifier, hs384)).toBe("accepted");
  });

  const GARBAGE = [
    "",
    "garbage",
    "a.b.c",
    "..",
    "....",
    "eyJhbGciOiJIUzI1NiJ9",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9",
    `${b64url({ alg: "HS256" })}.${b64url("[1,2,3]")}.c2ln`,
    `${b64url({ alg: "HS256" })}.${b64url("not json")}.c2ln`,
    `${b64url("not json")}.${b64url({ sub: "42" })}.c2ln`,
    "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
    "€.€.€",
    "x".repeat(10_000),
  ];
  test("rejects malformed strings as token_invalid", async () => {
    const { verifier } = await verifierFor(env, stateDir);
    for (const token of GARBAGE) {
      expect({ token: token.slice(0, 60), outcome: await outcome(verifier, token) }).toEqual({ token: token.slice(0, 60), outcome: "token_invalid" });
    }
  });

  test("never repeats the token in its error message", async () => {
    const { verifier } = await verifierFor(env, stateDir);
    const expired = await sign({ ...claims(), exp: T0 - 3600 }, secret, "HS256");
    const forged = `${expired.split(".")[0]}.${b64url({ sub: "42", exp: T0 + 300 })}.${expired.split(".")[2]}`;
    for (const token of [expired, forged]) {
      const err = await gatewayError(verifier.verify(token));
      for (const part of token.split(".")) expect(err.message).not.toContain(part);
    }
  });
});

describe("an RS256 gateway against algorithm confusion", () => {
  test("rejects an HS256 token whose HMAC secret is the gateway's own public key PEM", async () => {
    const pair = await keyPair("RS256");
    const { verifier } = await verifierFor({ JWT_ALGORITHMS: "RS256", JWT_PUBLIC_KEY: pair.spki }, stateDir);
    const claims = { sub: "1", iat: T0, exp: T0 + 300 };
    for (const pem of [pair.spki, pair.spki.trim()]) {
      const token = await sign(claims, new TextEncoder().encode(pem), "HS256");
      expect(await outcome(verifier, token)).toBe("token_invalid");
    }
    expect(await outcome(verifier, `${b64url({ alg: "none" })}.${b64url(claims)}.`)).toBe("token_invalid");
  });
});

/** Claim checks on an HS256 gateway at T0 with the default 30 s tolerance unless `env` says otherwise. */
const CLAIM_CASES: Array<{ name: string; claims: JWTPayload; env?: Record<string, string>; expected: string }> = [
  { name: "accepts a well-formed token", claims: {}, expected: "accepted" },
  { name: "rejects an expired token as token_expired", claims: { exp: T0 - 31 }, expected: "token_expired" },
  { name: "rejects a token that expired exactly the tolerance ago", claims: { exp: T0 - 30 }, expected: "token_expired" },
  { name: "accepts a token expired by less than the clock tolerance", claims: { exp: T0 - 29 }, expected: "accepted" },
  { name: "rejects a token at its exp with no tolerance", claims: { exp: T0 }, env: { JWT_CLOCK_TOLERANCE: "0" }, expected: "token_expired" },
  { name: "rejects a token not valid before a time beyond the tolerance", claims: { nbf: T0 + 31 }, expected: "token_invalid" },
  { name: "accepts a token whose nbf is ahead by no more than the tolerance", claims: { nbf: T0 + 30 }, expected: "accepted" },
  { name: "rejects a token without exp", claims: { exp: undefined }, expected: "token_invalid" },
  { name: "rejects a token whose exp is not a number", claims: { exp: String(T0 + 300) as unknown as number }, expected: "token_invalid" },
  { name: "rejects a token without sub", claims: { sub: undefined }, expected: "token_invalid" },
  { name: "rejects a numeric sub", claims: { sub: 42 as unknown as string }, expected: "token_invalid" },
  { name: "rejects an empty sub", claims: { sub: "" }, expected: "token_invalid" },
  { name: "rejects a sub longer than 255 characters", claims: { sub: "u".repeat(256) }, expected: "token_invalid" },
  { name: "accepts a sub of 255 characters", claims: { sub: "u".repeat(255) }, expected: "accepted" },
  { name: "rejects the wrong iss when JWT_ISSUER is set", claims: { iss: "https://evil.example.com" }, env: { JWT_ISSUER: "https://app.example.com" }, expected: "token_invalid" },
  { name: "rejects a missing iss when JWT_ISSUER is set", claims: {}, env: { JWT_ISSUER: "https://app.example.com" }, expected: "token_invalid" },
  { name: "accepts the configured iss", claims: { iss: "https://app.example.com" }, env: { JWT_ISSUER: "https://app.example.com" }, expected: "accepted" },
  { name: "accepts any iss when JWT_ISSUER is unset", claims: { iss: "https://anyone.example.com" }, expected: "accepted" },
  { name: "rejects the wrong aud when JWT_AUDIENCE is set", claims: { aud: "5" }, env: { JWT_AUDIENCE: "3,4" }, expected: "token_invalid" },
  { name: "rejects a missing aud when JWT_AUDIENCE is set", claims: {}, env: { JWT_AUDIENCE: "3,4" }, expected: "token_invalid" },
  { name: "accepts any listed aud", claims: { aud: "4" }, env: { JWT_AUDIENCE: "3,4" }, expected: "accepted" },
  { name: "accepts an aud array that contains a listed value", claims: { aud: ["9", "3"] }, env: { JWT_AUDIENCE: "3,4" }, expected: "accepted" },
  { name: "rejects a token older than JWT_MAX_AGE as token_expired", claims: { iat: T0 - 700 }, env: { JWT_MAX_AGE: "600" }, expected: "token_expired" },
  { name: "accepts a token younger than JWT_MAX_AGE", claims: { iat: T0 - 100 }, env: { JWT_MAX_AGE: "600" }, expected: "accepted" },
  { name: "rejects a token without iat when JWT_MAX_AGE is set", claims: { iat: undefined }, env: { JWT_MAX_AGE: "600" }, expected: "token_invalid" },
  { name: "rejects a token issued in the future when JWT_MAX_AGE is set", claims: { iat: T0 + 100 }, env: { JWT_MAX_AGE: "600" }, expected: "token_invalid" },
];

describe("claim checks", () => {
  const secret = tymonSecret();
  for (const c of CLAIM_CASES) {
    test(c.name, async () => {
      const { verifier } = await verifierFor({ JWT_SECRET: secret, ...c.env }, stateDir);
      const token = await sign({ sub: "42", iat: T0, exp: T0 + 300, ...c.claims }, new TextEncoder().encode(secret), "HS256");
      expect(await outcome(verifier, token)).toBe(c.expected);
    });
  }
});

const SCOPE_CASES: Array<{ name: string; required: string; claims: JWTPayload; expected: string }> = [
  { name: "accepts a required scope found in the scopes array (Passport)", required: "claude", claims: { scopes: ["profile", "claude"] }, expected: "accepted" },
  { name: "accepts a required scope found in a space-separated scope string", required: "claude", claims: { scope: "profile claude" }, expected: "accepted" },
  { name: "accepts the wildcard scope * in scopes", required: "claude,admin", claims: { scopes: ["*"] }, expected: "accepted" },
  { name: "accepts the wildcard scope * in scope", required: "claude", claims: { scope: "*" }, expected: "accepted" },
  { name: "accepts scopes split between scopes and scope", required: "claude,admin", claims: { scopes: ["claude"], scope: "admin" }, expected: "accepted" },
  { name: "forbids a token without any scope claim", required: "claude", claims: {}, expected: "forbidden" },
  { name: "forbids a token lacking one of the required scopes", required: "claude,admin", claims: { scopes: ["claude"] }, expected: "forbidden" },
  { name: "forbids a scope that only prefixes the required one", required: "claude", claims: { scope: "claude:read" }, expected: "forbidden" },
  { name: "ignores non-string entries in scopes", required: "claude", claims: { scopes: [{ name: "claude" }, 1] }, expected: "forbidden" },
  { name: "does not read a scopes string as a list", required: "claude", claims: { scopes: "claude" }, expected: "forbidden" },
];

describe("JWT_REQUIRED_SCOPES", () => {
  const secret = tymonSecret();
  for (const c of SCOPE_CASES) {
    test(c.name, async () => {
      const { verifier } = await verifierFor({ JWT_SECRET: secret, JWT_REQUIRED_SCOPES: c.required }, stateDir);
      const token = await sign({ sub: "42", iat: T0, exp: T0 + 300, ...c.claims }, new TextEncoder().encode(secret), "HS256");
      expect(await outcome(verifier, token)).toBe(c.expected);
    });
  }

  test("names the missing scopes in the forbidden message", async () => {
    const { verifier } = await verifierFor({ JWT_SECRET: secret, JWT_REQUIRED_SCOPES: "claude,admin,billing" }, stateDir);
    const token = await sign({ sub: "42", exp: T0 + 300, scopes: ["claude"] }, new TextEncoder().encode(secret), "HS256");
    const err = await gatewayError(verifier.verify(token));
    expect(err.code).toBe("forbidden");
    expect(err.message).toContain("admin, billing");
    expect(err.close?.code).toBe(4403);
  });
});

describe("tokens from lib/mint-token.ts", () => {
  // mintToken stamps the real time, so these verify on the real clock.
  test("verify against the same JWT_SECRET, issuer and first audience", async () => {
    const secret = tymonSecret();
    const { auth, loaded } = await verifierFor({ JWT_SECRET: secret, JWT_ISSUER: "gateway-dev", JWT_AUDIENCE: "gateway,other" }, stateDir);
    const token = await mintToken({ secret: new TextEncoder().encode(secret), sub: "42", ttlS: 300, issuer: auth.issuer, audience: auth.audience?.[0] });
    expect((await createVerifier(auth, loaded.key).verify(token)).sub).toBe("42");
  });

  test("verify against the development secret the gateway generated", async () => {
    const dir = join(stateDir, "dev");
    const { loaded, auth } = await verifierFor({}, dir);
    expect(loaded.devSecret).toBeDefined();
    const token = await mintToken({ secret: devSecretIn(dir, false), sub: "dev-user", ttlS: 60 });
    expect((await createVerifier(auth, loaded.key).verify(token)).sub).toBe("dev-user");
  });
});
