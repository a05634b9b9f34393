/**
 * The `/ws/claude` upgrade: Origin, per-IP rate, the handshake's token — all decided before the
 * socket exists. Refusals are reported after the upgrade (a frame and a close code: browsers only
 * ever see 1006 for a refused upgrade), unless AUTH_REJECT_MODE=http asks for plain HTTP statuses.
 * A disallowed Origin is always a plain 403.
 */
import type { Server } from "bun";
import type { AuthConfig } from "../lib/auth/config.ts";
import { originAllowed } from "../lib/auth/origin.ts";
import type { Principal, TokenVerifier } from "../lib/auth/verifier.ts";
import { GatewayError, HTTP_STATUS } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Admission } from "./admission.ts";
import { answerProtocol, tokenFromRequest, type TokenSource } from "./handshake-token.ts";

/**
 * How far authentication got before the socket opened. "verified" also means admitted: the user's
 * connection is counted (Admission.openConnection) and must be released when the socket closes.
 */
export type AuthState =
  | { state: "verified"; principal: Principal; via: TokenSource }
  | { state: "refused"; error: GatewayError }
  | { state: "pending" };

/** Attached to each socket at upgrade. */
export interface ConnectionData {
  remoteAddress: string;
  auth: AuthState;
  /** Set by the socket handler on open. */
  conn?: unknown;
}

export interface UpgradeDeps {
  auth: AuthConfig;
  verifier: TokenVerifier;
  admission: Admission;
  metrics: Metrics;
  log: Logger;
}

export async function upgradeClaude(req: Request, server: Server<ConnectionData>, deps: UpgradeDeps): Promise<Response | undefined> {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return Response.json({ error: "upgrade_required", message: "Connect with a WebSocket client." }, { status: 426 });
  }
  const origin = req.headers.get("origin");
  if (!originAllowed(origin, req.headers.get("host"), deps.auth.allowedOrigins)) {
    deps.log.info({ origin }, "origin refused");
    deps.metrics.authRefusals.inc({ code: "origin_not_allowed" });
    return Response.json({ error: "origin_not_allowed", message: "This page's origin may not connect." }, { status: 403 });
  }
  const remoteAddress = clientIp(req, server, deps.auth.trustProxy);
  const auth = await authenticate(req, remoteAddress, deps);
  if (auth.state === "refused" && deps.auth.rejectMode === "http") {
    const { error } = auth;
    deps.log.info({ code: error.code, remoteAddress }, "upgrade refused");
    deps.metrics.authRefusals.inc({ code: error.code });
    const headers: Record<string, string> = {};
    if (error.retryAfterMs !== undefined) headers["retry-after"] = String(Math.ceil(error.retryAfterMs / 1000));
    return Response.json({ error: error.code, message: error.message }, { status: HTTP_STATUS[error.code] ?? 400, headers });
  }
  // Always set the header: left alone, Bun would echo the first offered protocol — maybe a token.
  const headers = new Headers({ "Sec-WebSocket-Protocol": answerProtocol(req) });
  if (server.upgrade(req, { data: { remoteAddress, auth }, headers })) return undefined;
  if (auth.state === "verified") deps.admission.closeConnection(auth.principal.sub);
  return Response.json({ error: "bad_upgrade", message: "The WebSocket handshake was invalid." }, { status: 400 });
}

async function authenticate(req: Request, ip: string, deps: UpgradeDeps): Promise<AuthState> {
  const limited = deps.admission.checkIp(ip);
  if (limited !== null) return { state: "refused", error: limited };
  try {
    const found = tokenFromRequest(req, new URL(req.url), deps.auth.allowQueryToken);
    if (found.token === null) return { state: "pending" };
    const principal = await deps.verifier.verify(found.token);
    // Per-user limits are decided here too, so AUTH_REJECT_MODE=http can answer them with a 429.
    const limited = deps.admission.openConnection(principal.sub);
    if (limited !== null) return { state: "refused", error: limited };
    return { state: "verified", principal, via: found.via! };
  } catch (err) {
    if (err instanceof GatewayError) return { state: "refused", error: err };
    throw err;
  }
}

/** The peer's address, or with TRUST_PROXY the last X-Forwarded-For hop (the one our proxy added). */
function clientIp(req: Request, server: Server<ConnectionData>, trustProxy: boolean): string {
  if (trustProxy) {
    const hops = req.headers.get("x-forwarded-for")?.split(",").map((h) => h.trim()).filter(Boolean);
    const last = hops?.at(-1);
    if (last !== undefined) return last;
  }
  return server.requestIP(req)?.address ?? "unknown";
}
