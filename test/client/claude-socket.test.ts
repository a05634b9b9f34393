/**
 * ClaudeSocket against a scripted socket and a hand-driven clock: what it sends, when it
 * reconnects and when it must not. (test/client/claude-socket.gateway.test.ts runs it against
 * the real gateway.)
 */
import { describe, expect, test } from "bun:test";
import { ClaudeSocket, type ClaudeSocketOptions, type SocketLike } from "../../lib/client/claude-socket.ts";
import type { CloseInfo } from "../../lib/client/close-codes.ts";
import { CLOSE } from "../../lib/errors.ts";
import { waitFor } from "../helpers/wait.ts";

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Array<Record<string, unknown>> = [];
  closedByClient: { code?: number; reason?: string } | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}

  /** The gateway accepts the socket and says hello. */
  hello(auth: "ok" | "required" | "refused" = "ok"): void {
    this.readyState = 1;
    this.onopen?.({});
    this.receive({ type: "gateway.hello", protocol: "claude.v1", connectionId: "c", auth, limits: {} });
  }
  receive(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  serverClose(code: number, reason: string): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = 3;
  }
}

/** A ClaudeSocket wired to fake sockets, a manual clock and numbered tokens. */
function harness(options: Partial<ClaudeSocketOptions> = {}) {
  const sockets: FakeSocket[] = [];
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const closes: CloseInfo[] = [];
  let tokens = 0;
  const claude = new ClaudeSocket({
    url: "ws://gateway/ws/claude",
    getToken: async () => `tok-${++tokens}`,
    createSocket: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s;
    },
    setTimeout: (fn, ms) => timers.push({ fn, ms, cleared: false }) - 1,
    clearTimeout: (handle) => {
      timers[handle as number]!.cleared = true;
    },
    random: () => 0.5,
    ...options,
  });
  claude.on("close", (c) => closes.push(c));
  return {
    claude,
    sockets,
    timers,
    closes,
    tokens: () => tokens,
    /** The n-th socket, once the async connect (token fetch) has created it. */
    socket: (n: number) => waitFor(() => sockets[n], `socket #${n + 1} to be opened`),
    /** Run the one pending timer (the scheduled reconnect). */
    fireTimer(): number {
      const live = timers.filter((t) => !t.cleared);
      expect(live).toHaveLength(1);
      live[0]!.cleared = true;
      live[0]!.fn();
      return live[0]!.ms;
    },
    liveTimers: () => timers.filter((t) => !t.cleared),
  };
}

