/**
 * The `/ws/claude` socket handlers: hello on open, one validated prompt → one CLI run, the
 * run stopped when the socket goes, and every socket ended on shutdown.
 */
import type { ServerWebSocket, WebSocketHandler } from "bun";
import { randomUUID } from "node:crypto";
import { childEnv } from "../lib/child-env.ts";
import type { Config } from "../lib/config.ts";
import { GatewayError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { oneShotArgv } from "./cli-args.ts";
import { createClientFrameParser, type ClientFrameParser } from "./client-frames.ts";
import type { ProcessManager } from "./process-manager.ts";
import { Run, type RunSummary } from "./run.ts";
import { PROTOCOL, type PromptFrame, type ServerFrame } from "./schemas.ts";
import { SOFT_BUFFER_LIMIT, SocketSink } from "./socket-sink.ts";

/** Attached to each socket at upgrade. */
export interface ConnectionData {
  remoteAddress: string;
  conn?: Connection;
}

export interface HandlerDeps {
  config: Config;
  manager: ProcessManager;
  log: Logger;
}

type Socket = ServerWebSocket<ConnectionData>;

class Connection {
  readonly id = randomUUID();
  readonly log: Logger;
  readonly sink: SocketSink;
  private readonly openedAt = performance.now();
  private run: Run | null = null;
  private summary: RunSummary | null = null;
  private peerClose: { code: number; reason: string } | null = null;

  constructor(
    private readonly ws: Socket,
    private readonly deps: HandlerDeps,
    private readonly parse: ClientFrameParser,
    private readonly onDone: (conn: Connection) => void,
  ) {
    this.log = deps.log.child({ conn: this.id });
    this.sink = new SocketSink(ws);
  }

  open(): void {
    this.log.info({ remoteAddress: this.ws.data.remoteAddress }, "connection opened");
    const { config } = this.deps;
    this.send({
      type: "gateway.hello",
      protocol: PROTOCOL,
      connectionId: this.id,
      limits: {
        maxPromptBytes: config.maxPromptBytes,
        maxFrameBytes: config.maxFrameBytes,
        maxLineBytes: config.maxLineBytes,
        runTimeoutMs: config.runTimeoutMs,
        idleTimeoutMs: config.idleTimeoutMs,
      },
    });
    if (this.atCapacity()) this.fail(new GatewayError("try_again_later", "The gateway is running as many processes as it may; retry later."));
  }

  message(message: string | Buffer): void {
    if (this.sink.isClosed || this.sink.closeRequested !== null) return;
    let frame: PromptFrame;
    try {
      frame = this.parse(message);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      // During a run a bad frame is reported but cannot hurt the run: it carries on.
      if (this.run !== null) this.sendError(err);
      else this.fail(err);
      return;
    }
    if (this.run !== null) {
      this.sendError(new GatewayError("run_in_progress", "A run is already in progress on this socket; wait for gateway.exit."));
      return;
    }
    this.start(frame);
  }

  close(code: number, reason: string): void {
    this.peerClose = { code, reason };
    this.sink.onClosed();
    this.run?.stop("client_closed");
    this.maybeDone();
  }

  shutdown(): void {
    if (this.run !== null) this.run.stop("shutdown");
    else this.sink.close(1001, "shutdown");
  }

  /** Resolves when this connection's run (if any) has fully ended. */
  get finished(): Promise<unknown> {
    return this.run?.finished ?? Promise.resolve();
  }

  private start(frame: PromptFrame): void {
    const { config, manager } = this.deps;
    if (this.atCapacity()) {
      this.fail(new GatewayError("try_again_later", "The gateway is running as many processes as it may; retry later."));
      return;
    }
    let proc;
    try {
      proc = manager.spawn({
        argv: oneShotArgv(config.claudeBin, frame.prompt),
        cwd: config.claudeCwd,
        env: childEnv(config.childEnvPassthrough),
        stdin: "ignore",
      });
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      this.log.error({ err: err.message }, "spawn failed");
      this.sendError(err);
      this.send({ type: "gateway.exit", runId: randomUUID(), code: null, signal: null, reason: "spawn_failed", durationMs: 0 });
      this.sink.close(err.close!.code, err.close!.reason);
      return;
    }
    const log = this.log.child({ pid: proc.pid });
    log.info({ meta: frame.meta, promptBytes: Buffer.byteLength(frame.prompt) }, "run started");
    this.run = new Run(proc, this.sink, config, log);
    this.run.finished.then(
      (summary) => {
        this.summary = summary;
        this.maybeDone();
      },
      (err) => log.error({ err }, "run failed unexpectedly"),
    );
  }

  private atCapacity(): boolean {
    return this.deps.manager.size >= this.deps.config.maxProcesses;
  }

  private send(frame: ServerFrame): void {
    this.sink.send(JSON.stringify(frame));
  }

  private sendError(err: GatewayError): void {
    this.send({ type: "gateway.error", code: err.code, message: err.message });
  }

  /** Report the error, then close with its code. */
  private fail(err: GatewayError): void {
    this.log.info({ code: err.code }, "refused");
    this.sendError(err);
    const close = err.close;
    if (close !== null) this.sink.close(close.code, close.reason);
  }

  /** One log line per connection, once the socket is closed and the run (if any) is over. */
  private maybeDone(): void {
    if (this.peerClose === null || (this.run !== null && this.summary === null)) return;
    const s = this.summary;
    this.log.info(
      {
        outcome: s?.reason ?? this.sink.closeRequested?.reason ?? "client_closed",
        close: this.sink.closeRequested ?? this.peerClose,
        pid: s?.pid,
        exitCode: s?.code,
        signal: s?.signal,
        stoppedBy: s?.stoppedBy,
        runMs: s?.durationMs,
        durationMs: Math.round(performance.now() - this.openedAt),
        frames: this.sink.frames,
        stdoutBytes: s?.stdoutBytes ?? 0,
        stderrLines: s?.stderrLines ?? 0,
      },
      "connection closed",
    );
    this.onDone(this);
  }
}

export interface ClaudeHandler {
  websocket: WebSocketHandler<ConnectionData>;
  /** Open sockets. */
  readonly connections: number;
  /** End every socket (exit frame + 1001) and stop every run through the ladder. */
  shutdown(): Promise<void>;
}

export function createClaudeHandler(deps: HandlerDeps): ClaudeHandler {
  const { config, log } = deps;
  const parse = createClientFrameParser(config);
  const live = new Set<Connection>();
  const conn = (ws: Socket) => ws.data.conn!;

  const websocket: WebSocketHandler<ConnectionData> = {
    // Our own size check (with an error frame) runs first; past this hard cap Bun closes 1009 itself.
    maxPayloadLength: config.maxFrameBytes * 4,
    // Room for one frame of MAX_LINE_BYTES on top of what SocketSink lets build up: never dropped.
    backpressureLimit: SOFT_BUFFER_LIMIT + config.maxLineBytes + 1024 * 1024,
    closeOnBackpressureLimit: false,
    perMessageDeflate: false,
    open(ws) {
      const c = new Connection(ws, deps, parse, (done) => live.delete(done));
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
      log.error({ err: error, conn: ws.data.conn?.id }, "websocket handler error");
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
