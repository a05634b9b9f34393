/**
 * claude-gateway: wiring only. Reads configuration and keys, reaps what a crashed predecessor
 * left behind, serves HTTP + `/ws/claude`, and shuts down cleanly on SIGTERM/SIGINT.
 */
import pkg from "./package.json" with { type: "json" };
import { loadVerificationKey } from "./lib/auth/keys.ts";
import { createVerifier } from "./lib/auth/verifier.ts";
import { loadConfig } from "./lib/config.ts";
import { ConfigError } from "./lib/errors.ts";
import { Hono } from "hono";
import { createHttpApp, mountMetrics } from "./lib/http-app.ts";
import { Metrics } from "./lib/metrics.ts";
import { createLogger } from "./lib/logger.ts";
import { mintToken } from "./lib/mint-token.ts";
import { Admission } from "./websocket/admission.ts";
import { createClaudeHandler } from "./websocket/claude-handler.ts";
import { createClientFrameParser } from "./websocket/client-frames.ts";
import { GroupRegistry } from "./websocket/group-registry.ts";
import { ProcessManager } from "./websocket/process-manager.ts";
import { SessionRegistry } from "./websocket/session-registry.ts";
import { upgradeClaude, type ConnectionData } from "./websocket/upgrade.ts";

async function startup() {
  try {
    const config = loadConfig(process.env);
    return { config, key: await loadVerificationKey(config.auth, config.stateDir) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`claude-gateway: invalid configuration: ${err.message}`);
    process.exit(2);
  }
}

const { config, key } = await startup();
const log = createLogger(config.logLevel);
const registry = new GroupRegistry(config.stateDir);
registry.reapOrphans(log);
const manager = new ProcessManager({ killGraceMs: config.killGraceMs }, registry, log);
const admission = new Admission({ ...config.admission, maxProcesses: config.maxProcesses });
const verifier = createVerifier(config.auth, key.key);
const sessions = new SessionRegistry(config.stateDir);
// The gauges are read at scrape time, after `claude` exists.
const metrics = new Metrics({ connectionsOpen: () => claude.connections, runsActive: () => manager.size, queueDepth: () => admission.queueDepth });
const claude = createClaudeHandler({ config, manager, admission, verifier, sessions, metrics, parse: createClientFrameParser(config), log });
const app = createHttpApp({
  version: pkg.version,
  stats: () => ({ connections: claude.connections, processes: manager.size }),
  upgrade: (req, srv) => upgradeClaude(req, srv, { auth: config.auth, verifier, admission, metrics, log }),
  metrics: config.metricsPort === undefined ? () => metrics.render() : undefined,
  metricsToken: config.metricsToken,
  devToken: key.devSecret && (() => mintToken({ secret: key.devSecret!, sub: "dev", ttlS: 3600 })),
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

let metricsServer: ReturnType<typeof Bun.serve> | undefined;
if (config.metricsPort !== undefined) {
  const metricsApp = new Hono();
  mountMetrics(metricsApp, () => metrics.render(), config.metricsToken);
  metricsServer = Bun.serve({ hostname: config.host, port: config.metricsPort, fetch: metricsApp.fetch });
}

// The address is logged even when LOG_LEVEL is above info: with PORT=0 it is the only way to learn the port.
const startupLevel = config.logLevel === "error" || config.logLevel === "fatal" || config.logLevel === "warn" ? config.logLevel : "info";
log[startupLevel](
  { host: server.hostname, port: server.port, metricsPort: metricsServer?.port, claudeBin: config.claudeBin, pid: process.pid, keySource: key.key.kind },
  "listening",
);

if (key.devSecret !== undefined) {
  // Development only (never with NODE_ENV=production): a ready token, on the console, not in the logs.
  const token = await mintToken({ secret: key.devSecret, sub: "dev", ttlS: 3600 });
  const page = `http://${server.hostname}:${server.port}/ws-demo.html`;
  console.error(
    `\nclaude-gateway (development): no JWT key configured, so an ephemeral HS256 secret was generated.\n` +
      `  dev token (sub "dev", 1 h): ${token}\n` +
      `  demo page: ${page}#token=${token}\n` +
      `  more tokens: npm run token -- --sub 42 --ttl 300\n`,
  );
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal, connections: claude.connections, processes: manager.size }, "shutting down");
  void server.stop(false); // stop accepting; open sockets are ended below
  await claude.shutdown();
  void server.stop(true);
  void metricsServer?.stop(true);
  log.info("shutdown complete");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