describe("connecting and sending", () => {
  test("offers claude.v1 and the token from getToken as subprotocols, and sends the prompt after hello", async () => {
    const h = harness();
    h.claude.send("Say hello");
    expect(h.claude.state.status).toBe("connecting");
    const ws = await h.socket(0);
    expect(ws.url).toBe("ws://gateway/ws/claude");
    expect(ws.protocols).toEqual(["claude.v1", "bearer.tok-1"]);
    expect(ws.sent).toEqual([]); // nothing before the gateway's hello
    ws.hello();
    expect(ws.sent).toEqual([{ type: "prompt", prompt: "Say hello" }]);
    expect(h.claude.state.status).toBe("running");
    expect(h.claude.state.messages[0]).toMatchObject({ kind: "prompt", text: "Say hello", followUp: false });
  });

  test("sends nothing when the hello says the token was refused: the error and the close follow", async () => {
    const h = harness();
    h.claude.send("x");
    const ws = await h.socket(0);
    ws.hello("refused");
    expect(ws.sent).toEqual([]);
    ws.receive({ type: "gateway.error", code: "token_expired", message: "The token has expired." });
    ws.serverClose(4401, "token_expired");
    expect(h.closes[0]).toMatchObject({ code: 4401, kind: "final", error: { code: "token_expired" } });
  });

  test("sends the token in an auth message, then the prompt, when the subprotocol did not reach the gateway", async () => {
    const h = harness();
    h.claude.send("x");
    const ws = await h.socket(0);
    ws.hello("required");
    expect(ws.sent).toEqual([
      { type: "auth", token: "tok-1" },
      { type: "prompt", prompt: "x" },
    ]);
  });

  test("carries meta and the run options, leaving out unset ones", async () => {
    const h = harness();
    h.claude.send("Fix it", { meta: "TASK-7", mode: "interactive", model: "claude-x", includePartialMessages: true, maxTurns: undefined });
    const ws = await h.socket(0);
    ws.hello();
    expect(ws.sent[0]).toEqual({ type: "prompt", prompt: "Fix it", meta: "TASK-7", options: { mode: "interactive", model: "claude-x", includePartialMessages: true } });
  });

  test("sends at once on a socket that connect() already opened", async () => {
    const h = harness();
    h.claude.connect();
    const ws = await h.socket(0);
    ws.hello();
    expect(h.claude.state.status).toBe("ready");
    h.claude.send("now");
    expect(ws.sent).toEqual([{ type: "prompt", prompt: "now" }]);
  });

  test("refuses a second prompt while a one-shot run is in progress", async () => {
    const h = harness();
    h.claude.send("one");
    expect(() => h.claude.send("two")).toThrow("already in progress");
  });

  test("reports a getToken failure as a close that will not be retried", async () => {
    const h = harness({
      getToken: async () => {
        throw new Error("session expired");
      },
    });
    h.claude.send("x");
    await waitFor(() => h.closes.length === 1, "the close");
    expect(h.closes[0]).toMatchObject({ code: 0, kind: "final", retry: false, explain: "Could not connect: session expired" });
    expect(h.claude.state.status).toBe("closed");
    expect(h.sockets).toEqual([]);
  });

  test("accumulates the reply into state.text and ends with the gateway's close", async () => {
    const h = harness();
    h.claude.send("hi");
    const ws = await h.socket(0);
    ws.hello();
    ws.receive({ type: "gateway.started", runId: "r", pid: 1 });
    ws.receive({ type: "stream_event", event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } } });
    expect(h.claude.state.text).toBe("Hel");
    ws.receive({ type: "stream_event", event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } } });
    ws.receive({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text: "Hello" }] } });
    ws.receive({ type: "result", subtype: "success", is_error: false, session_id: "sess-1" });
    ws.receive({ type: "gateway.exit", runId: "r", code: 0, signal: null, reason: "completed", durationMs: 5, summary: null });
    ws.serverClose(1000, "completed");
    expect(h.claude.state).toMatchObject({ status: "closed", text: "Hello", sessionId: "sess-1" });
    expect(h.closes).toEqual([{ ...CLOSE.completed, key: "completed", kind: "completed", byClient: false }]);
    expect(h.liveTimers()).toEqual([]);
  });
});

describe("closes that must never reconnect", () => {
  test.each([
    [4401, "token_invalid"],
    [4401, "token_expired"],
    [4403, "forbidden"],
    [1008, "invalid_message"],
    [1003, "unsupported_data"],
    [1009, "message_too_big"],
    [4400, "bad_request"],
    [4408, "auth_timeout"],
    [1011, "failed"],
    [1011, "timeout"],
    [1006, ""],
  ])("%i %s: reports it with the registry's explanation and schedules nothing", async (code, reason) => {
    const h = harness();
    h.claude.send("x");
    const ws = await h.socket(0);
    ws.hello();
    ws.serverClose(code, reason);
    expect(h.claude.state.status).toBe("closed");
    expect(h.liveTimers()).toEqual([]);
    expect(h.tokens()).toBe(1);
    expect(h.closes[0]).toMatchObject({ code, reason, retry: false });
    const entry = Object.values(CLOSE).find((e) => e.code === code && e.reason === reason);
    if (entry) expect(h.closes[0]!.explain).toBe(entry.explain);
  });
});

