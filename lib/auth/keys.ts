/**
 * The key a token is verified with, chosen by configuration: an HMAC secret, a PEM public key
 * (text or file) or a JWKS URL. Exactly one source; its type must fit every allowed algorithm,
 * or start-up stops (ConfigError → exit 2) — this is what closes the door on algorithm confusion.
 */
import { createRemoteJWKSet, importSPKI, importX509, type JWTVerifyGetKey, type CryptoKey } from "jose";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import type { Algorithm, AuthConfig } from "./config.ts";

export const MIN_SECRET_BYTES = 32;
const MIN_RSA_BITS = 2048;

export type VerificationKey =
  | { kind: "secret"; key: Uint8Array }
  | { kind: "public"; keys: Map<string, CryptoKey> }
  | { kind: "jwks"; getKey: JWTVerifyGetKey };

export interface LoadedKey {
  key: VerificationKey;
  /** Set when no key was configured in development: the secret was generated (and kept in STATE_DIR). */
  devSecret?: Uint8Array;
}

const isHmac = (alg: Algorithm) => alg.startsWith("HS");

export async function loadVerificationKey(auth: AuthConfig, stateDir: string): Promise<LoadedKey> {
  const sources = [
    ["JWT_SECRET", auth.secret],
    ["JWT_PUBLIC_KEY", auth.publicKeyPem],
    ["JWT_PUBLIC_KEY_FILE", auth.publicKeyFile],
    ["JWT_JWKS_URL", auth.jwksUrl],
  ].filter(([, v]) => v !== undefined);
  if (sources.length > 1) {
    throw new ConfigError(String(sources[1]![0]), `set only one key source (found ${sources.map(([n]) => n).join(" and ")})`);
  }
  const hmac = auth.algorithms.filter(isHmac);
  if (hmac.length > 0 && hmac.length < auth.algorithms.length) {
    throw new ConfigError("JWT_ALGORITHMS", "do not mix HMAC (HS*) and public-key algorithms: one key source serves one family");
  }
  if (sources.length === 0) {
    if (auth.production) throw new ConfigError("JWT_SECRET", "no key configured: set JWT_SECRET, JWT_PUBLIC_KEY(_FILE) or JWT_JWKS_URL (required when NODE_ENV=production)");
    if (hmac.length === 0) throw new ConfigError("JWT_ALGORITHMS", "the development key is an HS256 secret; allow HS256 or configure a key");
    const devSecret = devSecretIn(stateDir);
    return { key: { kind: "secret", key: devSecret }, devSecret };
  }
  if (auth.secret !== undefined) {
    if (hmac.length === 0) throw new ConfigError("JWT_ALGORITHMS", "JWT_SECRET works only with HS256/HS384/HS512");
    return { key: { kind: "secret", key: decodeSecret(auth.secret.value, auth.secret.encoding) } };
  }
  if (hmac.length > 0) {
    throw new ConfigError("JWT_ALGORITHMS", `${hmac.join(",")} needs JWT_SECRET; a public key or JWKS only verifies RS/PS/ES/EdDSA`);
  }
  if (auth.jwksUrl !== undefined) {
    const getKey = createRemoteJWKSet(new URL(auth.jwksUrl), {
      timeoutDuration: auth.jwksTimeoutMs,
      cacheMaxAge: auth.jwksCacheMs,
      cooldownDuration: 30_000,
    });
    return { key: { kind: "jwks", getKey } };
  }
  const [variable, pem] =
    auth.publicKeyPem !== undefined ? ["JWT_PUBLIC_KEY", auth.publicKeyPem.replace(/\\n/g, "\n")] : ["JWT_PUBLIC_KEY_FILE", readKeyFile(auth.publicKeyFile!)];
  return { key: { kind: "public", keys: await importPublicKey(variable, pem, auth.algorithms) } };
}

/** Decode a secret exactly as configured: never guess from a `base64:` prefix. */
export function decodeSecret(value: string, encoding: "utf8" | "base64"): Uint8Array {
  let bytes: Uint8Array;
  if (encoding === "base64") {
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value.trim())) {
      throw new ConfigError("JWT_SECRET", "is not base64 (with JWT_SECRET_ENCODING=base64, drop Laravel's 'base64:' prefix)");
    }
    bytes = new Uint8Array(Buffer.from(value.trim(), "base64"));
  } else {
    bytes = new TextEncoder().encode(value);
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new ConfigError("JWT_SECRET", `is ${bytes.length} bytes; at least ${MIN_SECRET_BYTES} are required`);
  }
  return bytes;
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError("JWT_PUBLIC_KEY_FILE", `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

async function importPublicKey(variable: string, pem: string, algorithms: Algorithm[]): Promise<Map<string, CryptoKey>> {
  if (pem.includes("BEGIN RSA PUBLIC KEY")) {
    throw new ConfigError(
      variable,
      "is a PKCS#1 RSA key; convert it to SPKI: openssl rsa -RSAPublicKey_in -in key.pem -pubout -out key.spki.pem",
    );
  }
  if (pem.includes("PRIVATE KEY")) throw new ConfigError(variable, "holds a private key; give the gateway the public key only");
  const isCert = pem.includes("BEGIN CERTIFICATE");
  if (!isCert && !pem.includes("BEGIN PUBLIC KEY")) throw new ConfigError(variable, "is not a PEM public key (-----BEGIN PUBLIC KEY-----) or certificate");
  const keys = new Map<string, CryptoKey>();
  for (const alg of algorithms) {
    let key: CryptoKey;
    try {
      key = isCert ? await importX509(pem.trim(), alg) : await importSPKI(pem.trim(), alg);
    } catch (err) {
      throw new ConfigError("JWT_ALGORITHMS", `${alg} does not fit the key in ${variable} (${(err as Error).message})`);
    }
    // jose refuses RSA keys under 2048 bits at verify time: refuse them here, where it can be fixed.
    const bits = (key.algorithm as { modulusLength?: number }).modulusLength;
    if (bits !== undefined && bits < MIN_RSA_BITS) {
      throw new ConfigError(variable, `is a ${bits}-bit RSA key; ${alg} needs at least ${MIN_RSA_BITS} bits`);
    }
    keys.set(alg, key);
  }
  return keys;
}

/**
 * The development secret: generated afresh at each gateway start (ephemeral: a restart voids old
 * dev tokens) and written to STATE_DIR (0600) so that `npm run token` mints for the running gateway.
 */
export function devSecretIn(stateDir: string, fresh = true): Uint8Array {
  const path = devSecretPath(stateDir);
  if (!fresh && existsSync(path)) return new Uint8Array(Buffer.from(readFileSync(path, "utf8").trim(), "base64"));
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const secret = new Uint8Array(randomBytes(32));
  writeFileSync(path, Buffer.from(secret).toString("base64"), { mode: 0o600 });
  chmodSync(path, 0o600); // the mode option applies only when the file is created
  return secret;
}

export const devSecretPath = (stateDir: string) => join(stateDir, "dev-jwt-secret");
