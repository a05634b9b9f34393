/**
 * Newline framing for a byte stream.
 *
 * Chunks arrive as bytes cut anywhere: in the middle of a line, of a `\r\n`, or of a
 * multi-byte UTF-8 character. The splitter keeps the bytes after the last `\n` and decodes
 * only whole lines, so a character is never decoded in halves (0x0A never occurs inside a
 * UTF-8 sequence, so cutting at it is always safe).
 *
 * Hot path: one `lastIndexOf` and one decode per chunk, one `split` for all its lines; byte
 * lengths are computed only for lines that could be over the cap.
 *
 * A line longer than `maxLineBytes` is never held in memory whole: once the pending bytes pass
 * the cap they are dropped and only counted until the line ends, then `onOverlong(bytes)`.
 */
export interface LineSink {
  /** A complete line without its `\n` or `\r\n`. May be empty. */
  onLine(line: string): void;
  /** A line of `bytes` bytes (terminator excluded) was over the cap and was dropped. */
  onOverlong(bytes: number): void;
}

const NL = 0x0a;
const CR = 13;

export class LineSplitter {
  // ignoreBOM: each decode() is a fresh stream, and a U+FEFF starting a line is data, not a BOM.
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  /** Bytes of the current unfinished line, in arrival order. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** > 0 while dropping an overlong line: how many of its bytes have been seen. */
  private discarded = 0;
  /** Whether the last byte held or discarded was `\r` (the first half of a CRLF cut by a read). */
  private heldCr = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  push(chunk: Uint8Array): void {
    const last = chunk.lastIndexOf(NL);
    if (last === -1) {
      this.hold(chunk);
      return;
    }
    if (this.discarded > 0) {
      // The overlong line ends at the first newline of this chunk.
      const first = chunk.indexOf(NL);
      const bytes = first === 0 ? this.discarded - (this.heldCr ? 1 : 0) : this.discarded + trimCrBytes(chunk, first);
      this.sink.onOverlong(bytes);
      this.discarded = 0;
      if (first < last) this.emitRegion(chunk.subarray(first + 1, last + 1));
    } else if (this.pendingBytes > 0) {
      // Only the first line of this chunk needs the held bytes; decode it on its own so the
      // rest of the chunk is decoded without a copy.
      const first = chunk.indexOf(NL);
      this.pending.push(chunk.subarray(0, first + 1));
      const head = concat(this.pending, this.pendingBytes + first + 1);
      this.pending = [];
      this.pendingBytes = 0;
      this.emitRegion(head);
      if (first < last) this.emitRegion(chunk.subarray(first + 1, last + 1));
    } else {
      this.emitRegion(chunk.subarray(0, last + 1));
    }
    if (last + 1 < chunk.length) this.hold(chunk.subarray(last + 1));
  }

  /** End of stream: a last line without a newline is still a line. */
  end(): void {
    if (this.discarded > 0) {
      this.sink.onOverlong(this.discarded);
      this.discarded = 0;
    } else if (this.pendingBytes > 0) {
      const rest = concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.emitLine(this.decoder.decode(rest), rest.length);
    }
  }

  /** Bytes held for an unfinished line (bounded by maxLineBytes). */
  get heldBytes(): number {
    return this.pendingBytes;
  }

  private hold(bytes: Uint8Array): void {
    this.heldCr = bytes[bytes.length - 1] === CR;
    if (this.discarded > 0) {
      this.discarded += bytes.length;
      return;
    }
    // The chunk's buffer may be reused by the reader: keep a copy of what we hold.
    this.pending.push(bytes.slice());
    this.pendingBytes += bytes.length;
    // One byte of slack: a line exactly at the cap may be followed by the `\r` of its CRLF.
    if (this.pendingBytes > this.maxLineBytes + 1) {
      this.discarded = this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
    }
  }

  /** `region` holds one or more whole lines and ends with `\n`. */
  private emitRegion(region: Uint8Array): void {
    const text = this.decoder.decode(region);
    // A region no longer than the cap cannot hold an overlong line: skip the byte counting.
    const check = region.length > this.maxLineBytes;
    // One scan per region instead of a check per line: most output has no \r at all.
    const crlf = text.includes("\r");
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl === -1) return;
      const line = text.slice(start, nl);
      start = nl + 1;
      if (check) this.emitLine(line, -1);
      else this.sink.onLine(crlf ? stripCr(line) : line);
    }
  }

  /** `bytes` is the line's UTF-8 length if known, else -1. */
  private emitLine(line: string, bytes: number): void {
    const text = stripCr(line);
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no exact count.
    if (text.length * 3 > this.maxLineBytes) {
      const n = bytes >= 0 && text.length === line.length ? bytes : Buffer.byteLength(text, "utf8");
      if (n > this.maxLineBytes) {
        this.sink.onOverlong(n);
        return;
      }
    }
    this.sink.onLine(text);
  }
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}

/** Bytes before index `nl` in `chunk`, not counting a `\r` just before it. */
function trimCrBytes(chunk: Uint8Array, nl: number): number {
  return nl > 0 && chunk[nl - 1] === CR ? nl - 1 : nl;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
