/**
 * Where a token comes from on the upgrade request, and which subprotocol the server answers.
 *
 * Browsers cannot set headers on a WebSocket, so in order of preference: the subprotocol
 * `bearer.<jwt>` (next to `claude.v1`), `Authorization: Bearer`, `?token=` (if allowed), or a
 * first message (handled on the socket). Two at once is a bad request.
 *
 * Bun echoes the first offered subprotocol unless told otherwise — which would send the token
 * back in the response. The answer is always `claude.v1` when offered, else none at all.
 */
import { GatewayError } from "../lib/errors.ts";
import { PROTOCOL } from "./schemas.ts";

const BEARER_PREFIX = "bearer.";

export type TokenSource = "subprotocol" | "header" | "query";

export interface HandshakeToken {
  token: string | null;
  via: TokenSource | null;
}

function offeredProtocols(req: Request): string[] {
  return (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim()).filter(Boolean);
}

/** The response's Sec-WebSocket-Protocol: `claude.v1` if offered, else "" (no header at all). */
export function answerProtocol(req: Request): string {
  return offeredProtocols(req).includes(PROTOCOL) ? PROTOCOL : "";
}

/** Reads the token from the handshake; throws GatewayError for malformed or doubled tokens. */
export function tokenFromRequest(req: Request, url: URL, allowQuery: boolean): HandshakeToken {
  const offered = offeredProtocols(req);
  const found: Array<{ via: TokenSource; token: string }> = [];
  for (const p of offered) {
    if (p.toLowerCase().startsWith(BEARER_PREFIX)) found.push({ via: "subprotocol", token: p.slice(BEARER_PREFIX.length) });
  }
  const authorization = req.headers.get("authorization");
  if (authorization !== null) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (m === null) throw new GatewayError("token_invalid", "The Authorization header must be 'Bearer <token>'.");
    found.push({ via: "header", token: m[1]! });
  }
  const query = url.searchParams.get("token");
  if (query !== null) {
    if (!allowQuery) throw new GatewayError("token_invalid", "Tokens in the query string are disabled here; use the bearer subprotocol.");
    found.push({ via: "query", token: query });
  }
  if (found.length > 1) throw new GatewayError("bad_request", `Send one token, not ${found.length} (found: ${found.map((f) => f.via).join(", ")}).`);
  const hit = found[0];
  return { token: hit?.token ?? null, via: hit?.via ?? null };
}
