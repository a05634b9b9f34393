import { describe, expect, test } from "bun:test";
import { lineTooLongFrame, messageToRead, stderrFrame, stdoutFrame } from "../../websocket/stdout-frames.ts";

describe("stdoutFrame", () => {
  test.each([
    ['{"type":"assistant","message":{"content":[]}}'],
    ['{"b":1, "a":2}'],
    ['{ "spaced" : true }'],
    ["{}"],
    ['{"text":"line\\nbreak \\u00e9 😀"}'],
  ])("relays the JSON object %s verbatim, as the same string, in both validation modes", (line) => {
    expect(stdoutFrame(line)).toBe(line);
    expect(stdoutFrame(line, "parse")).toBe(line);
  });

  test.each([[""], [" "], ["\t \t"], ["\u00a0"]])("returns null for the blank line %p", (line) => {
    expect(stdoutFrame(line)).toBeNull();
  });

  test.each([
    ["plain text", "hello world"],
    ["an array", "[1,2]"],
    ["a JSON string", '"quoted"'],
    ["a number", "42"],
    ["an object with trailing text", '{"a":1} trailing'],
    ["an unclosed object", '{"a":1'],
    ["text with quotes and a backslash", 'say "hi" \\ bye'],
  ])("wraps %s as gateway.stdout carrying the original line", (_, line) => {
    const frame = stdoutFrame(line);
    expect(frame).not.toBeNull();
    expect(JSON.parse(frame!)).toEqual({ type: "gateway.stdout", line });
  });

  test.each([
    ["broken JSON in braces", "{not json}"],
    ["two objects on one line", '{"a":1}{"b":2}'],
  ])("relays %s framed as an object verbatim by default (structure), and wraps it with parse", (_, line) => {
    expect(stdoutFrame(line)).toBe(line);
    expect(JSON.parse(stdoutFrame(line, "parse")!)).toEqual({ type: "gateway.stdout", line });
  });

  test.each([
    ["leading spaces", '   {"a":1}', '{"a":1}'],
    ["trailing spaces", '{"b":1, "a":2}  ', '{"b":1, "a":2}'],
    ["tabs on both sides", '\t{"a":[1, 2]}\t', '{"a":[1, 2]}'],
  ])("relays a JSON object padded with %s as the trimmed object", (_, line, expected) => {
    expect(stdoutFrame(line)).toBe(expected);
  });

  test("wraps padded non-JSON with its padding intact", () => {
    expect(JSON.parse(stdoutFrame("  {nope}  ")!)).toEqual({ type: "gateway.stdout", line: "  {nope}  " });
  });
});

describe("messageToRead", () => {
  test.each([
    ['{"type":"system","subtype":"init","session_id":"s"}', "system"],
    ['{"duration_ms":1,"is_error":true,"type":"result"}', "result"], // the real CLI puts type late in result lines
    ['{"type":"control_request","request_id":"r","request":{"subtype":"can_use_tool"}}', "control_request"],
  ])("parses the line the gateway must read: %s", (line, type) => {
    expect(messageToRead(line)?.type).toBe(type);
  });

  test.each([
    ['{"type":"assistant","message":{"content":[{"type":"text","text":"see \"type\":\"result\""}]}}'],
    ['{"type":"user","message":{"content":[{"type":"tool_result","content":"x"}]}}'],
    ['{"type":"stream_event","event":{"type":"content_block_delta"}}'],
  ])("leaves every other line unparsed: %s", (line) => {
    expect(messageToRead(line)).toBeUndefined();
  });
});

describe("other server frames", () => {
  test("stderrFrame wraps a line as gateway.stderr, escaping what JSON needs", () => {
    const line = 'error: "x"\t\\ \u0001 é';
    expect(JSON.parse(stderrFrame(line))).toEqual({ type: "gateway.stderr", line });
  });

  test("lineTooLongFrame is a gateway.warning carrying the byte count", () => {
    expect(JSON.parse(lineTooLongFrame(16_777_217))).toEqual({ type: "gateway.warning", code: "line_too_long", bytes: 16_777_217 });
  });
});
