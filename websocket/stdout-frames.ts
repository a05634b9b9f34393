/**
 * What each line a CLI prints becomes on the wire. Pure functions, on the relay's hot path.
 */

/**
 * A stdout line that is a JSON object goes out verbatim (no re-serialisation); any other
 * non-blank line is wrapped as `gateway.stdout`. Returns null for a blank line.
 *
 * The brace check rejects most non-JSON for free; `JSON.parse` then confirms the rest, so a
 * client can always `JSON.parse` every frame it receives.
 */
export function stdoutFrame(line: string): string | null {
  if (line.length === 0) return null;
  const first = line.charCodeAt(0);
  if (first === 0x7b /* { */ && line.charCodeAt(line.length - 1) === 0x7d /* } */ && isJson(line)) return line;
  // Rare path: blank, or JSON padded with white space (insignificant in JSON), or plain text.
  const trimmed = line.trim();
  if (trimmed.length === 0) return null;
  if (trimmed.length !== line.length && trimmed.charCodeAt(0) === 0x7b && trimmed.endsWith("}") && isJson(trimmed)) {
    return trimmed;
  }
  return JSON.stringify({ type: "gateway.stdout", line });
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

export function stderrFrame(line: string): string {
  return JSON.stringify({ type: "gateway.stderr", line });
}

export function lineTooLongFrame(bytes: number): string {
  return `{"type":"gateway.warning","code":"line_too_long","bytes":${bytes}}`;
}