describe("retryable closes", () => {
  test.each([
    [1013, "try_again_later"],
    [4429, "rate_limited"],
    [1001, "shutdown"],
    [1011, "spawn_failed"],
    [1011, "auth_unavailable"],
  ])("%i %s: reconnects after a backoff with a fresh token and re-sends the prompt that never started", async (code, reason) => {
    const h = harness();
    h.claude.send("again please");
    const first = await h.socket(0);
    first.hello();
    first.serverClose(code, reason);
    expect(h.claude.state.status).toBe("reconnecting");
    expect(h.closes[0]).toMatchObject({ code, reason, kind: "retryable", retryInMs: 375 }); // 250 + 0.5 × 250
    expect(h.sockets).toHaveLength(1); // nothing until the timer fires
    expect(h.fireTimer()).toBe(375);
    const second = await h.socket(1);
    expect(second.protocols).toEqual(["claude.v1", "bearer.tok-2"]);
    second.hello();
    expect(second.sent).toEqual([{ type: "prompt", prompt: "again please" }]);
    expect(h.claude.state.messages.filter((m) => m.kind === "prompt")).toHaveLength(1);
  });

  test("backs off exponentially and gives up after maxAttempts", async () => {
    const h = harness({ reconnect: { baseMs: 100, maxMs: 10_000, maxAttempts: 3 } });
    h.claude.send("x");
    const delays: number[] = [];
    for (let n = 0; n < 4; n++) {
      const ws = await h.socket(n);
      ws.hello();
      ws.serverClose(1013, "try_again_later");
      if (n < 3) delays.push(h.fireTimer());
    }
    expect(delays).toEqual([75, 150, 300]);
    expect(h.claude.state.status).toBe("closed");
    expect(h.liveTimers()).toEqual([]);
    expect(h.closes.at(-1)!.retryInMs).toBeUndefined();
  });

  test("waits at least the retryAfterMs of the gateway's error", async () => {
    const h = harness();
    h.claude.send("x");
    const ws = await h.socket(0);
    ws.hello();
    ws.receive({ type: "gateway.error", code: "rate_limited", message: "Slow down.", retryAfterMs: 4_000 });
    ws.serverClose(4429, "rate_limited");
    expect(h.closes[0]).toMatchObject({ retryInMs: 4_000, error: { code: "rate_limited", message: "Slow down.", retryAfterMs: 4_000 } });
  });

  test("never replays a prompt the CLI had started: the close is reported and nothing is scheduled", async () => {
    const h = harness();
    h.claude.send("do something once");
    const ws = await h.socket(0);
    ws.hello();
    ws.receive({ type: "gateway.started", runId: "r", pid: 7 });
    ws.serverClose(1001, "shutdown");
    expect(h.claude.state.status).toBe("closed");
    expect(h.closes[0]).toMatchObject({ code: 1001, retry: true });
    expect(h.closes[0]!.retryInMs).toBeUndefined();
    expect(h.liveTimers()).toEqual([]);
  });

  test("keeps a connect()ed socket open across a gateway restart", async () => {
    const h = harness();
    h.claude.connect();
    (await h.socket(0)).hello();
    h.sockets[0]!.serverClose(1001, "shutdown");
    h.fireTimer();
    (await h.socket(1)).hello();
    expect(h.claude.state.status).toBe("ready");
  });

  test("starts the backoff afresh once a run has got through", async () => {
    const h = harness({ reconnect: { baseMs: 100, maxMs: 10_000, maxAttempts: 5 } });
    h.claude.send("x");
    (await h.socket(0)).hello();
    h.sockets[0]!.serverClose(1013, "try_again_later");
    expect(h.fireTimer()).toBe(75);
    const ws = await h.socket(1);
    ws.hello();
    ws.receive({ type: "gateway.started", runId: "r", pid: 1 });
    ws.serverClose(1000, "completed");
    h.claude.send("y");
    (await h.socket(2)).hello();
    h.sockets[2]!.serverClose(1013, "try_again_later");
    expect(h.fireTimer()).toBe(75); // attempt 1 again, not 2
  });
});

describe("close()", () => {
  test("cancels a connect that is still fetching its token: no socket is ever opened", async () => {
    let release!: (t: string) => void;
    const h = harness({ getToken: () => new Promise<string>((r) => (release = r)) });
    h.claude.send("x");
    await waitFor(() => release !== undefined, "getToken to be called");
    h.claude.close();
    release("late-token");
    await Promise.resolve();
    expect(h.sockets).toEqual([]);
    expect(h.claude.state.status).toBe("closed");
    expect(h.closes).toEqual([expect.objectContaining({ byClient: true, code: 1000, reason: "client_closed" })]);
  });

  test("in the same tick as the connect, does not even ask for a token (React StrictMode's unmount)", async () => {
    const h = harness();
    h.claude.connect();
    h.claude.close();
    await Promise.resolve();
    await Promise.resolve();
    expect(h.tokens()).toBe(0);
  });

  test("cancels a scheduled reconnect", async () => {
    const h = harness();
    h.claude.send("x");
    (await h.socket(0)).hello();
    h.sockets[0]!.serverClose(1013, "try_again_later");
    expect(h.liveTimers()).toHaveLength(1);
    h.claude.close();
    expect(h.liveTimers()).toEqual([]);
    expect(h.claude.state.status).toBe("closed");
  });

  test("closes an open socket with 1000 and ignores its late events", async () => {
    const h = harness();
    h.claude.send("x");
    const ws = await h.socket(0);
    ws.hello();
    h.claude.close();
    expect(ws.closedByClient).toEqual({ code: 1000, reason: "client_closed" });
    ws.receive({ type: "gateway.started", runId: "r", pid: 1 });
    ws.serverClose(1013, "try_again_later");
    expect(h.liveTimers()).toEqual([]);
    expect(h.closes).toHaveLength(1);
  });
});

