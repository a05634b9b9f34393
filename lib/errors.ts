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
} as const satisfies Record<string, CloseKey | null>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * An error a client is told about. `close` is the registry entry the socket ends with,
 * or `null` when the error is reported and the connection carries on.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "GatewayError";
    this.code = code;
  }

  get close(): CloseSpec | null {
    const key = ERROR_CODES[this.code];
    return key === null ? null : CLOSE[key];
  }
}

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
} as const satisfies Record<string, CloseSpec | null>;

export type ExitReason = keyof typeof EXIT_REASONS;
