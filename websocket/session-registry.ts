/**
 * Which user each CLI session belongs to (bun:sqlite in STATE_DIR). A session id is recorded when
 * the gateway sees it in `system/init`; `options.resume` is honoured only for the same `sub`.
 * Whoever can resume an id can read that conversation, so this check is the boundary.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export class SessionRegistry {
  private readonly db: Database;
  private readonly insert;
  private readonly lookup;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.db = new Database(join(stateDir, "sessions.sqlite"), { create: true });
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, sub TEXT NOT NULL, created_at TEXT NOT NULL)");
    // First writer wins: a session id seen for one user is never reassigned to another.
    this.insert = this.db.prepare("INSERT OR IGNORE INTO sessions (session_id, sub, created_at) VALUES (?, ?, ?)");
    this.lookup = this.db.prepare<{ sub: string }, [string]>("SELECT sub FROM sessions WHERE session_id = ?");
  }

  record(sessionId: string, sub: string): void {
    this.insert.run(sessionId, sub, new Date().toISOString());
  }

  owns(sessionId: string, sub: string): boolean {
    return this.lookup.get(sessionId)?.sub === sub;
  }

  close(): void {
    this.db.close();
  }
}
