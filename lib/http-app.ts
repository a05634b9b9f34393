/**
 * HTTP routes (hono): health, the demo page, and the `/ws/claude` upgrade. The socket itself is
 * handled by websocket/claude-handler.ts, wired to Bun.serve in server.ts.
 */
import type { Server } from "bun";
import { Hono } from "hono";
import { join, resolve } from "node:path";
import type { ConnectionData } from "../websocket/upgrade.ts";

export interface HttpAppDeps {
  version: string;
  stats(): { connections: number; processes: number };
  upgrade(req: Request, server: Server<ConnectionData>): Promise<Response | undefined>;
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

  // After a successful upgrade Bun ignores the response; hono needs one to finish the request.
  app.get("/ws/claude", async (c) => (await deps.upgrade(c.req.raw, c.env)) ?? new Response(null));

  app.get("/ws-demo.html", () =>
    new Response(Bun.file(join(PUBLIC_DIR, "ws-demo.html")), { headers: { "content-type": "text/html; charset=utf-8" } }),
  );
  app.get("/", (c) => c.redirect("/ws-demo.html"));

  // Never with a configured key or in production: the route does not exist then.
  const devToken = deps.devToken;
  if (devToken !== undefined) {
    app.get("/dev-token", async (c) => c.json({ token: await devToken(), note: "development only: ephemeral key" }, 200, { "cache-control": "no-store" }));
  }

  app.notFound((c) => c.json({ error: "not_found", message: "No such route." }, 404));
  return app;
}
