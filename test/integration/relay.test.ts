/**
 * The relay: what a client sees for what the CLI prints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Gateway, TEST_SECRET } from "../helpers/gateway.ts";
import { liveInGroup } from "../helpers/processes.ts";
import type { TestClient } from "../helpers/ws-client.ts";

let gw: Gateway;
beforeAll(async () => {
  gw = await Gateway.start({
    env: {
      MAX_LINE_BYTES: String(64 * 1024),
      // Present in the gateway's environment; a child must never see it.
      ADMIN_PASSWORD: "gateway-secret-that-must-not-leak",
      DATABASE_URL: "postgres://secret@db/prod",
      LANG: "C.UTF-8",
    },
  });
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

/** Send a prompt and wait for the socket to close; returns the frames after hello. */
async function run(prompt: string, extra: Record<string, unknown> = {}): Promise<{ client: TestClient; close: { code: number; reason: string } }> {
  const client = await gw.connect();
  await client.next((f) => f.type === "gateway.hello", "hello");
  client.send({ prompt, ...extra });
  const close = await client.closeResult();
  const started = client.frames.find((f) => f.type === "gateway.started");
  if (started) expect(liveInGroup(started.pid as number)).toEqual([]);
  return { client, close };
}

describe("a run", () => {
  test("starts with hello, relays every JSON line verbatim, and ends with one exit frame and close 1000", async () => {
    const { client, close } = await run("count 5", { meta: "TASK-123" });
    const types = client.frames.map((f) => f.type);
    expect(types).toEqual(["gateway.hello", "gateway.started", "count", "count", "count", "count", "count", "gateway.exit"]);
    expect(client.raw.slice(2, 7)).toEqual([1, 2, 3, 4, 5].map((n) => `{"type":"count","n":${n}}`));
    const hello = client.frames[0]!;
    expect(hello).toMatchObject({ protocol: "claude.v1", auth: "ok", limits: { maxPromptBytes: 8192, maxLineBytes: 65536 } });
    expect(typeof hello.connectionId).toBe("string");
    const started = client.frames[1]!;
    const exit = client.frames[7]!;
    expect(exit).toMatchObject({ type: "gateway.exit", runId: started.runId, code: 0, signal: null, reason: "completed" });
    expect(exit.durationMs).toBeGreaterThanOrEqual(0);
    expect(close).toEqual({ code: 1000, reason: "completed" });
  });

  test("joins lines cut inside multi-byte UTF-8 characters, strips CRLF and keeps a last line with no newline", async () => {
    const { client, close } = await run("split-utf8");
    const relayed = client.raw.filter((r) => !r.includes('"gateway.'));
    expect(relayed).toEqual(['{"type":"utf8","text":"héllo wörld 日本語 🎉"}', '{"type":"crlf"}', '{"type":"last","text":"ünterminated"}']);
    expect(close.code).toBe(1000);
  });

  test("wraps non-JSON lines, skips blank ones and relays JSON objects untouched", async () => {
    const { client } = await run("non-json");
    const relayed = client.raw.filter((r) => !/"gateway\.(hello|started|exit)"/.test(r));
    expect(relayed).toEqual([
      '{"type":"gateway.stdout","line":"plain text line"}',
      '{"type":"gateway.stdout","line":"[1,2,3]"}',
      "{not json}", // framed as an object: relayed unparsed under the default STDOUT_VALIDATION=structure
      '{"type":"padded"}',
      '{"type":"object"}',
    ]);
  });

  test("with STDOUT_VALIDATION=parse, a line framed as an object that is not JSON is wrapped", async () => {
    await using g = await Gateway.start({ env: { STDOUT_VALIDATION: "parse" } });
    const client = await g.connect();
    client.send({ prompt: "non-json" });
    await client.closeResult();
    expect(client.raw).toContain('{"type":"gateway.stdout","line":"{not json}"}');
    expect(client.raw).toContain('{"type":"object"}');
  });

  test("does not relay a line over MAX_LINE_BYTES, warns with its size, and relays the next line", async () => {
    const { client, close } = await run(`huge-line ${200 * 1024}`);
    expect(client.frames.find((f) => f.type === "gateway.warning")).toEqual({ type: "gateway.warning", code: "line_too_long", bytes: 200 * 1024 });
    expect(client.frames.some((f) => f.type === "huge")).toBe(false);
    expect(client.frames.some((f) => f.type === "after")).toBe(true);
    expect(close.code).toBe(1000);
  });

  test("relays a line just under MAX_LINE_BYTES whole", async () => {
    const { client } = await run(`huge-line ${60 * 1024}`);
    const huge = client.raw.find((r) => r.startsWith('{"type":"huge"'));
    expect(huge?.length).toBe(60 * 1024);
  });

  test("turns stderr lines into gateway.stderr frames", async () => {
    const { client } = await run("stderr 3");
    expect(client.ofType("gateway.stderr").map((f) => f.line)).toEqual([1, 2, 3].map((i) => `warning ${i}: something on stderr`));
    await gw.waitLog((l) => l.msg === "cli stderr" && l.stderr === "warning 3: something on stderr");
  });

  test("passes the prompt as one argv element after --, so a prompt starting with - is never a flag", async () => {
    const { client } = await run("print-argv --dangerously-skip-permissions; $(rm -rf /) `id`");
    const argv = client.frames.find((f) => f.type === "argv")!.argv;
    expect(argv).toEqual(["-p", "--output-format", "stream-json", "--verbose", "--max-turns=100", "--", "print-argv --dangerously-skip-permissions; $(rm -rf /) `id`"]);
  });

  test("gives the child only the passthrough environment, never the gateway's secrets", async () => {
    const { client } = await run("print-env");
    const env = client.frames.find((f) => f.type === "env")!.env as Record<string, string>;
    const allowed = new Set(["PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CONFIG_DIR"]);
    // Bun itself may add a few variables at exec; none may carry a value from the gateway's env.
    const leaked = Object.keys(env).filter((k) => !allowed.has(k) && !/^(_|PWD|SHLVL|OLDPWD)$/.test(k));
    expect(leaked).toEqual([]);
    expect(env.LANG).toBe("C.UTF-8");
    expect(JSON.stringify(env)).not.toContain("gateway-secret-that-must-not-leak");
    expect(JSON.stringify(env)).not.toContain("postgres://");
    expect(JSON.stringify(env)).not.toContain(TEST_SECRET); // the gateway's JWT_SECRET
  });

  test("refuses a second prompt while a run is live, and the run carries on", async () => {
    const client = await gw.connect();
    client.send({ prompt: "hang" });
    await client.next((f) => f.type === "fake.ready", "the fake CLI to be ready");
    client.send({ prompt: "count 1" });
    const err = await client.next((f) => f.type === "gateway.error", "an error frame");
    expect(err).toMatchObject({ code: "run_in_progress" });
    client.send("not json");
    await client.next((f) => f.type === "gateway.error" && f.code === "invalid_json", "invalid_json error");
    expect(client.ofType("gateway.started")).toHaveLength(1);
    const pid = client.frames.find((f) => f.type === "gateway.started")!.pid as number;
    expect(liveInGroup(pid).length).toBeGreaterThan(0);
    client.ws.close(1000);
    await client.closeResult();
  });

  test("reports health with live counts", async () => {
    const res = await fetch(`${gw.http}/health`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: "ok", version: expect.any(String), uptimeMs: expect.any(Number) });
    expect(typeof body.connections).toBe("number");
    expect(typeof body.processes).toBe("number");
  });

  test("answers a plain GET on /ws/claude with 426", async () => {
    const res = await fetch(`${gw.http}/ws/claude`);
    expect(res.status).toBe(426);
  });
});
