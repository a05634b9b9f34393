/**
 * One registry for every way a socket can end, and one error type that carries its code.
 *
 * Error codes are the stable, snake_case strings clients switch on (`gateway.error.code`).
 * Each maps to the close code and close reason the socket ends with, so nothing else in
 * the code base picks a close code by hand.
 */

/** Close codes, the reason string sent with each, and whether a client may retry. */
export const CLOSE = {
  completed: { code: 1000, reason: "completed", retry: false, explain: "The CLI finished its run successfully." },
  shutdown: { code: 1001, reason: "shutdown", retry: true, explain: "The gateway is shutting down; reconnect shortly." },
  unsupported_data: { code: 1003, reason: "unsupported_data", retry: false, explain: "Binary frames are not accepted; send JSON text." },
  invalid_message: { code: 1008, reason: "invalid_message", retry: false, explain: "The frame was not valid JSON or did not match the protocol." },
  message_too_big: { code: 1009, reason: "message_too_big", retry: false, explain: "The frame or prompt was larger than the gateway accepts." },
  failed: { code: 1011, reason: "failed", retry: false, explain: "The CLI exited with an error." },
  spawn_failed: { code: 1011, reason: "spawn_failed", retry: true, explain: "The gateway could not start the CLI." },
  timeout: { code: 1011, reason: "timeout", retry: false, explain: "The run exceeded the gateway's time limit." },
  idle_timeout: { code: 1011, reason: "idle_timeout", retry: false, explain: "The CLI printed nothing for too long and was stopped." },
  try_again_later: { code: 1013, reason: "try_again_later", retry: true, explain: "The gateway is at capacity; retry with backoff." },
  auth_unavailable: { code: 1011, reason: "auth_unavailable", retry: true, explain: "The gateway could not reach its signing keys; retry shortly." },
  bad_request: { code: 4400, reason: "bad_request", retry: false, explain: "The connection request was malformed (e.g. two tokens at once)." },
  token_missing: { code: 4401, reason: "token_missing", retry: false, explain: "No token was sent; connect with a token from the app." },
  token_invalid: { code: 4401, reason: "token_invalid", retry: false, explain: "The token was not accepted; get a new one from the app." },
  token_expired: { code: 4401, reason: "token_expired", retry: false, explain: "The token expired; get a fresh one from the app and reconnect." },
  forbidden: { code: 4403, reason: "forbidden", retry: false, explain: "The token is valid but does not allow this." },
  auth_timeout: { code: 4408, reason: "auth_timeout", retry: false, explain: "No auth message arrived in time after connecting." },
  rate_limited: { code: 4429, reason: "rate_limited", retry: true, explain: "Too many connections or runs for this user; retry after the hint." },
} as const;

export type CloseKey = keyof typeof CLOSE;
export type CloseSpec = (typeof CLOSE)[CloseKey];

/** Every `gateway.error` code, with the close it leads to (`null`: the socket stays open). */
export const ERROR_CODES = {
  unsupported_data: "unsupported_data",
  invalid_json: "invalid_message",
  invalid_message: "invalid_message",
  message_too_big: "message_too_big",
  prompt_too_large: "message_too_big",
  run_in_progress: null,
  try_again_later: "try_again_later",
  spawn_failed: "spawn_failed",
  auth_unavailable: "auth_unavailable",
  bad_request: "bad_request",
  token_missing: "token_missing",
  token_invalid: "token_invalid",
  token_expired: "token_expired",
  forbidden: "forbidden",
  auth_timeout: "auth_timeout",
  rate_limited: "rate_limited",
  option_not_allowed: "invalid_message",
  not_interactive: null,
  unknown_request: null,
  followup_queue_full: null,
  not_running: null,
} as const satisfies Record<string, CloseKey | null>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * An error a client is told about. `close` is the registry entry the socket ends with,
 * or `null` when the error is reported and the connection carries on.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  /** For rate_limited / try_again_later: when a retry may succeed. */
  readonly retryAfterMs: number | undefined;
  constructor(code: ErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.name = "GatewayError";
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  get close(): CloseSpec | null {
    const key = ERROR_CODES[this.code];
    return key === null ? null : CLOSE[key];
  }
}

/** HTTP statuses for refusals made before the upgrade (AUTH_REJECT_MODE=http, Origin). */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  bad_request: 400,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  forbidden: 403,
  rate_limited: 429,
  auth_unavailable: 503,
  try_again_later: 503,
};

/** Thrown while reading configuration; `variable` names the environment variable at fault. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

/** Why a run ended, as sent in `gateway.exit.reason`, and the close each one leads to. */
export const EXIT_REASONS = {
  completed: CLOSE.completed,
  failed: CLOSE.failed,
  timeout: CLOSE.timeout,
  idle_timeout: CLOSE.idle_timeout,
  client_closed: null, // nobody is left to tell
  shutdown: CLOSE.shutdown,
  spawn_failed: CLOSE.spawn_failed,
  token_expired: CLOSE.token_expired,
  forbidden: CLOSE.forbidden,
} as const satisfies Record<string, CloseSpec | null>;

export type ExitReason = keyof typeof EXIT_REASONS;
