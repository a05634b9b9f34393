import { describe, expect, test } from "bun:test";
import { SOFT_BUFFER_LIMIT, SocketSink, type FrameSocket } from "../../websocket/socket-sink.ts";

/**
 * A socket that records what it is handed. Like Bun's, `sendText` returns -1 when the frame was
 * taken but the buffer is now backed up: set `backedUp` (every send) or script `statuses` (next sends).
 */
class FakeSocket implements FrameSocket {
  sent: string[] = [];
  closes: Array<{ code?: number; reason?: string }> = [];
  corks = 0;
  buffered = 0;
  backedUp = false;
  statuses: number[] = [];

  sendText(data: string): number {
    this.sent.push(data);
    const scripted = this.statuses.shift();
    if (scripted !== undefined) return scripted;
    return this.backedUp ? -1 : data.length;
  }
  close(code?: number, reason?: string): void {
    this.closes.push({ code, reason });
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  cork<R>(callback: (ws: FakeSocket) => R): R {
    this.corks++;
    return callback(this);
  }
}

/** Whether `promise` has settled once every pending microtask has run (one event-loop turn). */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

function setup() {
  const ws = new FakeSocket();
  return { ws, sink: new SocketSink(ws) };
}

describe("SocketSink", () => {
  test("sends frames straight through, in order, while the socket keeps up", async () => {
    const { ws, sink } = setup();
    for (const f of ["a", "b", "c"]) sink.send(f);
    expect(ws.sent).toEqual(["a", "b", "c"]);
    expect(sink.frames).toBe(3);
    expect(sink.paused).toBe(false);
    expect(await isSettled(sink.writable())).toBe(true);
  });

  test("after a -1 queues further frames and reports paused", () => {
    const { ws, sink } = setup();
    ws.statuses = [-1];
    sink.send("a"); // taken by the socket, which is now backed up
    sink.send("b");
    sink.send("c");
    expect(ws.sent).toEqual(["a"]);
    expect(sink.paused).toBe(true);
  });

  test("writable() resolves only once onDrain has flushed the queue", async () => {
    const { ws, sink } = setup();
    ws.statuses = [-1];
    sink.send("a");
    sink.send("b");
    const writable = sink.writable();
    expect(await isSettled(writable)).toBe(false);
    sink.onDrain();
    expect(ws.sent).toEqual(["a", "b"]);
    expect(sink.paused).toBe(false);
    expect(await isSettled(writable)).toBe(true);
  });

  test("onDrain sends nothing while the socket buffers more than SOFT_BUFFER_LIMIT", async () => {
    const { ws, sink } = setup();
    ws.statuses = [-1];
    sink.send("a");
    sink.send("b");
    const writable = sink.writable();
    ws.buffered = SOFT_BUFFER_LIMIT + 1;
    sink.onDrain();
    expect(ws.sent).toEqual(["a"]);
    expect(sink.paused).toBe(true);
    expect(await isSettled(writable)).toBe(false);
    ws.buffered = SOFT_BUFFER_LIMIT;
    sink.onDrain();
    expect(ws.sent).toEqual(["a", "b"]);
    expect(await isSettled(writable)).toBe(true);
  });

  test("stops flushing at the next -1 and resumes at the following drain", async () => {
    const { ws, sink } = setup();
    ws.statuses = [-1];
    for (const f of ["a", "b", "c", "d"]) sink.send(f);
    ws.statuses = [1, -1]; // b goes through, c backs the socket up again
    sink.onDrain();
    expect(ws.sent).toEqual(["a", "b", "c"]);
    expect(sink.paused).toBe(true);
    const writable = sink.writable();
    expect(await isSettled(writable)).toBe(false);
    sink.onDrain();
    expect(ws.sent).toEqual(["a", "b", "c", "d"]);
    expect(await isSettled(writable)).toBe(true);
  });

  test("close() on a flowing socket closes at once, with its code and reason", () => {
    const { ws, sink } = setup();
    sink.send("a");
    sink.close(1000, "completed");
    expect(ws.closes).toEqual([{ code: 1000, reason: "completed" }]);
    expect(sink.isClosed).toBe(true);
  });

  test("close() waits for the queue to flush, then closes exactly once", () => {
    const { ws, sink } = setup();
    ws.statuses = [-1];
    sink.send("a");
    sink.send("b");
    sink.close(1011, "failed");
    sink.close(1000, "completed");
    sink.send("after close");
    expect(ws.closes).toEqual([]);
    expect(sink.closeRequested).toEqual({ code: 1011, reason: "failed" });
    sink.onDrain();
    expect(ws.sent).toEqual(["a", "b"]);
    expect(ws.closes).toEqual([{ code: 1011, reason: "failed" }]);
    sink.onDrain();
    sink.close(1000, "completed");
    expect(ws.closes).toHaveLength(1);
  });

  test("onClosed() resolves writable(), drops the queue and every later send", async () => {
    const { ws, sink } = setup();
    ws.statuses = [-1];
    sink.send("a");
    sink.send("b");
    const writable = sink.writable();
    sink.onClosed();
    expect(await isSettled(writable)).toBe(true);
    expect(await isSettled(sink.writable())).toBe(true);
    sink.send("c");
    sink.onDrain();
    sink.close(1000, "completed");
    expect(ws.sent).toEqual(["a"]);
    expect(ws.closes).toEqual([]);
  });

  test("cork() batches through the socket while open and just runs the function once closed", () => {
    const { ws, sink } = setup();
    let runs = 0;
    sink.cork(() => runs++);
    sink.onClosed();
    sink.cork(() => runs++);
    expect({ runs, corks: ws.corks }).toEqual({ runs: 2, corks: 1 });
  });

  test("never sends a frame twice or loses one, whatever the pattern of back-pressure", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 50; round++) {
      const { ws, sink } = setup();
      const expected: string[] = [];
      for (let i = 0; i < 200; i++) {
        ws.backedUp = random() < 0.3;
        ws.buffered = random() < 0.2 ? SOFT_BUFFER_LIMIT + 1 : 0;
        if (random() < 0.6) {
          const frame = `${round}:${i}`;
          expected.push(frame);
          sink.send(frame);
        } else {
          sink.onDrain();
        }
      }
      sink.close(1000, "completed");
      ws.backedUp = false;
      ws.buffered = 0;
      sink.onDrain();
      expect(ws.sent).toEqual(expected);
      expect(sink.frames).toBe(expected.length);
      expect(ws.closes).toEqual([{ code: 1000, reason: "completed" }]);
    }
  });
});
