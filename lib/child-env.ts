/**
 * The environment a CLI process gets: only the variables named in CHILD_ENV_PASSTHROUGH,
 * never the gateway's own (JWT secrets, database URLs, …).
 */
export function childEnv(passthrough: readonly string[], env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of passthrough) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
