import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../lib/config.ts";
import { GatewayError, type ErrorCode } from "../../lib/errors.ts";
import { createClientFrameParser, type ClientFrameParser } from "../../websocket/client-frames.ts";

const parse = createClientFrameParser({ maxPromptBytes: 9, maxFrameBytes: 100 });

/** The GatewayError `parser(message)` throws; fails the test if it throws nothing or something else. */
function rejection(message: string | Buffer, parser: ClientFrameParser = parse): GatewayError {
  try {
    parser(message);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error(`accepted ${String(message)}`);
}

function expectRejected(message: string | Buffer, code: ErrorCode, closeCode: number): GatewayError {
  const err = rejection(message);
  expect<unknown>({ code: err.code, close: err.close?.code }).toEqual({ code, close: closeCode });
  return err;
}

describe("frames refused before parsing", () => {
  test("refuses a binary frame as unsupported_data, closing with 1003", () => {
    expectRejected(Buffer.from('{"prompt":"hi"}'), "unsupported_data", 1003);
  });

  test("refuses a frame one byte over maxFrameBytes as message_too_big, closing with 1009", () => {
    const atLimit = `{"prompt":"${"€".repeat(29)}"}`; // 13 + 87 = 100 bytes, 42 UTF-16 units
    const parseLarge = createClientFrameParser({ maxPromptBytes: 1000, maxFrameBytes: 100 });
    expect(parseLarge(atLimit)).toEqual({ prompt: "€".repeat(29) });
    const err = rejection(`{"prompt":"${"€".repeat(29)}a"}`, parseLarge);
    expect<unknown>({ code: err.code, close: err.close?.code }).toEqual({ code: "message_too_big", close: 1009 });
  });

  test("checks the frame size before the JSON, so oversized junk is message_too_big", () => {
    expectRejected("x".repeat(101), "message_too_big", 1009);
  });

  test.each(["", "{", "{prompt:'hi'}", '{"prompt":"hi",}', "hello"])("refuses %p as invalid_json, closing with 1008", (message) => {
    expectRejected(message, "invalid_json", 1008);
  });
});

describe("schema violations are invalid_message, closing with 1008", () => {
  test.each([
    ["a missing prompt", "{}", /^prompt: /],
    ["an empty prompt", '{"prompt":""}', /^prompt: prompt must not be empty$/],
    ["a number as prompt", '{"prompt":42}', /^prompt: .*string/],
    ["an unknown key", '{"prompt":"hi","promt":"x"}', /"promt"/],
    ["a type other than prompt", '{"type":"run","prompt":"hi"}', /^type: /],
    ["lowercase meta", '{"prompt":"hi","meta":"task-1"}', /^meta: meta must match/],
    ["meta of 65 characters", `{"prompt":"hi","meta":"${"A".repeat(65)}"}`, /^meta: meta must be at most 64 characters$/],
    ["meta with a space", '{"prompt":"hi","meta":"TASK 1"}', /^meta: /],
    ["a number as meta", '{"prompt":"hi","meta":5}', /^meta: /],
    ["an array", "[]", /object/],
    ["null", "null", /object/],
    ["a JSON string", '"hi"', /object/],
  ])("refuses %s, naming the field", (_, message, pattern) => {
    expect(expectRejected(message, "invalid_message", 1008).message).toMatch(pattern);
  });
});

describe("prompt size, in UTF-8 bytes", () => {
  test.each([
    ["9 ASCII bytes", "a".repeat(9)],
    ["three 3-byte characters", "€€€"],
    ["four 2-byte characters", "éééé"],
    ["two 4-byte characters", "😀😀"],
  ])("accepts a prompt at or under the limit: %s", (_, prompt) => {
    expect(parse(JSON.stringify({ prompt }))).toEqual({ prompt });
  });

  test.each([
    ["10 ASCII bytes", "a".repeat(10)],
    ["four 3-byte characters (4 UTF-16 units, 12 bytes)", "€€€€"],
    ["five 2-byte characters", "ééééé"],
    ["three 4-byte characters", "😀😀😀"],
  ])("refuses a prompt over the limit as prompt_too_large, closing with 1009: %s", (_, prompt) => {
    expect(expectRejected(JSON.stringify({ prompt }), "prompt_too_large", 1009).message).toContain("9 UTF-8 bytes");
  });
});

describe("valid frames", () => {
  test.each([
    ["a bare prompt", { prompt: "hi" }],
    ["type prompt", { type: "prompt", prompt: "hi" }],
    ["meta", { prompt: "hi", meta: "TASK-123" }],
    ["meta of exactly 64 allowed characters", { prompt: "hi", meta: "A_-0".repeat(16) }],
    ["a prompt that looks like a flag", { prompt: "--help" }],
  ])("accepts %s and returns exactly its fields", (_, frame) => {
    expect(parse(JSON.stringify(frame))).toEqual(frame as never);
  });
});

test("a frame carrying a prompt at its limit fits the configured maxFrameBytes even fully escaped", () => {
  const config = loadConfig({ MAX_PROMPT_BYTES: "1000" }, import.meta.dir);
  const parser = createClientFrameParser(config);
  const prompt = "\u0001".repeat(config.maxPromptBytes); // JSON.stringify writes each as \u0001: 6 bytes
  const frame = JSON.stringify({ type: "prompt", prompt, meta: "M".repeat(64) });
  expect(Buffer.byteLength(frame)).toBeGreaterThan(config.maxPromptBytes * 6);
  expect(parser(frame)).toMatchObject({ prompt });
});
