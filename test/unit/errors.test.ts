import { describe, expect, test } from "bun:test";
import { CLOSE, ConfigError, ERROR_CODES, EXIT_REASONS, GatewayError, type CloseSpec, type ErrorCode } from "../../lib/errors.ts";

/**
 * Close codes a server may send: the RFC 6455 codes this protocol uses, or the 4000–4999 range
 * kept for applications. Never 1004–1006 or 1015 (reserved, not to be sent) nor 2000–3999.
 */
const STANDARD_CLOSE_CODES = new Set([1000, 1001, 1003, 1008, 1009, 1011, 1013]);
const isAllowedCloseCode = (code: number) => STANDARD_CLOSE_CODES.has(code) || (code >= 4000 && code <= 4999);

const closeSpecs = Object.values(CLOSE) as CloseSpec[];

describe("CLOSE registry", () => {
  test.each(Object.entries(CLOSE) as Array<[string, CloseSpec]>)("%s uses an allowed close code, its own name as reason, and explains itself", (key, spec) => {
    expect({ key, allowed: isAllowedCloseCode(spec.code) }).toEqual({ key, allowed: true });
    expect<string>(spec.reason).toBe(key);
    expect(spec.explain.length).toBeGreaterThan(0);
    // A close frame's reason is limited to 123 bytes of UTF-8.
    expect(Buffer.byteLength(spec.reason, "utf8")).toBeLessThanOrEqual(123);
  });

  test.each([
    ["completed", 1000, false],
    ["shutdown", 1001, true],
    ["unsupported_data", 1003, false],
    ["invalid_message", 1008, false],
    ["message_too_big", 1009, false],
    ["failed", 1011, false],
    ["spawn_failed", 1011, true],
    ["timeout", 1011, false],
    ["idle_timeout", 1011, false],
    ["try_again_later", 1013, true],
  ] as const)("%s closes with %p, retry %p", (key, code, retry) => {
    expect<unknown>(CLOSE[key]).toMatchObject({ code, reason: key, retry });
  });
});

describe("ERROR_CODES", () => {
  test.each(Object.entries(ERROR_CODES))("%s leads to a CLOSE entry or to no close", (_, key) => {
    expect(key === null || key in CLOSE).toBe(true);
  });

  test.each([
    ["unsupported_data", 1003],
    ["invalid_json", 1008],
    ["invalid_message", 1008],
    ["message_too_big", 1009],
    ["prompt_too_large", 1009],
    ["run_in_progress", null],
    ["try_again_later", 1013],
    ["spawn_failed", 1011],
  ] as const satisfies ReadonlyArray<readonly [ErrorCode, number | null]>)("%s closes with %p", (code, closeCode) => {
    const key = ERROR_CODES[code];
    expect<number | null>(key === null ? null : CLOSE[key].code).toBe(closeCode);
  });
});

describe("EXIT_REASONS", () => {
  test.each(Object.entries(EXIT_REASONS))("%s leads to a CLOSE entry or to no close", (_, spec) => {
    expect(spec === null || closeSpecs.includes(spec)).toBe(true);
  });

  test.each([
    ["completed", 1000],
    ["failed", 1011],
    ["timeout", 1011],
    ["idle_timeout", 1011],
    ["spawn_failed", 1011],
    ["shutdown", 1001],
  ] as const)("%s closes with %p and reason %s", (reason, code) => {
    expect<unknown>(EXIT_REASONS[reason]).toMatchObject({ code, reason });
  });

  test("client_closed sends no close: nobody is left to receive it", () => {
    expect(EXIT_REASONS.client_closed).toBeNull();
  });
});

describe("GatewayError", () => {
  test("carries its code and message, and is an Error", () => {
    const err = new GatewayError("invalid_json", "The frame is not valid JSON.");
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("GatewayError");
    expect(err.code).toBe("invalid_json");
    expect(err.message).toBe("The frame is not valid JSON.");
  });

  test.each(Object.keys(ERROR_CODES) as ErrorCode[])("close for %s is its registry entry", (code) => {
    const key = ERROR_CODES[code];
    expect(new GatewayError(code, "x").close).toBe(key === null ? null : CLOSE[key]);
  });
});

describe("ConfigError", () => {
  test("names the variable in its own field and at the start of its message", () => {
    const err = new ConfigError("PORT", "must be a whole number");
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("ConfigError");
    expect(err.variable).toBe("PORT");
    expect(err.message).toBe("PORT: must be a whole number");
  });
});
