/**
 * Token verification (jose). Maps every way a token can fail to one of our error codes, so the
 * socket can close with the right code, and never says more than the code and a sentence.
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from "jose";
import { GatewayError } from "../errors.ts";
import type { AuthConfig } from "./config.ts";
import type { VerificationKey } from "./keys.ts";

/** Who a verified token speaks for. */
export interface Principal {
  sub: string;
  /** Expiry, in seconds since the epoch (may be fractional: Passport). */
  exp: number;
  claims: JWTPayload;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

export interface VerifierOptions {
  /** Injected clock (jose's `currentDate`): expiry tests never wait. */
  now?: () => Date;
}

export function createVerifier(auth: AuthConfig, key: VerificationKey, options: VerifierOptions = {}): TokenVerifier {
  const base: JWTVerifyOptions = {
    algorithms: auth.algorithms,
    issuer: auth.issuer,
    audience: auth.audience,
    clockTolerance: auth.clockToleranceS,
    maxTokenAge: auth.maxAgeS,
    requiredClaims: ["exp", "sub"],
  };
  const now = options.now;
  return {
    async verify(token) {
      const opts = now ? { ...base, currentDate: now() } : base;
      let payload: JWTPayload;
      try {
        payload = (await verifyWith(key, token, opts)).payload;
      } catch (err) {
        throw toGatewayError(err, key.kind === "jwks");
      }
      if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 255) {
        throw new GatewayError("token_invalid", "The token's subject (sub) must be a non-empty string.");
      }
      checkScopes(payload, auth.requiredScopes);
      return { sub: payload.sub, exp: payload.exp!, claims: payload };
    },
  };
}

function verifyWith(key: VerificationKey, token: string, opts: JWTVerifyOptions) {
  switch (key.kind) {
    case "secret":
      return jwtVerify(token, key.key, opts);
    case "jwks":
      return jwtVerify(token, key.getKey, opts);
    case "public":
      return jwtVerify(
        token,
        (header) => {
          const k = key.keys.get(header.alg);
          if (k === undefined) throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
          return k;
        },
        opts,
      );
  }
}

/** jose codes that speak of the key source, not of the token: a JWKS endpoint that failed or answered junk. */
const KEY_SOURCE_FAILURES = new Set(["ERR_JWKS_TIMEOUT", "ERR_JWKS_INVALID", "ERR_JOSE_GENERIC"]);

function toGatewayError(err: unknown, jwks: boolean): GatewayError {
  if (err instanceof errors.JWTExpired) {
    return new GatewayError("token_expired", err.claim === "iat" ? "The token is older than the gateway accepts." : "The token has expired.");
  }
  if (jwks && (!(err instanceof errors.JOSEError) || KEY_SOURCE_FAILURES.has(err.code))) {
    // Not a verdict on the token: the key source itself failed (down, slow, or not a JWKS).
    return new GatewayError("auth_unavailable", "The signing keys could not be fetched.");
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new GatewayError("token_invalid", `The token's ${err.claim} claim was not accepted (${err.reason}).`);
  }
  return new GatewayError("token_invalid", "The token is not valid.");
}

/** Passport puts scopes in `scopes` (array); OAuth servers often in `scope` (space-separated). */
function checkScopes(payload: JWTPayload, required: string[]): void {
  if (required.length === 0) return;
  const granted = new Set<string>();
  if (Array.isArray(payload.scopes)) for (const s of payload.scopes) if (typeof s === "string") granted.add(s);
  if (typeof payload.scope === "string") for (const s of payload.scope.split(" ")) granted.add(s);
  if (granted.has("*")) return;
  const missing = required.filter((s) => !granted.has(s));
  if (missing.length > 0) throw new GatewayError("forbidden", `The token lacks the scope${missing.length > 1 ? "s" : ""} ${missing.join(", ")}.`);
}
