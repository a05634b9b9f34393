/**
 * The demo page and its script as the gateway serves them, in-process through the HTTP app: the
 * script is bundled from lib/client at start-up, so there is no build step and no bundle to commit.
 */
import { describe, expect, test } from "bun:test";
import { createHttpApp } from "../../lib/http-app.ts";

const app = createHttpApp({
  version: "test",
  stats: () => ({ connections: 0, processes: 0 }),
  upgrade: async () => new Response(null, { status: 426 }),
});

describe("the demo page", () => {
  test("is served at /ws-demo.html and loads its script from /ws-demo.js, with no CDN", async () => {
    const res = await app.request("/ws-demo.html");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/ws-demo.js"></script>');
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
    expect(html).not.toMatch(/<link[^>]+href="https?:/);
  });

  test("gets a browser bundle of the client, without React", async () => {
    const res = await app.request("/ws-demo.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const js = await res.text();
    expect(js).toContain("class ClaudeSocket");
    expect(js).toContain("bearer.");
    expect(js).not.toContain("react");
    expect(js).not.toMatch(/from ?["']node:/);
  });
});
