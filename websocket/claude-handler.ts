/**
 * The Bun websocket handlers for `/ws/claude`: each socket gets a Connection; shutdown ends them all.
 */
import type { ServerWebSocket, WebSocketHandler } from "bun";
import { Connection, type ConnectionDeps } from "./connection.ts";
import { SOFT_BUFFER_LIMIT } from "./socket-sink.ts";
import type { ConnectionData } from "./upgrade.ts";

export interface ClaudeHandler {
  websocket: WebSocketHandler<ConnectionData>;
  /** Open sockets. */
  readonly connections: number;
  /** End every socket (exit frame + 1001) and stop every run through the ladder. */
  shutdown(): Promise<void>;
}

export function createClaudeHandler(deps: ConnectionDeps): ClaudeHandler {
  const { config, log } = deps;
  const live = new Set<Connection>();
  const conn = (ws: ServerWebSocket<ConnectionData>) => ws.data.conn as Connection;

  const websocket: WebSocketHandler<ConnectionData> = {
    // Our own size check (with an error frame) runs first; past this hard cap Bun closes 1009 itself.
    maxPayloadLength: config.maxFrameBytes * 4,
    // Room for one frame of MAX_LINE_BYTES on top of what SocketSink lets build up: never dropped.
    backpressureLimit: SOFT_BUFFER_LIMIT + config.maxLineBytes + 1024 * 1024,
    closeOnBackpressureLimit: false,
    perMessageDeflate: false,
    open(ws) {
      const c = new Connection(ws, deps, (done) => live.delete(done));
      ws.data.conn = c;
      live.add(c);
      c.open();
    },
    message(ws, message) {
      conn(ws).message(message);
    },
    drain(ws) {
      conn(ws).sink.onDrain();
    },
    close(ws, code, reason) {
      conn(ws).close(code, reason);
    },
    error(error, ws) {
      log.error({ err: error, conn: conn(ws)?.id }, "websocket handler error");
    },
  };

  return {
    websocket,
    get connections() {
      return live.size;
    },
    async shutdown() {
      const all = [...live];
      for (const c of all) c.shutdown();
      await Promise.all([deps.manager.stopAll(), ...all.map((c) => c.finished)]);
    },
  };
}
