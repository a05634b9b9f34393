/**
 * A WebSocket opening handshake over a plain TCP socket, to see what a WebSocket client hides:
 * the exact status line and headers of the answer — a 101, or a refusal made before the upgrade.
 */
import { randomBytes } from "node:crypto";
import { within } from "./wait.ts";

export interface RawUpgradeOptions {
  /** Path and query; `/ws/claude` by default. */
  path?: string;
  /** Offered in one Sec-WebSocket-Protocol header, in this order. */
  protocols?: string[];
  /** Extra request headers (Origin, Authorization, X-Forwarded-For, …). */
  headers?: Record<string, string>;
}

export interface RawHandshake {
  /** `HTTP/1.1 101 Switching Protocols`, `HTTP/1.1 401 Unauthorized`, … */
  statusLine: string;
  status: number;
  /** Response headers (repeated ones joined with ", "). */
  headers: Headers;
  /** The status line and headers exactly as received. */
  head: string;
  /** The body of a refusal; empty for a 101 (the socket is dropped right after the headers). */
  body: string;
}

/** Send an upgrade request for `/ws/claude` to the gateway on `port` and read the answer. */
export async function rawUpgrade(port: number, options: RawUpgradeOptions = {}): Promise<RawHandshake> {
  const lines = [
    `GET ${options.path ?? "/ws/claude"} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
    "Sec-WebSocket-Version: 13",
  ];
  if (options.protocols !== undefined) lines.push(`Sec-WebSocket-Protocol: ${options.protocols.join(", ")}`);
  for (const [name, value] of Object.entries(options.headers ?? {})) lines.push(`${name}: ${value}`);
  const request = lines.join("\r\n") + "\r\n\r\n";

  let received = Buffer.alloc(0);
  let settle!: (result: RawHandshake | Error) => void;
  const answered = new Promise<RawHandshake>((resolve, reject) => {
    settle = (result) => (result instanceof Error ? reject(result) : resolve(result));
  });
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, chunk) {
        received = Buffer.concat([received, chunk]);
        const parsed = parse(received, false);
        if (parsed !== null) settle(parsed);
      },
      close() {
        settle(parse(received, true) ?? new Error(`connection closed before a complete answer: ${JSON.stringify(received.toString("latin1"))}`));
      },
      error(_socket, err) {
        settle(err);
      },
    },
  });
  socket.write(request);
  try {
    return await within(answered, "the handshake answer");
  } finally {
    socket.end();
  }
}

/** The answer, once complete: headers for a 101, headers and body otherwise. */
function parse(bytes: Buffer, atEof: boolean): RawHandshake | null {
  const end = bytes.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const head = bytes.subarray(0, end).toString("latin1");
  const [statusLine = "", ...fields] = head.split("\r\n");
  const headers = new Headers();
  for (const field of fields) {
    const colon = field.indexOf(":");
    headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
  }
  const status = Number(statusLine.split(" ")[1]);
  const rest = bytes.subarray(end + 4);
  const answer = (body: string): RawHandshake => ({ statusLine, status, headers, head, body });
  // After a 101 the bytes are WebSocket frames, not a body.
  if (status === 101) return answer("");
  const length = headers.get("content-length");
  if (length !== null) return rest.length >= Number(length) ? answer(rest.subarray(0, Number(length)).toString("utf8")) : null;
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
    const body = dechunk(rest);
    return body === null ? null : answer(body);
  }
  return atEof ? answer(rest.toString("utf8")) : null;
}

/** A complete chunked body, or null while the last chunk has not arrived. */
function dechunk(bytes: Buffer): string | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf("\r\n", at);
    if (eol === -1) return null;
    const size = parseInt(bytes.subarray(at, eol).toString("latin1"), 16);
    if (size === 0) return Buffer.concat(parts).toString("utf8");
    if (bytes.length < eol + 2 + size + 2) return null;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
