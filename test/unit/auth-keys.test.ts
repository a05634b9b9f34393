import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportPKCS8, importPKCS8 } from "jose";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AuthEnvSchema } from "../../lib/auth/config.ts";
import { devSecretIn, devSecretPath, loadVerificationKey, MIN_SECRET_BYTES } from "../../lib/auth/keys.ts";
import { createVerifier } from "../../lib/auth/verifier.ts";
import { loadConfig } from "../../lib/config.ts";
import { authConfig, configError, keyPair, outcome, sign, T0, tempDir, verifierFor, type KeyPair } from "./auth-fixtures.ts";

const dir = tempDir("auth-keys-test");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let rsa: KeyPair;
let ec: KeyPair;
let pkcs1: string;
let privatePem: string;
let keyFile: string;
let pkcs1File: string;

beforeAll(async () => {
  rsa = await keyPair("RS256");
  ec = await keyPair("ES256");
  pkcs1 = createPublicKey(rsa.spki).export({ type: "pkcs1", format: "pem" }).toString();
  privatePem = await exportPKCS8(rsa.privateKey);
  keyFile = join(dir, "oauth-public.key");
  writeFileSync(keyFile, rsa.spki);
  pkcs1File = join(dir, "pkcs1-public.key");
  writeFileSync(pkcs1File, pkcs1);
});

const SECRET = "s".repeat(MIN_SECRET_BYTES);

/** Start-up refusals: each names the variable to fix. Built lazily, since keys are made in beforeAll. */
const REFUSALS: Array<{ name: string; env: () => Record<string, string>; variable: string; message?: string }> = [
  { name: "two key sources at once (secret and public key)", env: () => ({ JWT_SECRET: SECRET, JWT_PUBLIC_KEY: rsa.spki }), variable: "JWT_PUBLIC_KEY", message: "JWT_SECRET and JWT_PUBLIC_KEY" },
  { name: "two key sources at once (public key text and file)", env: () => ({ JWT_ALGORITHMS: "RS256", JWT_PUBLIC_KEY: rsa.spki, JWT_PUBLIC_KEY_FILE: keyFile }), variable: "JWT_PUBLIC_KEY_FILE" },
  { name: "two key sources at once (public key and JWKS)", env: () => ({ JWT_ALGORITHMS: "RS256", JWT_PUBLIC_KEY: rsa.spki, JWT_JWKS_URL: "https://app.example.com/jwks" }), variable: "JWT_JWKS_URL" },
  { name: "a text secret shorter than 32 bytes", env: () => ({ JWT_SECRET: "s".repeat(MIN_SECRET_BYTES - 1) }), variable: "JWT_SECRET", message: "31 bytes" },
  { name: "a base64 secret that decodes to fewer than 32 bytes", env: () => ({ JWT_SECRET: Buffer.alloc(31, 7).toString("base64"), JWT_SECRET_ENCODING: "base64" }), variable: "JWT_SECRET", message: "31 bytes" },
  { name: "a base64 secret that is not base64", env: () => ({ JWT_SECRET: "this is not base64 at all, no!!", JWT_SECRET_ENCODING: "base64" }), variable: "JWT_SECRET" },
  { name: "JWT_SECRET with RS256", env: () => ({ JWT_SECRET: SECRET, JWT_ALGORITHMS: "RS256" }), variable: "JWT_ALGORITHMS" },
  { name: "a public key with HS256", env: () => ({ JWT_PUBLIC_KEY: rsa.spki, JWT_ALGORITHMS: "HS256" }), variable: "JWT_ALGORITHMS", message: "HS256 needs JWT_SECRET" },
  { name: "a public key with the default algorithm (HS256)", env: () => ({ JWT_PUBLIC_KEY_FILE: keyFile }), variable: "JWT_ALGORITHMS" },
  { name: "a JWKS URL with HS256", env: () => ({ JWT_JWKS_URL: "https://app.example.com/jwks", JWT_ALGORITHMS: "HS256" }), variable: "JWT_ALGORITHMS" },
  { name: "a mixed HS256,RS256 allowlist", env: () => ({ JWT_SECRET: SECRET, JWT_ALGORITHMS: "HS256,RS256" }), variable: "JWT_ALGORITHMS", message: "do not mix" },
  { name: "a PKCS#1 RSA PUBLIC KEY in JWT_PUBLIC_KEY", env: () => ({ JWT_PUBLIC_KEY: pkcs1, JWT_ALGORITHMS: "RS256" }), variable: "JWT_PUBLIC_KEY", message: "openssl rsa -RSAPublicKey_in -in key.pem -pubout" },
  { name: "a PKCS#1 RSA PUBLIC KEY in JWT_PUBLIC_KEY_FILE", env: () => ({ JWT_PUBLIC_KEY_FILE: pkcs1File, JWT_ALGORITHMS: "RS256" }), variable: "JWT_PUBLIC_KEY_FILE", message: "openssl rsa -RSAPublicKey_in" },
  { name: "a PKCS#8 private key given as the public key", env: () => ({ JWT_PUBLIC_KEY: privatePem, JWT_ALGORITHMS: "RS256" }), variable: "JWT_PUBLIC_KEY", message: "private key" },
  { name: "a PKCS#1 RSA PRIVATE KEY given as the public key", env: () => ({ JWT_PUBLIC_KEY: "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----", JWT_ALGORITHMS: "RS256" }), variable: "JWT_PUBLIC_KEY", message: "private key" },
  { name: "an EC P-256 key with RS256", env: () => ({ JWT_PUBLIC_KEY: ec.spki, JWT_ALGORITHMS: "RS256" }), variable: "JWT_ALGORITHMS", message: "RS256 does not fit the key in JWT_PUBLIC_KEY" },
  { name: "an RSA key with ES256", env: () => ({ JWT_PUBLIC_KEY: rsa.spki, JWT_ALGORITHMS: "ES256" }), variable: "JWT_ALGORITHMS", message: "ES256 does not fit" },
  { name: "an RSA key with an allowlist one of whose algorithms does not fit", env: () => ({ JWT_PUBLIC_KEY: rsa.spki, JWT_ALGORITHMS: "RS256,ES256" }), variable: "JWT_ALGORITHMS", message: "ES256" },
  { name: "text that is not a PEM key", env: () => ({ JWT_PUBLIC_KEY: "ssh-rsa AAAAB3NzaC1yc2E laravel@app", JWT_ALGORITHMS: "RS256" }), variable: "JWT_PUBLIC_KEY" },
  { name: "a key file that does not exist", env: () => ({ JWT_PUBLIC_KEY_FILE: join(dir, "missing.key"), JWT_ALGORITHMS: "RS256" }), variable: "JWT_PUBLIC_KEY_FILE", message: "ENOENT" },
  { name: "no key at all in production", env: () => ({ NODE_ENV: "production" }), variable: "JWT_SECRET", message: "NODE_ENV=production" },
  { name: "no key in production even with RS256", env: () => ({ NODE_ENV: "production", JWT_ALGORITHMS: "RS256" }), variable: "JWT_SECRET" },
  { name: "no key in development when HS256 is not allowed (the dev key is HS256)", env: () => ({ JWT_ALGORITHMS: "RS256" }), variable: "JWT_ALGORITHMS" },
];

