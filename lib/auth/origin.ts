/**
 * The Origin check, made before the upgrade. A request without Origin (wscat, server-side
 * callers) passes here and still needs a token; the literal origin "null" (sandboxed iframes,
 * file: pages) never passes.
 */

/**
 * @param allowed exact `scheme://host[:port]` entries; undefined means "same origin only":
 *   the Origin's host must equal the request's Host (the demo page served by the gateway).
 */
export function originAllowed(origin: string | null, host: string | null, allowed: readonly string[] | undefined): boolean {
  if (origin === null) return true;
  if (origin === "null") return false;
  if (allowed !== undefined) return allowed.includes(origin);
  try {
    return host !== null && new URL(origin).host === host;
  } catch {
    return false;
  }
}
