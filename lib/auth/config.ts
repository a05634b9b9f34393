/**
 * Authentication and admission settings: the environment variables, parsed once with zod.
 * Keys themselves are loaded (asynchronously) by lib/auth/keys.ts.
 */
import { z } from "zod";

const DEFAULT_CLOCK_TOLERANCE_S = 30; // Passport writes fractional nbf/iat: zero tolerance fails same-second use
const DEFAULT_AUTH_TIMEOUT_MS = 5_000;
const DEFAULT_JWKS_TIMEOUT_MS = 5_000;
const DEFAULT_JWKS_CACHE_MS = 10 * 60_000;
const DEFAULT_MAX_PROCESSES_PER_USER = 2;
const DEFAULT_MAX_CONNECTIONS_PER_USER = 8;
const DEFAULT_CONNECT_RATE_PER_USER = 60; // per minute: a reconnecting tab, not a script
const DEFAULT_CONNECT_RATE_PER_IP = 120; // per minute: several users behind one NAT
const DEFAULT_QUEUE_LIMIT = 64;
const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;

const ALGORITHMS = [
  "HS256", "HS384", "HS512",
  "RS256", "RS384", "RS512",
  "PS256", "PS384", "PS512",
  "ES256", "ES384", "ES512",
  "EdDSA", "Ed25519",
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().trim().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min).max(max));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"]))
  .transform((v) => v === "true" || v === "1" || v === "yes");

const list = z.string().transform((s) => s.split(",").map((v) => v.trim()).filter(Boolean));

export const AuthEnvSchema = z.object({
  NODE_ENV: z.string().trim().default("development").describe("production turns off dev conveniences (ephemeral key, query tokens)"),
  JWT_SECRET: z.string().optional().describe("HS256/384/512 secret (at least 32 bytes)"),
  JWT_SECRET_ENCODING: z.enum(["utf8", "base64"]).default("utf8").describe("utf8: used as text (tymon/jwt-auth); base64: decoded (Laravel APP_KEY without its base64: prefix)"),
  JWT_PUBLIC_KEY: z.string().optional().describe("PEM public key (SPKI) or certificate, for RS/PS/ES/EdDSA"),
  JWT_PUBLIC_KEY_FILE: z.string().optional().describe("file holding that PEM, e.g. Passport's storage/oauth-public.key"),
  JWT_JWKS_URL: z.url().optional().describe("JWKS endpoint for asymmetric keys"),
  JWT_JWKS_TIMEOUT_MS: int(1).default(DEFAULT_JWKS_TIMEOUT_MS).describe("JWKS fetch timeout"),
  JWT_JWKS_CACHE_MS: int(0).default(DEFAULT_JWKS_CACHE_MS).describe("how long fetched JWKS keys are trusted"),
  JWT_ALGORITHMS: list.pipe(z.array(z.enum(ALGORITHMS, "is not an allowed algorithm (none is never allowed)")).min(1)).default(["HS256"]).describe("explicit allowlist of signature algorithms"),
  JWT_CLOCK_TOLERANCE: int(0, 600).default(DEFAULT_CLOCK_TOLERANCE_S).describe("seconds of leeway for exp/nbf/iat"),
  JWT_ISSUER: z.string().trim().min(1).optional().describe("required iss, when set"),
  JWT_AUDIENCE: list.optional().describe("accepted aud values (comma-separated), when set"),
  JWT_MAX_AGE: int(1).optional().describe("maximum token age in seconds (from iat), when set"),
  JWT_REQUIRED_SCOPES: list.optional().describe("scopes the token must carry (scopes[] or scope), else 4403"),
  ALLOWED_ORIGINS: list.optional().describe("exact scheme://host[:port] origins allowed; unset = same origin only"),
  ALLOW_QUERY_TOKEN: bool.optional().describe("accept ?token=; default on in development, off in production"),
  AUTH_REJECT_MODE: z.enum(["close", "http"]).default("close").describe("close: refuse after the upgrade with a frame and close code; http: plain 401/403/429"),
  AUTH_TIMEOUT_MS: int(1).default(DEFAULT_AUTH_TIMEOUT_MS).describe("time allowed for the first-message auth frame"),
  TRUST_PROXY: bool.default(false).describe("take the client IP from the last X-Forwarded-For entry"),
  MAX_PROCESSES_PER_USER: int(1).default(DEFAULT_MAX_PROCESSES_PER_USER).describe("live or queued runs per user (sub)"),
  MAX_CONNECTIONS_PER_USER: int(1).default(DEFAULT_MAX_CONNECTIONS_PER_USER).describe("open sockets per user"),
  CONNECT_RATE_PER_USER: int(1).default(DEFAULT_CONNECT_RATE_PER_USER).describe("connections per minute per user"),
  CONNECT_RATE_PER_IP: int(1).default(DEFAULT_CONNECT_RATE_PER_IP).describe("connections per minute per client IP"),
  QUEUE_LIMIT: int(0).default(DEFAULT_QUEUE_LIMIT).describe("runs waiting for a slot when MAX_PROCESSES is reached"),
  QUEUE_TIMEOUT_MS: int(1).default(DEFAULT_QUEUE_TIMEOUT_MS).describe("longest wait in that queue"),
});

