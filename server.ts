/**
 * claude-gateway: wiring only. Reads configuration, reaps what a crashed predecessor left
 * behind, serves HTTP + `/ws/claude`, and shuts down cleanly on SIGTERM/SIGINT.
 */
import pkg from "./package.json" with { type: "json" };
import { loadConfig } from "./lib/config.ts";
import { ConfigError } from "./lib/errors.ts";
import { createHttpApp } from "./lib/http-app.ts";
import { createLogger } from "./lib/logger.ts";
import { createClaudeHandler, type ConnectionData } from "./websocket/claude-handler.ts";
import { GroupRegistry } from "./websocket/group-registry.ts";
import { ProcessManager } from "./websocket/process-manager.ts";

function readConfig() {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`claude-gateway: invalid configuration: ${err.message}`);
    process.exit(2);
  }
}

const config = readConfig();
const log = createLogger(config.logLevel);
const registry = new GroupRegistry(config.stateDir);
registry.reapOrphans(log);
const manager = new ProcessManager({ killGraceMs: config.killGraceMs }, registry, log);
const claude = createClaudeHandler({ config, manager, log });
const app = createHttpApp({
  version: pkg.version,
  stats: () => ({ connections: claude.connections, processes: manager.size }),
});

const server = Bun.serve<ConnectionData>({
  hostname: config.host,
  port: config.port,
  fetch: (req, srv) => app.fetch(req, srv),
  websocket: claude.websocket,
  error(err) {
    log.error({ err }, "request failed");
    return Response.json({ error: "internal", message: "Internal error." }, { status: 500 });
  },
});

log.info({ host: server.hostname, port: server.port, claudeBin: config.claudeBin, pid: process.pid }, "listening");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal, connections: claude.connections, processes: manager.size }, "shutting down");
  void server.stop(false); // stop accepting; open sockets are ended below
  await claude.shutdown();
  void server.stop(true);
  log.info("shutdown complete");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
