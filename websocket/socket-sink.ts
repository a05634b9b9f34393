/**
 * The socket side: sends text frames with back-pressure, in order, and never drops one.
 *
 * Bun's `sendText` returns -1 once the socket's buffer is backed up (the frame is still
 * queued) and 0 — frame dropped — past `backpressureLimit`. So after a -1 nothing more is
 * sent until `drain`; frames meanwhile wait here, and the process side is told to stop reading
 * (`paused`, `writable()`), which fills the pipe and blocks the CLI. Memory stays bounded by one
 * read chunk's worth of frames, however much the CLI prints.
 */
export interface FrameSocket {
  sendText(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
  cork<R>(callback: (ws: any) => R): R; // eslint-disable-line @typescript-eslint/no-explicit-any -- ServerWebSocket passes itself
}

/** Below this many buffered bytes the socket takes more frames after a drain. */
export const SOFT_BUFFER_LIMIT = 1024 * 1024;

export class SocketSink {
  private queue: string[] = [];
  private head = 0;
  private blocked = false;
  private closed = false;
  /** The close this side asked for (sent, or waiting for the queue to flush). */
  closeRequested: { code: number; reason: string } | null = null;
  private waiters: Array<() => void> = [];
  /** Frames handed to the socket. */
  frames = 0;

  constructor(private readonly ws: FrameSocket) {}

  /** True while frames are waiting: the producer should stop reading until `writable()`. */
  get paused(): boolean {
    return this.blocked || this.head < this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(frame: string): void {
    if (this.closed || this.closeRequested !== null) return;
    if (this.paused) this.queue.push(frame);
    else this.write(frame);
  }

  /** Batch the sends made by `fn` into one write (uWS cork). */
  cork(fn: () => void): void {
    if (this.closed) fn();
    else this.ws.cork(fn);
  }

  /** Resolves when frames flow again (or the socket is gone). */
  writable(): Promise<void> {
    if (!this.paused || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Close once every frame already sent or queued has been handed to the socket. */
  close(code: number, reason: string): void {
    if (this.closed || this.closeRequested !== null) return;
    this.closeRequested = { code, reason };
    if (!this.paused) this.finishClose();
  }

  /** Call from the websocket `drain` handler. */
  onDrain(): void {
    if (this.closed || !this.paused) return;
    // One frame may be as large as MAX_LINE_BYTES: only add to a buffer that has mostly
    // drained, so the total stays under backpressureLimit and nothing is ever dropped.
    if (this.ws.getBufferedAmount() > SOFT_BUFFER_LIMIT) return;
    this.blocked = false;
    while (this.head < this.queue.length && !this.blocked) {
      const frame = this.queue[this.head]!;
      this.queue[this.head++] = "";
      this.write(frame);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    if (this.paused) return;
    if (this.closeRequested !== null) this.finishClose();
    this.wake();
  }

  /** Call from the websocket `close` handler: the peer is gone, nothing more can be sent. */
  onClosed(): void {
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.wake();
  }

  private write(frame: string): void {
    const status = this.ws.sendText(frame);
    this.frames++;
    if (status === -1) this.blocked = true;
  }

  private finishClose(): void {
    const { code, reason } = this.closeRequested!;
    this.closed = true;
    this.ws.close(code, reason);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
