/**
 * HTTP routes (hono): health, the demo page, and the `/ws/claude` upgrade. The socket itself is
 * handled by websocket/claude-handler.ts, wired to Bun.serve in server.ts.
 */
import type { Server } from "bun";
import { Hono } from "hono";
import { timingSafeEqual } from "node:crypto";
import { join, resolve } from "node:path";
import type { ConnectionData } from "../websocket/upgrade.ts";
import { bundleBrowserScript } from "./client/build.ts";

export interface HttpAppDeps {
  version: string;
  stats(): { connections: number; processes: number };
  upgrade(req: Request, server: Server<ConnectionData>): Promise<Response | undefined>;
  /** Prometheus text for GET /metrics; absent when metrics are served on their own port. */
  metrics?: () => Promise<{ body: string; contentType: string }>;
  metricsToken?: string;
  /** Development only (no key configured): a fresh token for the demo page. Absent otherwise. */
  devToken?: () => Promise<string>;
}

const PUBLIC_DIR = resolve(import.meta.dir, "..", "public");

export function createHttpApp(deps: HttpAppDeps): Hono<{ Bindings: Server<ConnectionData> }> {
  const startedAt = performance.now();
  const app = new Hono<{ Bindings: Server<ConnectionData> }>();

  app.get("/health", (c) =>
    c.json({ status: "ok", version: deps.version, uptimeMs: Math.round(performance.now() - startedAt), ...deps.stats() }),
  );

  if (deps.metrics !== undefined) mountMetrics(app, deps.metrics, deps.metricsToken);

  // After a successful upgrade Bun ignores the response; hono needs one to finish the request.
  app.get("/ws/claude", async (c) => (await deps.upgrade(c.req.raw, c.env)) ?? new Response(null));

  app.get("/ws-demo.html", () =>
    new Response(Bun.file(join(PUBLIC_DIR, "ws-demo.html")), { headers: { "content-type": "text/html; charset=utf-8" } }),
  );
  app.get("/", (c) => c.redirect("/ws-demo.html"));
  // The demo page's script (lib/client), bundled once at start-up: no build step, nothing committed.
  const demoScript = bundleBrowserScript(join(import.meta.dir, "client", "demo", "ws-demo.ts")).catch((err: Error) => err);
  app.get("/ws-demo.js", async (c) => {
    const js = await demoScript;
    if (js instanceof Error) return c.json({ error: "bundle_failed", message: js.message }, 500);
    return new Response(js, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" } });
  });

  // Never with a configured key or in production: the route does not exist then.
  const devToken = deps.devToken;
  if (devToken !== undefined) {
    app.get("/dev-token", async (c) => c.json({ token: await devToken(), note: "development only: ephemeral key" }, 200, { "cache-control": "no-store" }));
  }

  app.notFound((c) => c.json({ error: "not_found", message: "No such route." }, 404));
  return app;
}

/** GET /metrics, behind `Authorization: Bearer <METRICS_TOKEN>` when one is configured. */
export function mountMetrics(app: Hono<any>, render: () => Promise<{ body: string; contentType: string }>, token: string | undefined): void {
  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`);
  app.get("/metrics", async (c) => {
    if (expected !== undefined) {
      const got = Buffer.from(c.req.header("authorization") ?? "");
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        return c.json({ error: "unauthorized", message: "GET /metrics needs the metrics bearer token." }, 401);
      }
    }
    const { body, contentType } = await render();
    return c.body(body, 200, { "content-type": contentType });
  });
}
