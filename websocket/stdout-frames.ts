/**
 * What each line a CLI prints becomes on the wire. Pure functions, on the relay's hot path.
 */

/** A stdout line as it goes out, and the object it holds (for the gateway's own bookkeeping). */
export interface StdoutLine {
  frame: string;
  /** The parsed line when it is a JSON object; the frame is then the line itself. */
  message: Record<string, unknown> | undefined;
}

/**
 * A stdout line that is a JSON object goes out verbatim (no re-serialisation); any other
 * non-blank line is wrapped as `gateway.stdout`. Returns null for a blank line.
 *
 * The brace check rejects most non-JSON for free; `JSON.parse` then confirms the rest, so a
 * client can always `JSON.parse` every frame it receives — and the parsed object is kept, so
 * nothing downstream parses the line again.
 */
export function stdoutLine(line: string): StdoutLine | null {
  if (line.length === 0) return null;
  if (line.charCodeAt(0) === 0x7b /* { */ && line.charCodeAt(line.length - 1) === 0x7d /* } */) {
    const message = parseObject(line);
    if (message !== undefined) return { frame: line, message };
  }
  // Rare path: blank, or JSON padded with white space (insignificant in JSON), or plain text.
  const trimmed = line.trim();
  if (trimmed.length === 0) return null;
  if (trimmed.length !== line.length && trimmed.charCodeAt(0) === 0x7b && trimmed.endsWith("}")) {
    const message = parseObject(trimmed);
    if (message !== undefined) return { frame: trimmed, message };
  }
  return { frame: JSON.stringify({ type: "gateway.stdout", line }), message: undefined };
}

/** The frame alone (tests, tools). */
export function stdoutFrame(line: string): string | null {
  return stdoutLine(line)?.frame ?? null;
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
