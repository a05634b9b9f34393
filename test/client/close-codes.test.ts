/**
 * describeClose: what each close the gateway can send means to a client (the table is the
 * gateway's own registry, lib/errors.ts CLOSE, bundled into the browser client).
 */
import { describe, expect, test } from "bun:test";
import { describeClose } from "../../lib/client/close-codes.ts";
import { CLOSE } from "../../lib/errors.ts";

describe("describeClose", () => {
  test.each(Object.entries(CLOSE))("knows %s by its code and reason", (key, entry) => {
    const meaning = describeClose(entry.code, entry.reason);
    expect(meaning.key).toBe(key as keyof typeof CLOSE);
    expect(meaning.retry).toBe(entry.retry);
    expect(meaning.explain).toBe(entry.explain);
  });

  test.each([
    [4401, "token_missing"],
    [4401, "token_invalid"],
    [4401, "token_expired"],
    [4403, "forbidden"],
    [1008, "invalid_message"],
    [1003, "unsupported_data"],
    [1009, "message_too_big"],
    [4400, "bad_request"],
    [4408, "auth_timeout"],
  ])("calls %i %s final: it needs a new token or a fixed request, never a reconnect", (code, reason) => {
    expect(describeClose(code, reason)).toMatchObject({ kind: "final", retry: false });
  });

  test.each([
    [1013, "try_again_later"],
    [4429, "rate_limited"],
    [1001, "shutdown"],
    [1011, "spawn_failed"],
    [1011, "auth_unavailable"],
  ])("calls %i %s retryable", (code, reason) => {
    expect(describeClose(code, reason)).toMatchObject({ kind: "retryable", retry: true });
  });

  test.each([
    [1011, "failed"],
    [1011, "timeout"],
    [1011, "idle_timeout"],
  ])("calls %i %s ended: a retry would only repeat it", (code, reason) => {
    expect(describeClose(code, reason)).toMatchObject({ kind: "ended", retry: false });
  });

  test("retries 1011 only for the reasons the registry marks retryable", () => {
    expect(describeClose(1011, "something_new")).toMatchObject({ key: undefined, retry: false, explain: "The run ended with an error on the gateway's side." });
  });

  test("takes a code the registry uses once even without its reason (1013 from a proxy, say)", () => {
    expect(describeClose(1013, "")).toMatchObject({ key: "try_again_later", retry: true });
    expect(describeClose(4401, "")).toMatchObject({ key: undefined, kind: "final", retry: false });
  });

  test("does not take a client's own 1000 for the gateway's 'completed'", () => {
    expect(describeClose(1000, "bye")).toMatchObject({ key: undefined, kind: "ended", explain: "The connection was closed normally." });
    expect(describeClose(1000, "completed")).toMatchObject({ key: "completed", kind: "completed" });
  });

  test("explains 1006, which is all a browser sees of a refused upgrade", () => {
    expect(describeClose(1006, "")).toMatchObject({ retry: false, kind: "ended" });
    expect(describeClose(1006, "").explain).toContain("Origin not allowed");
  });
});
