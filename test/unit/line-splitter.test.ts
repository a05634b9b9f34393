import { describe, expect, test } from "bun:test";
import { LineSplitter } from "../../lib/line-splitter.ts";

type Event = string | { overlong: number };

const utf8 = new TextEncoder();

/**
 * What the splitter must produce, computed the slow and obvious way on the whole input at once:
 * cut at every 0x0A, drop one `\r` before it, measure each line in bytes, decode it on its own.
 * A last line without a newline is a line. (Inputs here never end in a bare `\r`.)
 */
function reference(input: Uint8Array, maxLineBytes: number): Event[] {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const out: Event[] = [];
  let start = 0;
  for (;;) {
    const nl = input.indexOf(0x0a, start);
    const terminated = nl !== -1;
    let end = terminated ? nl : input.length;
    if (!terminated && end === start) return out;
    if (terminated && end > start && input[end - 1] === 0x0d) end--;
    const bytes = end - start;
    out.push(bytes > maxLineBytes ? { overlong: bytes } : decoder.decode(input.subarray(start, end)));
    if (!terminated) return out;
    start = nl + 1;
  }
}

/** Feed `chunks` in order, checking after every push that the held bytes stay under the cap. */
function split(chunks: Uint8Array[], maxLineBytes: number): Event[] {
  const out: Event[] = [];
  const splitter = new LineSplitter(maxLineBytes, {
    onLine: (line) => out.push(line),
    onOverlong: (bytes) => out.push({ overlong: bytes }),
  });
  for (const chunk of chunks) {
    splitter.push(chunk);
    // One byte of slack: the \r of a CRLF that follows a line exactly at the cap.
    if (splitter.heldBytes > maxLineBytes + 1) throw new Error(`held ${splitter.heldBytes} bytes, cap ${maxLineBytes}`);
  }
  splitter.end();
  return out;
}

function cutAt(input: Uint8Array, cuts: number[]): Uint8Array[] {
  const bounds = [0, ...cuts, input.length];
  return bounds.slice(1).map((end, i) => input.slice(bounds[i], end));
}

/** Deterministic PRNG (mulberry32), so a failing chunking can be reproduced from its seed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Split `input` every possible way we can afford and compare each with the reference. */
function checkEveryChunking(text: string, cap: number): void {
  const input = utf8.encode(text);
  const expected = reference(input, cap);
  const check = (chunks: Uint8Array[], how: string) => {
    expect({ how, events: split(chunks, cap) }).toEqual({ how, events: expected });
  };
  check([input], "one chunk");
  check(cutAt(input, [...Array(input.length).keys()].slice(1)), "byte by byte");
  for (let i = 0; i <= input.length; i++) {
    check(cutAt(input, [i]), `cut at ${i}`);
    for (let j = i; j <= input.length; j += 3) check(cutAt(input, [i, j]), `cuts at ${i},${j}`);
  }
  const random = prng(cap);
  for (let round = 0; round < 200; round++) {
    const cuts = [...Array(input.length).keys()].filter(() => random() < 0.2);
    check(cutAt(input, cuts), `random cuts ${cuts.join(",")}`);
  }
}

const CAP = 12;

const CHUNKINGS: Array<{ name: string; text: string }> = [
  { name: "2-, 3- and 4-byte characters with LF", text: "héllo\n€uro\n😀 ok\n𝄞\n" },
  { name: "CRLF endings and empty lines", text: "a\r\n\r\n\nb€\r\nc\n\n" },
  { name: "a last line without a newline", text: "first\nlast 😀" },
  { name: "an overlong line between short ones", text: "ok\n" + "ü".repeat(10) + "\nafter€\n" },
  { name: "a line exactly at the cap", text: "😀😀😀\n" + "x".repeat(CAP) + "\nnext\n" },
  { name: "an overlong line with 4-byte characters", text: "😀".repeat(7) + "\n😀\n" },
  { name: "an overlong last line without a newline", text: "a\n" + "€".repeat(9) },
  { name: "a last line exactly at the cap without a newline", text: "a\n" + "é".repeat(6) },
  { name: "only newlines", text: "\n\r\n\n" },
];

