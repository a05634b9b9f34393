/**
 * What a close code means to a client. The table is the gateway's own registry (lib/errors.ts
 * `CLOSE`), imported rather than copied: that file is plain TypeScript with no server-only imports,
 * so it bundles for the browser as is, and the two can never drift.
 */
import { CLOSE } from "../errors.ts";

/** The gateway's close registry, entry for entry. */
export const CLOSE_CODES = CLOSE;

export type CloseKey = keyof typeof CLOSE_CODES;

/** Closes that come from the WebSocket layer or the browser rather than the gateway's registry. */
const STANDARD_CLOSES: Record<number, string> = {
  1000: "The connection was closed normally.",
  1001: "The other side went away (page navigation or server stop).",
  1005: "The connection closed without a status code.",
  1006:
    "The connection dropped without a close frame: the gateway is unreachable, the network failed, or the upgrade was refused (Origin not allowed, or AUTH_REJECT_MODE=http).",
  1012: "The server is restarting.",
  1015: "The TLS handshake failed.",
};

/**
 * - `completed`: the run ended well (1000 completed).
 * - `final`: retrying the same request cannot help; it needs a new token or a fixed request.
 * - `retryable`: the same request may succeed later (with backoff).
 * - `ended`: the run is over for a reason a retry would only repeat (failed, timeout, client close, …).
 */
export type CloseKind = "completed" | "final" | "retryable" | "ended";

/** The codes that mean "fix the token or the request": never reconnect automatically. */
const FINAL_CODES = new Set([1003, 1008, 1009, 4400, 4401, 4403, 4408]);

export interface CloseMeaning {
  /** The registry entry, when the gateway sent one of its own closes. */
  key: CloseKey | undefined;
  kind: CloseKind;
  /** Whether an automatic reconnect may help. */
  retry: boolean;
  /** One sentence for a person. */
  explain: string;
}

/** For a code the registry uses several times, when the reason is not one of its own. */
const AMBIGUOUS: Record<number, string> = {
  1011: "The run ended with an error on the gateway's side.",
  4401: "The token was not accepted; get a new one from the app.",
};

/**
 * Looks a close up in the registry: by code and reason, else by the code alone when only one
 * entry has it (1013 is always `try_again_later`; 1011 depends on the reason).
 *
 * @example
 * describeClose(4401, "token_expired").explain // "The token expired; get a fresh one …"
 * describeClose(1011, "failed").retry          // false
 * describeClose(1011, "spawn_failed").retry    // true
 */
export function describeClose(code: number, reason: string): CloseMeaning {
  const entries = Object.entries(CLOSE_CODES) as Array<[CloseKey, (typeof CLOSE_CODES)[CloseKey]]>;
  const sameCode = entries.filter(([, e]) => e.code === code);
  const exact = sameCode.find(([, e]) => e.reason === reason);
  // A 1000 from the client ("bye") is not the gateway's "completed".
  const hit = exact ?? (sameCode.length === 1 && code !== 1000 ? sameCode[0] : undefined);
  if (hit !== undefined) {
    const [key, entry] = hit;
    const kind: CloseKind = key === "completed" ? "completed" : entry.retry ? "retryable" : FINAL_CODES.has(code) ? "final" : "ended";
    return { key, kind, retry: entry.retry, explain: entry.explain };
  }
  const explain =
    AMBIGUOUS[code] ??
    STANDARD_CLOSES[code] ??
    (code >= 4000 ? `The gateway closed the connection (${code}).` : `The connection closed with code ${code}.`);
  return { key: undefined, kind: FINAL_CODES.has(code) ? "final" : "ended", retry: false, explain };
}

/** A socket's end, as a client reports it. */
export interface CloseInfo extends CloseMeaning {
  code: number;
  reason: string;
  /** This client ended the connection (`close()`), not the gateway. */
  byClient: boolean;
  /** The `gateway.error` that came just before the close, if any. */
  error?: { code: string; message: string; retryAfterMs?: number };
  /** Set when the client has scheduled a reconnect. */
  retryInMs?: number;
}
