/**
 * Per-user working directories: derived from `sub` (hashed: never a path from client input),
 * created on demand under WORKSPACE_ROOT, or a directory the token's policy names inside the root.
 * Each user also gets their own CLAUDE_CONFIG_DIR, so session transcripts are kept apart too.
 */
import { createHash } from "node:crypto";
import { mkdirSync, realpathSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { GatewayError } from "../lib/errors.ts";

export interface Workspace {
  cwd: string;
  configDir: string;
}

export function userKey(sub: string): string {
  return "u-" + createHash("sha256").update(sub).digest("hex").slice(0, 32);
}

export function workspaceFor(root: string, sub: string, claimed?: string): Workspace {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const realRoot = realpathSync(root);
  const cwd = claimed === undefined ? join(realRoot, userKey(sub)) : resolve(realRoot, claimed);
  if (!inside(realRoot, cwd)) throw new GatewayError("forbidden", "The token names a workspace outside WORKSPACE_ROOT.");
  mkdirSync(cwd, { recursive: true, mode: 0o700 });
  // A symlink inside the root must not lead out of it.
  if (!inside(realRoot, realpathSync(cwd))) throw new GatewayError("forbidden", "The workspace resolves outside WORKSPACE_ROOT.");
  const configDir = join(realRoot, ".claude-config", userKey(sub));
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  return { cwd, configDir };
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}