describe("LineSplitter, input cut at every position", () => {
  for (const { name, text } of CHUNKINGS) {
    test(`matches the reference for ${name}`, () => checkEveryChunking(text, CAP));
  }
});

describe("LineSplitter", () => {
  test("emits a last line without a newline only at end()", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter(1024, { onLine: (l) => lines.push(l), onOverlong: () => {} });
    splitter.push(utf8.encode("done\npartial"));
    expect(lines).toEqual(["done"]);
    expect(splitter.heldBytes).toBe(7);
    splitter.end();
    expect(lines).toEqual(["done", "partial"]);
    expect(splitter.heldBytes).toBe(0);
  });

  test("emits empty lines as empty strings, leaving blank skipping to the caller", () => {
    expect(split([utf8.encode("\n\r\n  \n")], 1024)).toEqual(["", "", "  "]);
  });

  test("never holds more than the cap while a 10x-cap line arrives in small chunks", () => {
    const cap = 1024;
    const line = utf8.encode("€".repeat((cap * 10) / 2) + "\nnext\n"); // 15 360 bytes, then a short line
    const events: Event[] = [];
    let maxHeld = 0;
    const splitter = new LineSplitter(cap, {
      onLine: (l) => events.push(l),
      onOverlong: (bytes) => events.push({ overlong: bytes }),
    });
    for (let i = 0; i < line.length; i += 7) {
      splitter.push(line.subarray(i, i + 7));
      maxHeld = Math.max(maxHeld, splitter.heldBytes);
    }
    splitter.end();
    expect(maxHeld).toBeLessThanOrEqual(cap);
    expect(events).toEqual([{ overlong: 15_360 }, "next"]);
  });

  test("reports an overlong line's UTF-8 byte length, not its UTF-16 length", () => {
    expect(split([utf8.encode("😀".repeat(300) + "\n")], 1024)).toEqual([{ overlong: 1200 }]);
    expect(split([utf8.encode("é".repeat(600) + "\r\n")], 1024)).toEqual([{ overlong: 1200 }]);
  });

  test("relays a line of exactly the cap in bytes and drops one a byte longer", () => {
    const atCap = "€".repeat(341) + "x"; // 1024 bytes
    expect(split([utf8.encode(`${atCap}\n${atCap}x\nok\n`)], 1024)).toEqual([atCap, { overlong: 1025 }, "ok"]);
  });

  test("copies held bytes, so a reader reusing its buffer cannot change a pending line", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter(1024, { onLine: (l) => lines.push(l), onOverlong: () => {} });
    const buffer = utf8.encode("abc");
    splitter.push(buffer);
    buffer.set(utf8.encode("XYZ"));
    splitter.push(utf8.encode("\n"));
    expect(lines).toEqual(["abc"]);
  });
});

/** Regressions: each of these was a bug. */
describe("LineSplitter regressions", () => {
  test("relays a CRLF line of exactly the cap when the chunk ends between \\r and \\n", () => {
    const atCap = "x".repeat(1024);
    // Actual: [{ overlong: 1025 }]: the held "\r" pushes the pending bytes over the cap.
    expect(split([utf8.encode(atCap + "\r"), utf8.encode("\n")], 1024)).toEqual([atCap]);
  });

  test("excludes the \\r from an overlong CRLF line's byte count when \\r and \\n arrive apart", () => {
    // Actual: [{ overlong: 2001 }, "ok"]: the discarded count already includes the "\r".
    expect(split([utf8.encode("y".repeat(2000) + "\r"), utf8.encode("\nok\n")], 1024)).toEqual([{ overlong: 2000 }, "ok"]);
  });

  test("keeps a U+FEFF at the start of a line whatever the chunking", () => {
    // Actual: ["a", "b"]: TextDecoder strips a BOM at the start of each decoded region, so the
    // character survives only when its line is not the first of a decoded region.
    expect(split([utf8.encode("a\n"), utf8.encode("\uFEFFb\n")], 1024)).toEqual(["a", "\uFEFFb"]);
  });
});