describe("loadVerificationKey refuses to start", () => {
  for (const r of REFUSALS) {
    test(`with ${r.name}, naming ${r.variable}`, async () => {
      const err = await configError(loadVerificationKey(authConfig(r.env()), join(dir, "state-refusals")));
      expect(err.variable).toBe(r.variable);
      expect(err.message).toStartWith(`${r.variable}: `);
      if (r.message !== undefined) expect(err.message).toContain(r.message);
    });
  }

  test("never writes a development secret when it refuses", () => {
    expect(existsSync(devSecretPath(join(dir, "state-refusals")))).toBe(false);
  });

  // Regression: jose imports a 1024-bit RSA key without complaint but refuses it at every verify,
  // so start-up succeeded and every token failed as token_invalid.
  test("refuses an RSA public key shorter than 2048 bits, which jose never verifies with", async () => {
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const pem = weak.publicKey.export({ type: "spki", format: "pem" }).toString();
    const err = await configError(loadVerificationKey(authConfig({ JWT_PUBLIC_KEY: pem, JWT_ALGORITHMS: "RS256" }), dir));
    expect(err.variable).toBe("JWT_PUBLIC_KEY");
    expect(err.message).toContain("1024-bit");
  });
});

describe("loadVerificationKey accepts", () => {
  const ACCEPTED: Array<{ name: string; env: () => Record<string, string>; kind: "secret" | "public" | "jwks" }> = [
    { name: "a 32-byte text secret", env: () => ({ JWT_SECRET: SECRET }), kind: "secret" },
    { name: "a text secret counted in UTF-8 bytes, not characters (11 × € = 33 bytes)", env: () => ({ JWT_SECRET: "€".repeat(11) }), kind: "secret" },
    { name: "a base64url secret of 32 bytes", env: () => ({ JWT_SECRET: Buffer.alloc(32, 0xfb).toString("base64url"), JWT_SECRET_ENCODING: "base64" }), kind: "secret" },
    { name: "one RSA key for several RS/PS algorithms", env: () => ({ JWT_PUBLIC_KEY: rsa.spki, JWT_ALGORITHMS: "RS256,RS512,PS256" }), kind: "public" },
    { name: "an EC P-256 key with ES256", env: () => ({ JWT_PUBLIC_KEY: ec.spki, JWT_ALGORITHMS: "ES256" }), kind: "public" },
    { name: "a JWKS URL with RS256 (fetched lazily, not at start-up)", env: () => ({ JWT_JWKS_URL: "http://127.0.0.1:9/jwks", JWT_ALGORITHMS: "RS256" }), kind: "jwks" },
  ];
  for (const a of ACCEPTED) {
    test(a.name, async () => {
      const loaded = await loadVerificationKey(authConfig(a.env()), join(dir, "state-accepted"));
      expect(loaded.key.kind).toBe(a.kind);
      expect(loaded.devSecret).toBeUndefined();
    });
  }

  test("a self-signed certificate in JWT_PUBLIC_KEY_FILE, verifying tokens from its private key", async () => {
    const certDir = join(dir, "cert");
    const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=passport-test",
      "-keyout", join(dir, "cert.key"), "-out", join(dir, "cert.pem")], { stdout: "ignore", stderr: "pipe" });
    if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
    const { verifier } = await verifierFor({ JWT_PUBLIC_KEY_FILE: join(dir, "cert.pem"), JWT_ALGORITHMS: "RS256" }, certDir);
    const privateKey = await importPKCS8(readFileSync(join(dir, "cert.key"), "utf8"), "RS256");
    expect(await outcome(verifier, await sign({ sub: "7", exp: T0 + 60 }, privateKey, "RS256"))).toBe("accepted");
  });
});

