/**
 * A test WebSocket client: records every frame and the close, and lets a test await either.
 */
import { within } from "./wait.ts";

export interface Frame {
  type?: string;
  [key: string]: unknown;
}

export interface Closed {
  code: number;
  reason: string;
}

export class TestClient {
  readonly frames: Frame[] = [];
  /** Raw text of every frame, as received. */
  readonly raw: string[] = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("websocket error before open")), { once: true });
    });
    this.closed = new Promise((resolve) => ws.addEventListener("close", (e) => (resolve({ code: e.code, reason: e.reason }), this.wake())));
    ws.addEventListener("message", (e) => {
      const text = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer);
      this.raw.push(text);
      // A frame that is not JSON (a CLI line relayed unparsed) is kept as raw text only.
      let frame: Frame;
      try {
        frame = JSON.parse(text) as Frame;
      } catch {
        frame = { unparsed: text };
      }
      this.frames.push(frame);
      this.wake();
    });
  }

  static async connect(url: string, protocols?: string[], headers?: Record<string, string>): Promise<TestClient> {
    // Bun's WebSocket takes headers (wscat -H does the same); browsers cannot.
    const client = new TestClient(new WebSocket(url, { protocols, headers } as unknown as string[]));
    await within(client.opened, `open ${url}`);
    return client;
  }

  send(data: unknown): void {
    this.ws.send(typeof data === "string" ? data : JSON.stringify(data));
  }

  /** The first frame (from the start) matching `pred`, waiting for it if needed. */
  async next(pred: (f: Frame) => boolean, what = "a matching frame", timeoutMs = 15_000): Promise<Frame> {
    const find = () => this.frames.find(pred);
    return within(
      new Promise<Frame>((resolve, reject) => {
        const check = () => {
          const f = find();
          if (f) return resolve(f);
          if (this.ws.readyState === WebSocket.CLOSED) return reject(new Error(`socket closed before ${what}; frames: ${this.raw.join("\n").slice(0, 2000)}`));
          this.waiters.push(check);
        };
        check();
      }),
      what,
      timeoutMs,
    );
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  async closeResult(timeoutMs = 20_000): Promise<Closed> {
    return within(this.closed, "the socket to close", timeoutMs);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