export type AuthEnv = z.infer<typeof AuthEnvSchema>;

export interface AuthConfig {
  production: boolean;
  secret: { value: string; encoding: "utf8" | "base64" } | undefined;
  publicKeyPem: string | undefined;
  publicKeyFile: string | undefined;
  jwksUrl: string | undefined;
  jwksTimeoutMs: number;
  jwksCacheMs: number;
  algorithms: Algorithm[];
  clockToleranceS: number;
  issuer: string | undefined;
  audience: string[] | undefined;
  maxAgeS: number | undefined;
  requiredScopes: string[];
  allowedOrigins: string[] | undefined;
  allowQueryToken: boolean;
  rejectMode: "close" | "http";
  authTimeoutMs: number;
  trustProxy: boolean;
}

export interface AdmissionConfig {
  maxProcessesPerUser: number;
  maxConnectionsPerUser: number;
  connectRatePerUser: number;
  connectRatePerIp: number;
  queueLimit: number;
  queueTimeoutMs: number;
}

export function toAuthConfig(e: AuthEnv): AuthConfig {
  const production = e.NODE_ENV === "production";
  return {
    production,
    secret: e.JWT_SECRET === undefined ? undefined : { value: e.JWT_SECRET, encoding: e.JWT_SECRET_ENCODING },
    publicKeyPem: e.JWT_PUBLIC_KEY,
    publicKeyFile: e.JWT_PUBLIC_KEY_FILE,
    jwksUrl: e.JWT_JWKS_URL,
    jwksTimeoutMs: e.JWT_JWKS_TIMEOUT_MS,
    jwksCacheMs: e.JWT_JWKS_CACHE_MS,
    algorithms: e.JWT_ALGORITHMS,
    clockToleranceS: e.JWT_CLOCK_TOLERANCE,
    issuer: e.JWT_ISSUER,
    audience: e.JWT_AUDIENCE,
    maxAgeS: e.JWT_MAX_AGE,
    requiredScopes: e.JWT_REQUIRED_SCOPES ?? [],
    allowedOrigins: e.ALLOWED_ORIGINS,
    allowQueryToken: e.ALLOW_QUERY_TOKEN ?? !production,
    rejectMode: e.AUTH_REJECT_MODE,
    authTimeoutMs: e.AUTH_TIMEOUT_MS,
    trustProxy: e.TRUST_PROXY,
  };
}

export function toAdmissionConfig(e: AuthEnv): AdmissionConfig {
  return {
    maxProcessesPerUser: e.MAX_PROCESSES_PER_USER,
    maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
    connectRatePerUser: e.CONNECT_RATE_PER_USER,
    connectRatePerIp: e.CONNECT_RATE_PER_IP,
    queueLimit: e.QUEUE_LIMIT,
    queueTimeoutMs: e.QUEUE_TIMEOUT_MS,
  };
}
