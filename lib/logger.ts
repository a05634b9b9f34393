/**
 * pino, configured once. Redaction is a second line of defence: the code never passes
 * tokens, headers or query strings to the logger in the first place.
 */
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

/** Paths pino blanks out wherever they appear, in case a header bag is ever logged whole. */
const REDACT = [
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "cookie",
  "*.cookie",
  'headers["authorization"]',
  'headers["cookie"]',
  'headers["sec-websocket-protocol"]',
  "*.headers.authorization",
  "*.headers.cookie",
  '*.headers["sec-websocket-protocol"]',
  "query",
  "*.query",
];

/**
 * @param destination where JSON lines go; stdout by default, a capture stream in tests.
 * @example const log = createLogger("info"); log.child({ conn: id }).info("connection opened");
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "claude-gateway" },
      redact: { paths: REDACT, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ dest: 1, sync: true }) // sync: the lines written just before exit (shutdown, reaping) must not be lost,
  );
}
