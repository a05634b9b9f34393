/**
 * Shared by the auth-* unit tests: configs built the way the gateway builds them (zod-parsed
 * environment → AuthConfig → loaded key), a fixed clock, and helpers that return the error a
 * promise rejects with so tests can compare codes in tables.
 */
import { expect } from "bun:test";
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTHeaderParameters, type JWTPayload } from "jose";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthEnvSchema, toAuthConfig, type AuthConfig } from "../../lib/auth/config.ts";
import { loadVerificationKey, type LoadedKey } from "../../lib/auth/keys.ts";
import { createVerifier, type TokenVerifier } from "../../lib/auth/verifier.ts";
import { ConfigError, GatewayError } from "../../lib/errors.ts";

/** "Now" for every verifier test, in seconds since the epoch (2025-11-21T04:40:00Z). */
export const T0 = 1_763_700_000;

/** A clock for jose's `currentDate`, at `seconds` (fractions allowed). */
export const clockAt = (seconds: number) => () => new Date(seconds * 1000);

/** An AuthConfig exactly as start-up builds it from these environment variables. */
export const authConfig = (env: Record<string, string>): AuthConfig => toAuthConfig(AuthEnvSchema.parse(env));

/** A directory under the OS temp dir; the caller removes it (afterAll). */
export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `${prefix}-`));

export interface Verifying {
  auth: AuthConfig;
  loaded: LoadedKey;
  verifier: TokenVerifier;
}

/** Load the key for `env` and make a verifier whose clock reads `now` (seconds). */
export async function verifierFor(env: Record<string, string>, stateDir: string, now: number = T0): Promise<Verifying> {
  const auth = authConfig(env);
  const loaded = await loadVerificationKey(auth, stateDir);
  return { auth, loaded, verifier: createVerifier(auth, loaded.key, { now: clockAt(now) }) };
}

/** The GatewayError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function gatewayError(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a GatewayError, but the promise resolved");
}

/** The ConfigError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError, but the promise resolved");
}

/** The outcome of verifying, as one comparable value: "accepted" or the error code. */
export async function outcome(verifier: TokenVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return "accepted";
  } catch (err) {
    if (err instanceof GatewayError) return err.code;
    throw err;
  }
}

export const b64url = (value: unknown): string =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** Sign `claims` as given (no defaults added), with the header jose would write plus `header`. */
export function sign(claims: JWTPayload, key: CryptoKey | Uint8Array, alg: string, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ typ: "JWT", ...header, alg }).sign(key);
}

export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public key as SPKI PEM (-----BEGIN PUBLIC KEY-----), as Passport's oauth-public.key holds it. */
  spki: string;
}

export async function keyPair(alg: "RS256" | "RS512" | "ES256"): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicKey, spki: await exportSPKI(publicKey) };
}