describe("the development secret", () => {
  const mode = (path: string) => statSync(path).mode & 0o777;

  test("is generated when no key is configured, kept in STATE_DIR/dev-jwt-secret with mode 0600", async () => {
    const stateDir = join(dir, "dev-generated");
    const loaded = await loadVerificationKey(authConfig({}), stateDir);
    expect(loaded.devSecret).toBeInstanceOf(Uint8Array);
    expect(loaded.devSecret!.length).toBe(32);
    expect(loaded.key).toEqual({ kind: "secret", key: loaded.devSecret! });
    const path = join(stateDir, "dev-jwt-secret");
    expect(devSecretPath(stateDir)).toBe(path);
    expect(mode(path)).toBe(0o600);
    expect(mode(stateDir)).toBe(0o700);
    expect(Buffer.from(readFileSync(path, "utf8"), "base64")).toEqual(Buffer.from(loaded.devSecret!));
  });

  test("is fresh at each load, so a restart voids old development tokens", async () => {
    const stateDir = join(dir, "dev-fresh");
    const first = await verifierFor({}, stateDir);
    const token = await sign({ sub: "42", exp: T0 + 60 }, first.loaded.devSecret!, "HS256");
    expect(await outcome(first.verifier, token)).toBe("accepted");
    const second = await verifierFor({}, stateDir);
    expect(Buffer.from(second.loaded.devSecret!)).not.toEqual(Buffer.from(first.loaded.devSecret!));
    expect(await outcome(second.verifier, token)).toBe("token_invalid");
  });

  test("is read back, not regenerated, by devSecretIn(dir, false) — what `npm run token` uses", async () => {
    const stateDir = join(dir, "dev-reread");
    const loaded = await loadVerificationKey(authConfig({}), stateDir);
    expect(Buffer.from(devSecretIn(stateDir, false))).toEqual(Buffer.from(loaded.devSecret!));
    expect(Buffer.from(devSecretIn(stateDir, false))).toEqual(Buffer.from(loaded.devSecret!));
    const minted = await sign({ sub: "42", exp: T0 + 60 }, devSecretIn(stateDir, false), "HS256");
    expect(await outcome(createVerifier(authConfig({}), loaded.key, { now: () => new Date(T0 * 1000) }), minted)).toBe("accepted");
  });

  test("is created by devSecretIn(dir, false) when none exists yet", () => {
    const stateDir = join(dir, "dev-none-yet");
    const secret = devSecretIn(stateDir, false);
    expect(secret.length).toBe(32);
    expect(mode(devSecretPath(stateDir))).toBe(0o600);
  });

  // Regression — this was a bug (lib/auth/keys.ts devSecretIn): writeFileSync's `mode` applies only when it creates the
  // file, so a dev-jwt-secret that already exists with a looser mode keeps it after the new
  // secret is written into it. Low severity: the gateway itself always creates the file 0600.
  test("tightens an existing dev-jwt-secret to mode 0600 when it writes a fresh secret", () => {
    const stateDir = join(dir, "dev-loose");
    devSecretIn(stateDir);
    chmodSync(devSecretPath(stateDir), 0o644);
    devSecretIn(stateDir);
    expect(mode(devSecretPath(stateDir))).toBe(0o600);
  });
});

describe("JWT_ALGORITHMS parsing", () => {
  test.each(["none", "None", "HS256,none", "hs256", "RS256, XS256", "", ","])("rejects %p", (value) => {
    const parsed = AuthEnvSchema.safeParse({ JWT_ALGORITHMS: value });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path[0]).toBe("JWT_ALGORITHMS");
  });

  test("says that none is never allowed, naming JWT_ALGORITHMS, when loaded as configuration", () => {
    let caught: unknown;
    try {
      loadConfig({ JWT_ALGORITHMS: "none" }, dir);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ name: "ConfigError", variable: "JWT_ALGORITHMS" });
    expect(String((caught as Error).message)).toContain("none is never allowed");
  });

  test("trims spaces and drops empty entries in the list", () => {
    expect(AuthEnvSchema.parse({ JWT_ALGORITHMS: " RS256 , ,RS512 " }).JWT_ALGORITHMS).toEqual(["RS256", "RS512"]);
  });
});
