/**
 * useClaudeSocket in Chromium, under React StrictMode (development build), against a real
 * gateway: what the gateway sees — sockets opened and closed, runs started — is the evidence.
 *
 * The page comes from its own small server on another port, as an app's page would, so the
 * gateway runs with ALLOWED_ORIGINS naming it. (Fulfilling it through Playwright's routing does
 * not work: Chromium then treats the page as public and its Local Network Access check blocks the
 * socket to 127.0.0.1.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Server } from "bun";
import type { Page } from "playwright-core";
import { bundleBrowserScript } from "../../lib/client/build.ts";
import { Browser, skipBrowserTests, startTogether } from "../helpers/browser.ts";
import { Gateway, ROOT, type LogLine } from "../helpers/gateway.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
const SIM = join(ROOT, "lib", "claude-sim", "claude-sim.ts");
const PAGE_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hook test</title><link rel="icon" href="data:,"></head>
<body><div id="root"></div><button id="unmount">Unmount</button><script type="module" src="/hook-page.js"></script></body></html>`;

let gw: Gateway;
let browser: Browser;
let pages: Server<undefined> | undefined;
let users = 0;

beforeAll(async () => {
  if (skipBrowserTests) return;
  const bundle = await bundleBrowserScript(join(import.meta.dir, "pages", "hook-page.ts"), { nodeEnv: "development" });
  pages = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) =>
      new URL(req.url).pathname === "/hook-page.js"
        ? new Response(bundle, { headers: { "content-type": "text/javascript; charset=utf-8" } })
        : new Response(PAGE_HTML, { headers: { "content-type": "text/html; charset=utf-8" } }),
  });
  await startTogether(
    Gateway.start({ env: { CLAUDE_BIN: SIM, PERMISSION_PROMPTS: "true", ALLOWED_ORIGINS: `http://127.0.0.1:${pages.port}` } }),
    Browser.launch(),
    (g, b) => {
      gw = g!;
      browser = b!;
    },
  );
});
afterAll(async () => {
  await browser?.[Symbol.asyncDispose]();
  await gw?.[Symbol.asyncDispose]();
  await pages?.stop(true);
});

interface HookPage {
  page: Page;
  /** Every token the page's getToken was given, in order. */
  tokens: string[];
  /** Gateway log lines since the page was opened. */
  logs(msg: string): LogLine[];
}

/** Opens the test page; its getToken mints on the test side and records each token. */
async function openHookPage(scenario: string): Promise<HookPage> {
  const page = await browser.newPage();
  const tokens: string[] = [];
  const sub = `hook-user-${++users}`;
  await page.exposeFunction("mintToken", async () => {
    const token = await gw.token(sub, 300, { jti: crypto.randomUUID() }); // distinct even within one second
    tokens.push(token);
    return token;
  });
  const mark = gw.logs.length;
  await page.goto(`http://127.0.0.1:${pages!.port}/?scenario=${scenario}&gateway=${gw.port}`);
  return { page, tokens, logs: (msg) => gw.logs.slice(mark).filter((l) => l.msg === msg) };
}

const text = async (page: Page, id: string) => (await page.textContent(`#${id}`)) ?? "";
const waitText = (page: Page, id: string, value: string) => page.locator(`#${id}`).filter({ hasText: value }).waitFor({ timeout: 15_000 });

async function connections(): Promise<number> {
  const health = (await (await fetch(`${gw.http}/health`)).json()) as { connections: number };
  return health.connections;
}

describe.skipIf(skipBrowserTests)("useClaudeSocket under React StrictMode", () => {
  test("opens exactly one socket for the double mount, with one fresh token, and closes it on unmount", async () => {
    const { page, tokens, logs } = await openHookPage("autoconnect");
    await waitText(page, "status", "ready");
    expect(logs("connection opened")).toHaveLength(1);
    expect(tokens).toHaveLength(1); // the first mount's connect was cancelled before it asked for a token
    expect(await connections()).toBe(1);

    await page.click("#unmount");
    await waitFor(() => logs("connection closed").length === 1, "the gateway to log the socket's close");
    await waitFor(async () => (await connections()) === 0, "/health to count no connections");
    expect(logs("connection opened")).toHaveLength(1);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  }, T);

  test("runs a prompt sent from a mount effect once, not twice", async () => {
    const { page, tokens, logs } = await openHookPage("send-on-mount");
    await waitText(page, "close", "1000 completed");
    expect(await text(page, "text")).toBe("Simulated reply to: hook prompt on mount");
    expect(logs("connection opened")).toHaveLength(1);
    expect(logs("run started")).toHaveLength(1);
    expect(tokens).toHaveLength(1);
    expect(await text(page, "count")).toBe("1");
    await page.close();
  }, T);

  test("fetches a fresh token before each connect", async () => {
    const { page, tokens, logs } = await openHookPage("manual");
    await page.click("#send");
    await waitText(page, "close", "1000 completed");
    expect(await text(page, "text")).toBe("Simulated reply to: hook prompt 1");
    await page.click("#send"); // the one-shot socket is closed: this connects again
    await waitText(page, "text", "Simulated reply to: hook prompt 2");
    await waitText(page, "close", "1000 completed");
    expect(tokens).toHaveLength(2);
    expect(new Set(tokens).size).toBe(2);
    expect(logs("connection opened")).toHaveLength(2);
    expect(logs("run started")).toHaveLength(2);
    await page.close();
  }, T);

  test("lists a pending permission and answers it", async () => {
    const { page } = await openHookPage("manual");
    await page.click("#send-tools");
    await page.locator("#permissions li").waitFor();
    expect(await text(page, "permissions")).toContain("Bash: ls -la dir1");
    await page.click("#permissions button.allow");
    await waitText(page, "close", "1000 completed");
    expect(await page.locator("#permissions li").count()).toBe(0);
    expect(await text(page, "text")).toBe("Simulated reply to: tools 1 from the hook");
    await page.close();
  }, T);
});
