/**
 * ClaudeSocket in Bun against the real gateway (fake CLI): a run end to end, a refused token, and
 * the two retryable refusals — capacity (1013) and per-user limits (4429) — retried until they pass.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ClaudeSocket, type ClaudeSocketState } from "../../lib/client/claude-socket.ts";
import type { CloseInfo } from "../../lib/client/close-codes.ts";
import { CLOSE } from "../../lib/errors.ts";
import { Gateway } from "../helpers/gateway.ts";
import { within } from "../helpers/wait.ts";

let gw: Gateway;
beforeAll(async () => {
  gw = await Gateway.start({ env: { MAX_PROCESSES: "1", QUEUE_LIMIT: "0", QUEUE_TIMEOUT_MS: "400", MAX_CONNECTIONS_PER_USER: "1" } });
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

/** A client whose getToken mints for `sub` and counts; closes are recorded. */
function client(sub: string, options: { token?: string; baseMs?: number } = {}) {
  const tokens: string[] = [];
  const closes: CloseInfo[] = [];
  const claude = new ClaudeSocket({
    url: gw.url,
    getToken: async () => {
      const token = options.token ?? (await gw.token(sub, 300, { jti: crypto.randomUUID() }));
      tokens.push(token);
      return token;
    },
    reconnect: { baseMs: options.baseMs ?? 200 },
  });
  claude.on("close", (c) => closes.push(c));
  return { claude, tokens, closes };
}

/** Resolves with the first state (now or later) that satisfies `pred`. */
function until(claude: ClaudeSocket, pred: (s: ClaudeSocketState) => boolean, what: string, timeoutMs = 15_000): Promise<ClaudeSocketState> {
  return within(
    new Promise((resolve) => {
      if (pred(claude.state)) return resolve(claude.state);
      const off = claude.on("state", (s) => {
        if (pred(s)) off(), resolve(s);
      });
    }),
    what,
    timeoutMs,
  );
}
const finished = (s: ClaudeSocketState) => s.status === "closed";

describe("ClaudeSocket against the gateway", () => {
  test("runs a prompt: the reply, the result, the exit and close 1000", async () => {
    const { claude, tokens } = client("socket-run");
    claude.send("hello gateway", { meta: "TASK-1" });
    const state = await until(claude, finished, "the run to end");
    expect(state.text).toBe("echo: hello gateway");
    expect(state.lastClose).toEqual({ ...CLOSE.completed, key: "completed", kind: "completed", byClient: false });
    expect(state.sessionId).toBe("00000000-0000-4000-8000-000000000000");
    expect(state.messages.map((m) => m.kind)).toEqual(["prompt", "notice", "notice", "session", "assistant", "result", "exit", "close"]);
    expect(tokens).toHaveLength(1);
  });

  test("stops at 4401 for a bad token: explained, and no reconnect", async () => {
    const { claude, tokens } = client("socket-bad", { token: "not.a.jwt" });
    claude.send("hello");
    const state = await until(claude, finished, "the refusal");
    expect(state.lastClose).toMatchObject({ code: 4401, reason: "token_invalid", kind: "final", explain: CLOSE.token_invalid.explain });
    expect(state.lastClose!.retryInMs).toBeUndefined();
    expect(state.lastError?.code).toBe("token_invalid");
    expect(tokens).toHaveLength(1);
  });

  test("retries 1013 (gateway full) after the hinted delay, with a fresh token, until the run gets a slot", async () => {
    const busy = await gw.connect();
    busy.send({ prompt: "slow-start 600" });
    await busy.next((f) => f.type === "gateway.started", "the first run to take the only slot");

    const { claude, tokens, closes } = client("socket-retry");
    claude.send("echo retried");
    const state = await until(claude, finished, "the retried run to end", 20_000);
    expect(closes[0]).toMatchObject({ code: 1013, reason: "try_again_later", kind: "retryable", error: { code: "try_again_later", retryAfterMs: 400 } });
    expect(closes[0]!.retryInMs).toBeGreaterThanOrEqual(400);
    expect(state.lastClose).toMatchObject({ code: 1000, reason: "completed" });
    expect(state.text).toBe("echo: echo retried");
    expect(tokens.length).toBe(closes.length);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(state.messages.filter((m) => m.kind === "prompt")).toHaveLength(1);
    await busy.closeResult();
  });

  test("retries 4429 (too many sockets for the user) no sooner than retryAfterMs", async () => {
    const holder = await gw.connect({ sub: "socket-limited" });
    await holder.next((f) => f.type === "gateway.hello", "hello");
    const { claude, closes } = client("socket-limited", { baseMs: 50 });
    claude.on("close", (c) => {
      if (c.code === 4429) holder.ws.close(); // the other tab goes away
    });
    claude.send("echo after the limit");
    const state = await until(claude, finished, "the run to end after the limit", 20_000);
    expect(closes[0]).toMatchObject({ code: 4429, reason: "rate_limited", kind: "retryable" });
    expect(closes[0]!.retryInMs).toBeGreaterThanOrEqual(closes[0]!.error!.retryAfterMs!);
    expect(state.text).toBe("echo: echo after the limit");
  });
});