describe("interactive runs", () => {
  async function interactive() {
    const h = harness();
    h.claude.send("first", { mode: "interactive" });
    const ws = await h.socket(0);
    ws.hello();
    ws.receive({ type: "gateway.started", runId: "r", pid: 1 });
    return { h, ws };
  }

  test("waits for a follow-up after each result, and sends follow-ups as user frames", async () => {
    const { h, ws } = await interactive();
    ws.receive({ type: "result", subtype: "success", is_error: false, session_id: "s" });
    expect(h.claude.state.status).toBe("awaiting_followup");
    h.claude.followUp("second");
    h.claude.send("third"); // send() in a live interactive run is a follow-up too
    expect(ws.sent.slice(1)).toEqual([
      { type: "user", prompt: "second" },
      { type: "user", prompt: "third" },
    ]);
    expect(h.claude.state.status).toBe("running");
    expect(h.claude.state.messages.filter((m) => m.kind === "prompt").map((m) => m.kind === "prompt" && m.followUp)).toEqual([false, true, true]);
  });

  test("interrupts only while a turn is running", async () => {
    const { h, ws } = await interactive();
    expect(h.claude.interrupt()).toBe(true);
    ws.receive({ type: "result", subtype: "error_during_execution", is_error: true });
    expect(h.claude.interrupt()).toBe(false);
    expect(ws.sent.filter((f) => f.type === "interrupt")).toHaveLength(1);
  });

  test("refuses a follow-up outside an interactive run", () => {
    expect(() => harness().claude.followUp("x")).toThrow("interactive");
  });
});

describe("permissions", () => {
  test("lists each request, answers allow with the tool's input and deny with a message, and drops resolved ones", async () => {
    const h = harness();
    const asked: string[] = [];
    h.claude.on("permission", (p) => asked.push(p.requestId));
    h.claude.send("tools 3");
    const ws = await h.socket(0);
    ws.hello();
    for (const id of ["req_1", "req_2", "req_3"]) {
      ws.receive({ type: "control_request", request_id: id, request: { subtype: "can_use_tool", tool_name: "Bash", input: { command: `ls ${id}` }, tool_use_id: `t_${id}` } });
    }
    expect(asked).toEqual(["req_1", "req_2", "req_3"]);
    expect(h.claude.state.pendingPermissions.map((p) => p.requestId)).toEqual(["req_1", "req_2", "req_3"]);

    h.claude.respondToPermission("req_1", "allow");
    h.claude.respondToPermission("req_2", "deny", { message: "Not on this repo" });
    expect(ws.sent.slice(1)).toEqual([
      { type: "permission", requestId: "req_1", behavior: "allow", updatedInput: { command: "ls req_1" } },
      { type: "permission", requestId: "req_2", behavior: "deny", message: "Not on this repo" },
    ]);
    expect(h.claude.state.pendingPermissions.map((p) => p.requestId)).toEqual(["req_3"]);
    ws.receive({ type: "gateway.permission_resolved", requestId: "req_3", behavior: "deny", by: "timeout" });
    expect(h.claude.state.pendingPermissions).toEqual([]);
  });

  test("forgets pending requests when the socket closes (the gateway denies them)", async () => {
    const h = harness();
    h.claude.send("tools");
    const ws = await h.socket(0);
    ws.hello();
    ws.receive({ type: "control_request", request_id: "req_1", request: { subtype: "can_use_tool", tool_name: "Bash", input: {} } });
    ws.serverClose(1011, "failed");
    expect(h.claude.state.pendingPermissions).toEqual([]);
  });
});
