/**
 * How the bench authenticates to the gateway it starts: environment for the server (its
 * verification key, limits) and a token per connection, sent as `Authorization: Bearer <jwt>`.
 */
import { mintToken } from "../lib/mint-token.ts";

export interface GatewayAuth {
  /** Extra environment for the gateway process. */
  env: Record<string, string>;
  /** The token for one new connection, or null to send none. Called once per connection. */
  token(): Promise<string | null>;
}

/** The bench's HS256 key: 44 bytes, over the gateway's 32-byte minimum. */
const SECRET = "bench-secret-0123456789-0123456789-abcdefghij";
/** Past anything the bench opens (500 idle sockets, ~1,000 connections/s from one IP, one user per connection). */
const UNLIMITED = "1000000";
let users = 0;

/**
 * Every bench connection carries a real JWT, verified by the gateway (jose, HS256), for its own
 * `sub`; the admission limits are raised so that they never refuse a bench connection. Minting
 * is the client's cost: connection-setup timing starts after `token()` returns.
 */
export const benchAuth: GatewayAuth = {
  env: {
    JWT_SECRET: SECRET,
    MAX_CONNECTIONS_PER_USER: UNLIMITED,
    MAX_PROCESSES_PER_USER: UNLIMITED,
    CONNECT_RATE_PER_USER: UNLIMITED,
    CONNECT_RATE_PER_IP: UNLIMITED,
    QUEUE_LIMIT: UNLIMITED,
  },
  token: () => mintToken({ secret: new TextEncoder().encode(SECRET), sub: `bench-${++users}`, ttlS: 600 }),
};

/** The extra request headers for one connection. */
export async function authHeaders(auth: GatewayAuth): Promise<Record<string, string>> {
  const value = await auth.token();
  return value === null ? {} : { Authorization: `Bearer ${value}` };
}
