/**
 * The load client: one WebSocket connection (Bun's native client) to any target.
 *
 * For the gateway it sends the prompt frame once `gateway.hello` arrives; for websocketd the
 * process starts on connect. Every frame that is not the gateway's own (`{"type":"gateway.…`)
 * is a line the CLI printed: those are counted, timed, and optionally handed to `onLine`.
 * The per-frame path is kept to a prefix check, two additions and a clock read.
 */
import type { RunningServer } from "../targets/target.ts";

const GATEWAY_PREFIX = '{"type":"gateway.';

export interface SessionOptions {
  /** Called with every CLI line (not the gateway's frames) and its arrival time. */
  onLine?: (line: string) => void;
  /** Close from this side as soon as the first CLI line arrives. */
  closeOnFirstLine?: boolean;
  /** The session fails (and the socket is dropped) if not closed by then. */
  timeoutMs: number;
}

export interface SessionResult {
  /** performance.now() timestamps, ms; NaN when it did not happen. */
  startedAt: number;
  openAt: number;
  helloAt: number;
  firstLineAt: number;
  lastLineAt: number;
  closedAt: number;
  lines: number;
  /** UTF-16 units of the CLI lines: bytes, for the ASCII the emitter prints. */
  bytes: number;
  closeCode: number;
  /** `gateway.exit.reason`, or `gateway.error.code`, if one arrived. */
  exitReason: string | null;
  error: string | null;
}

export class Session {
  readonly result: SessionResult;
  /** Resolves at the first CLI line; rejects if the socket closes first. */
  readonly firstLine: Promise<void>;
  /** Resolves when the socket has closed (never rejects: see `result.error`). */
  readonly done: Promise<SessionResult>;
  private ws: WebSocket | null = null;
  private resolveFirst!: () => void;
  private rejectFirst!: (err: Error) => void;
  private resolveDone!: (r: SessionResult) => void;
  private timer: Timer | undefined;

  private constructor(
    private readonly server: RunningServer,
    private readonly options: SessionOptions,
  ) {
    const nan = Number.NaN;
    this.result = { startedAt: performance.now(), openAt: nan, helloAt: nan, firstLineAt: nan, lastLineAt: nan, closedAt: nan, lines: 0, bytes: 0, closeCode: 0, exitReason: null, error: null };
    this.firstLine = new Promise((resolve, reject) => ((this.resolveFirst = resolve), (this.rejectFirst = reject)));
    this.firstLine.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Open a connection; headers (auth) are resolved before the clock starts. */
  static async open(server: RunningServer, options: SessionOptions): Promise<Session> {
    const headers = await server.headers();
    const session = new Session(server, options);
    session.connect(headers);
    return session;
  }

  close(): void {
    this.ws?.close(1000, "bench done");
  }

  private connect(headers: Record<string, string>): void {
    const r = this.result;
    const ws = new WebSocket(this.server.url, { headers });
    this.ws = ws;
    this.timer = setTimeout(() => {
      r.error ??= `no close within ${this.options.timeoutMs} ms (${r.lines} lines)`;
      ws.terminate();
      this.finish(1006);
    }, this.options.timeoutMs);
    ws.onopen = () => {
      r.openAt = performance.now();
    };
    ws.onmessage = (e: MessageEvent) => {
      const data = e.data as string;
      if (data.charCodeAt(2) === 116 /* t */ && data.startsWith(GATEWAY_PREFIX)) return this.onGatewayFrame(data);
      const now = performance.now();
      if (r.lines === 0) {
        r.firstLineAt = now;
        this.resolveFirst();
        if (this.options.closeOnFirstLine) this.close();
      }
      r.lines++;
      r.bytes += data.length;
      r.lastLineAt = now;
      this.options.onLine?.(data);
    };
    ws.onerror = () => {
      r.error ??= "websocket error";
    };
    ws.onclose = (e: CloseEvent) => this.finish(e.code);
  }

  private onGatewayFrame(data: string): void {
    const frame = JSON.parse(data) as { type: string; reason?: string; code?: string };
    const r = this.result;
    if (frame.type === "gateway.hello") {
      r.helloAt = performance.now();
      if (this.server.promptFrame !== null) this.ws!.send(this.server.promptFrame);
    } else if (frame.type === "gateway.exit") {
      r.exitReason = frame.reason ?? null;
    } else if (frame.type === "gateway.error") {
      r.exitReason = frame.code ?? "error";
      r.error ??= `gateway.error ${frame.code}`;
    }
  }

  private finish(code: number): void {
    const r = this.result;
    if (!Number.isNaN(r.closedAt)) return;
    clearTimeout(this.timer);
    r.closedAt = performance.now();
    r.closeCode = code;
    if (r.lines === 0) this.rejectFirst(new Error(`closed (${code}) before any CLI line${r.error ? `: ${r.error}` : ""}`));
    this.resolveDone(r);
  }
}

/** Run one whole session: open, wait for the close, and fail loudly on an error. */
export async function runSession(server: RunningServer, options: SessionOptions): Promise<SessionResult> {
  const session = await Session.open(server, options);
  const r = await session.done;
  if (r.error !== null && !(options.closeOnFirstLine && r.lines > 0)) {
    const auth = r.closeCode === 4401 || /token/.test(r.exitReason ?? "") ? " — the gateway wants a JWT: fill in the AUTH HOOK in bench/auth.ts" : "";
    throw new Error(`${server.name}: ${r.error}${auth}`);
  }
  return r;
}
