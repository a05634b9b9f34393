/**
 * A slow WebSocket client on a raw TCP socket (Bun.connect): it does the handshake and frame
 * parsing itself so that it can read at a throttled rate — when it is ahead of its budget it
 * pauses the socket, the kernel buffers fill, and TCP flow control pushes back on the server.
 * (Bun's WebSocket client delivers frames as fast as they come.)
 */
import type { Socket } from "bun";

export interface RawSessionOptions {
  port: number;
  path: string;
  headers: Record<string, string>;
  /** Sent as a text frame after `gateway.hello`; null: the server starts the process on connect. */
  promptFrame: string | null;
  readBytesPerSec: number;
  /** Every CLI line (a text frame that is not the gateway's own), as raw bytes. */
  onLine(payload: Uint8Array): void;
  timeoutMs: number;
}

export interface RawSessionResult {
  closeCode: number;
  exitReason: string | null;
  /** Wire bytes read, handshake included. */
  wireBytes: number;
  startedAt: number;
  closedAt: number;
  error: string | null;
}

const GATEWAY_PREFIX = new TextEncoder().encode('{"type":"gateway.');
const BURST_BYTES = 64 * 1024; // how far ahead of the budget reading may run before pausing
const OP_TEXT = 1;
const OP_CLOSE = 8;
const OP_PING = 9;
const OP_PONG = 10;

function isGatewayFrame(p: Uint8Array): boolean {
  if (p.length < GATEWAY_PREFIX.length) return false;
  for (let i = 0; i < GATEWAY_PREFIX.length; i++) if (p[i] !== GATEWAY_PREFIX[i]) return false;
  return true;
}

/** A masked client frame (clients must mask). */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) (out[1] = 0x80 | 126), new DataView(out.buffer).setUint16(2, n);
  else (out[1] = 0x80 | 127), new DataView(out.buffer).setBigUint64(2, BigInt(n));
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, head);
  for (let i = 0; i < n; i++) out[head + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

export function rawSession(options: RawSessionOptions): Promise<RawSessionResult> {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const extra = Object.entries(options.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const request = `GET ${options.path} HTTP/1.1\r\nHost: 127.0.0.1:${options.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
  const result: RawSessionResult = { closeCode: 1006, exitReason: null, wireBytes: 0, startedAt: performance.now(), closedAt: Number.NaN, error: null };
  let buf = new Uint8Array(0);
  let upgraded = false;
  let resumeTimer: Timer | undefined;

  return new Promise((resolve) => {
    const finish = (socket: Socket | null) => {
      if (!Number.isNaN(result.closedAt)) return;
      result.closedAt = performance.now();
      clearTimeout(deadline);
      clearTimeout(resumeTimer);
      socket?.end();
      resolve(result);
    };
    const deadline = setTimeout(() => {
      result.error ??= `no close within ${options.timeoutMs} ms`;
      finish(null);
    }, options.timeoutMs);

    const onFrame = (socket: Socket, opcode: number, payload: Uint8Array) => {
      if (opcode === OP_TEXT && !isGatewayFrame(payload)) return options.onLine(payload);
      if (opcode === OP_TEXT) {
        const frame = JSON.parse(new TextDecoder().decode(payload)) as { type: string; reason?: string; code?: string };
        if (frame.type === "gateway.hello" && options.promptFrame !== null) socket.write(clientFrame(OP_TEXT, new TextEncoder().encode(options.promptFrame)));
        if (frame.type === "gateway.exit") result.exitReason = frame.reason ?? null;
        if (frame.type === "gateway.error") result.error ??= `gateway.error ${frame.code}`;
      } else if (opcode === OP_PING) {
        socket.write(clientFrame(OP_PONG, payload));
      } else if (opcode === OP_CLOSE) {
        result.closeCode = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
        socket.write(clientFrame(OP_CLOSE, payload.subarray(0, 2)));
        finish(socket);
      } else if (opcode !== OP_PONG) {
        result.error ??= `unexpected opcode ${opcode}`;
        finish(socket);
      }
    };

    /** Parse every whole frame in `buf`; keep the rest. Server frames are never masked. */
    const parse = (socket: Socket) => {
      let at = 0;
      while (buf.length - at >= 2) {
        const b0 = buf[at]!;
        const b1 = buf[at + 1]!;
        let len = b1 & 0x7f;
        let head = 2;
        if (len === 126) {
          if (buf.length - at < 4) break;
          len = (buf[at + 2]! << 8) | buf[at + 3]!;
          head = 4;
        } else if (len === 127) {
          if (buf.length - at < 10) break;
          len = Number(new DataView(buf.buffer, buf.byteOffset + at + 2, 8).getBigUint64(0));
          head = 10;
        }
        if (buf.length - at < head + len) break;
        if ((b0 & 0x80) === 0) {
          result.error ??= "fragmented frames are not supported by this client";
          return finish(socket);
        }
        onFrame(socket, b0 & 0x0f, buf.subarray(at + head, at + head + len));
        at += head + len;
      }
      buf = buf.slice(at);
    };

    /** Pause reading while ahead of the byte budget; resume when the budget catches up. */
    const throttle = (socket: Socket) => {
      const allowed = ((performance.now() - result.startedAt) / 1000) * options.readBytesPerSec + BURST_BYTES;
      const ahead = result.wireBytes - allowed;
      if (ahead <= 0 || resumeTimer !== undefined) return;
      socket.pause();
      resumeTimer = setTimeout(() => {
        resumeTimer = undefined;
        socket.resume();
      }, (ahead / options.readBytesPerSec) * 1000);
    };

    void Bun.connect({
      hostname: "127.0.0.1",
      port: options.port,
      socket: {
        open: (socket) => void socket.write(request),
        data: (socket, chunk) => {
          result.wireBytes += chunk.length;
          const joined = new Uint8Array(buf.length + chunk.length);
          joined.set(buf);
          joined.set(chunk, buf.length);
          buf = joined;
          if (!upgraded) {
            const end = Buffer.from(buf).indexOf("\r\n\r\n");
            if (end < 0) return;
            const status = new TextDecoder().decode(buf.subarray(0, end)).split("\r\n")[0] ?? "";
            if (!status.includes(" 101 ")) {
              result.error ??= `handshake refused: ${status}`;
              return finish(socket);
            }
            upgraded = true;
            buf = buf.slice(end + 4);
          }
          parse(socket);
          throttle(socket);
        },
        close: (socket) => finish(socket),
        error: (socket, err) => {
          result.error ??= err.message;
          finish(socket);
        },
      },
    }).catch((err: Error) => {
      result.error ??= `connect failed: ${err.message}`;
      finish(null);
    });
  });
}
