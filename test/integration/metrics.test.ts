/**
 * /metrics: Prometheus text that moves as runs happen, optionally behind a token or on its own port.
 */
import { describe, expect, test } from "bun:test";
import { Gateway } from "../helpers/gateway.ts";

/** Parse Prometheus text into `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(url: string, token?: string): Promise<Map<string, number>> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return parse(await res.text());
}

describe("/metrics", () => {
  test("counts connections, runs, close codes, refusals, frames and bytes as they happen", async () => {
    await using g = await Gateway.start();
    const before = await scrape(`${g.http}/metrics`);
    expect(before.get("gateway_connections_open")).toBe(0);
    expect(before.get('gateway_runs_total{reason="completed"}') ?? 0).toBe(0);

    for (let i = 0; i < 3; i++) {
      const c = await g.connect();
      c.send({ prompt: "count 10" });
      expect((await c.closeResult()).code).toBe(1000);
    }
    const failed = await g.connect();
    failed.send({ prompt: "exit 3" });
    await failed.closeResult();
    const refused = await g.connect({ token: "not-a-jwt" });
    await refused.closeResult();
    // Wait for the gateway's own close bookkeeping (it follows the client's close event).
    await g.waitLog(() => g.logs.filter((l) => l.msg === "connection closed").length >= 5);

    const after = await scrape(`${g.http}/metrics`);
    expect(after.get('gateway_runs_total{reason="completed"}')).toBe(3);
    expect(after.get('gateway_runs_total{reason="failed"}')).toBe(1);
    expect(after.get('gateway_close_codes_total{code="1000",reason="completed"}')).toBe(3);
    expect(after.get('gateway_close_codes_total{code="1011",reason="failed"}')).toBe(1);
    expect(after.get('gateway_close_codes_total{code="4401",reason="token_invalid"}')).toBe(1);
    expect(after.get('gateway_auth_refusals_total{code="token_invalid"}')).toBe(1);
    expect(after.get('gateway_connections_total{outcome="completed"}')).toBe(3);
    // Each count-10 run relays 10 CLI lines plus hello, started and exit.
    expect(after.get("gateway_frames_relayed_total")).toBeGreaterThanOrEqual(3 * 13);
    expect(after.get("gateway_stdout_bytes_total")).toBeGreaterThanOrEqual(3 * 10 * '{"type":"count","n":1}\n'.length);
    expect(after.get("gateway_run_duration_seconds_count")).toBe(4);
    expect(after.get("gateway_time_to_first_frame_seconds_count")).toBe(4);
    expect(after.get("gateway_runs_active")).toBe(0);
    expect(after.get("gateway_queue_depth")).toBe(0);
    expect(after.get("gateway_spawn_failures_total")).toBe(0);
  });

  test("sits behind METRICS_TOKEN when one is set", async () => {
    const token = "metrics-token-0123456789";
    await using g = await Gateway.start({ env: { METRICS_TOKEN: token } });
    expect((await fetch(`${g.http}/metrics`)).status).toBe(401);
    expect((await fetch(`${g.http}/metrics`, { headers: { authorization: "Bearer wrong-token-000000000" } })).status).toBe(401);
    expect((await scrape(`${g.http}/metrics`, token)).has("gateway_connections_open")).toBe(true);
  });

  test("moves to METRICS_PORT when one is set", async () => {
    await using g = await Gateway.start({ env: { METRICS_PORT: "0" } });
    const port = (await g.waitLog((l) => l.msg === "listening")).metricsPort as number;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(g.port);
    expect((await fetch(`${g.http}/metrics`)).status).toBe(404);
    expect((await scrape(`http://127.0.0.1:${port}/metrics`)).has("gateway_runs_active")).toBe(true);
  });
});
