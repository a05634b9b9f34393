/**
 * What each line a CLI prints becomes on the wire. Pure functions, on the relay's hot path.
 *
 * Validation (STDOUT_VALIDATION):
 * - "structure" (default): a line framed as an object — `{` first, `}` last — is relayed verbatim
 *   without being parsed. The CLI writes every stdout line with JSON.stringify, and parsing each
 *   one to prove it was about half of the gateway's CPU per frame (bench/RESULTS.md).
 * - "parse": every such line is JSON.parse'd too, and one that does not parse is wrapped as
 *   gateway.stdout — for CLIs that cannot be trusted to print JSON.
 * Anything else that is not blank is wrapped as `gateway.stdout` in both modes.
 */
export type StdoutValidation = "structure" | "parse";

/** The stdout frame for `line` (verbatim, or wrapped), or null for a blank line. */
export function stdoutFrame(line: string, validation: StdoutValidation = "structure"): string | null {
  if (line.length === 0) return null;
  if (line.charCodeAt(0) === 0x7b /* { */ && line.charCodeAt(line.length - 1) === 0x7d /* } */) {
    if (validation === "structure" || parseObject(line) !== undefined) return line;
  }
  // Rare path: blank, or JSON padded with white space (insignificant in JSON), or plain text.
  const trimmed = line.trim();
  if (trimmed.length === 0) return null;
  if (trimmed.length !== line.length && trimmed.charCodeAt(0) === 0x7b && trimmed.endsWith("}") && parseObject(trimmed) !== undefined) {
    return trimmed;
  }
  return JSON.stringify({ type: "gateway.stdout", line });
}

/**
 * The lines the gateway itself must read (session ids, turn ends, permission requests). A cheap
 * test first: only these are parsed on the relay path. Inside a JSON string a quote is escaped,
 * so `"type":"result"` with bare quotes only ever matches the structure, never text.
 */
const NEEDS_READING = /"type":\s*"(?:system|result|control_request)"/;

/** The parsed object, for a frame the gateway must read; undefined for every other frame. */
export function messageToRead(frame: string): Record<string, unknown> | undefined {
  return NEEDS_READING.test(frame) ? parseObject(frame) : undefined;
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function stderrFrame(line: string): string {
  return JSON.stringify({ type: "gateway.stderr", line });
}

export function lineTooLongFrame(bytes: number): string {
  return `{"type":"gateway.warning","code":"line_too_long","bytes":${bytes}}`;
}
