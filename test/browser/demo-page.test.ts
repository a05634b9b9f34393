/**
 * The demo page in headless Chromium against a real gateway running the CLI simulator: what a
 * person sees for each kind of run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { CLOSE } from "../../lib/errors.ts";
import { Browser, skipBrowserTests, startTogether } from "../helpers/browser.ts";
import { Gateway, ROOT } from "../helpers/gateway.ts";

/** Per test: a browser and a real gateway take longer than bun's 5 s default. */
const T = 30_000;
const SIM = join(ROOT, "lib", "claude-sim", "claude-sim.ts");

let gw: Gateway;
let browser: Browser;

beforeAll(async () => {
  if (skipBrowserTests) return;
  await startTogether(Gateway.start({ env: { CLAUDE_BIN: SIM, PERMISSION_PROMPTS: "true" } }), Browser.launch(), (g, b) => {
    gw = g!;
    browser = b!;
  });
});
afterAll(async () => {
  await browser?.[Symbol.asyncDispose]();
  await gw?.[Symbol.asyncDispose]();
});

/** Opens the page with a token in the fragment, as the gateway's development link does. */
async function openDemo(token?: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${gw.http}/ws-demo.html#token=${token ?? (await gw.token())}`);
  await page.locator("#send:not([disabled])").waitFor();
  return page;
}

/**
 * Page-side script (a string: page code is not type-checked with the tests' Bun types): records
 * every length the reply had and whether the result was on screen yet — proof that text appeared
 * piece by piece before the result, without sampling on a timer.
 */
const TIMELINE_PROBE = `
  window.timeline = [];
  new MutationObserver(() => {
    const len = document.querySelector('#transcript [data-kind="assistant"] .text')?.textContent?.length ?? 0;
    const result = document.querySelector('#transcript [data-kind="result"]') !== null;
    const last = window.timeline.at(-1);
    if (last === undefined || last.len !== len || last.result !== result) window.timeline.push({ len, result });
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;

/** The nth transcript item of a kind (`extra`: more of the selector, e.g. ".pending"); add children with " >> ". */
const item = (kind: string, nth = 0, extra = "") => `#transcript [data-kind="${kind}"]${extra} >> nth=${nth}`;

/** Waits until the element's text contains `text`. */
async function waitText(page: Page, selector: string, text: string, timeout = 15_000): Promise<void> {
  await page.locator(selector).filter({ hasText: text }).waitFor({ timeout });
}

async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? "";
}

async function sendPrompt(page: Page, prompt: string, opts: { interactive?: boolean; partial?: boolean } = {}): Promise<void> {
  await page.fill("#prompt", prompt);
  if (opts.interactive) await page.check("#interactive");
  if (opts.partial) await page.check("#partial");
  await page.click("#send");
}

/** Log lines the gateway wrote after `mark` (an index into gw.logs). */
const logsSince = (mark: number, msg: string) => gw.logs.slice(mark).filter((l) => l.msg === msg);

describe.skipIf(skipBrowserTests)("the demo page", () => {
  test("streams the reply as it is written, then shows the cost summary and close 1000", async () => {
    const page = await browser.newPage();
    await page.addInitScript(TIMELINE_PROBE);
    await page.goto(`${gw.http}/ws-demo.html#token=${await gw.token()}`);
    expect(await page.evaluate<string>("location.hash")).toBe(""); // the token does not stay in the address bar
    await sendPrompt(page, "slow 6", { partial: true });

    await waitText(page, item("close"), "1000");
    const reply = "chunk 1. chunk 2. chunk 3. chunk 4. chunk 5. chunk 6.";
    expect(await textOf(page, `${item("assistant")} >> .text`)).toBe(reply);
    const timeline = await page.evaluate<Array<{ len: number; result: boolean }>>("window.timeline");
    const beforeResult = timeline.filter((t) => !t.result && t.len > 0).map((t) => t.len);
    expect(beforeResult.length).toBeGreaterThanOrEqual(3); // several partial lengths on screen…
    expect(beforeResult.at(-1)).toBe(reply.length); // …growing to the whole reply before the result
    expect(Math.min(...beforeResult)).toBeLessThan(reply.length);

    const result = await textOf(page, item("result"));
    expect(result).toContain("Result: success");
    expect(result).toContain("Cost$0.0012");
    expect(result).toContain("Turns1");
    expect(result).toMatch(/Session[0-9a-f-]{36}/);
    expect(await textOf(page, item("exit"))).toMatch(/^Run ended: completed \(exit code 0, .+\) · cost \$0\.0012 · 1 turns$/);
    expect(await textOf(page, item("close"))).toBe(`Closed 1000 completed: ${CLOSE.completed.explain}`);
    expect(await textOf(page, "#status")).toBe("closed · 1000 completed");
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  }, T);

  test("shows close 4401 and its explanation for a bad token, and does not reconnect", async () => {
    const mark = gw.logs.length;
    const page = await openDemo("not-a-jwt");
    await sendPrompt(page, "hello");
    await waitText(page, item("close"), "4401");
    expect(await textOf(page, item("close"))).toContain(`Closed 4401 token_invalid: ${CLOSE.token_invalid.explain}`);
    expect(await page.getAttribute(item("close"), "data-close-kind")).toBe("final");
    // The gateway's own error is on screen too.
    expect(await textOf(page, '#transcript [data-kind="notice"][data-level="error"]')).toContain("token_invalid");
    await gw.waitLog((l) => gw.logs.indexOf(l) >= mark && l.msg === "connection closed");
    expect(logsSince(mark, "connection opened")).toHaveLength(1);
    expect(await textOf(page, "#status")).toBe("closed · 4401 token_invalid");
    await Browser.screenshot(page, "ws-demo-4401.png");
    await page.close();
  }, T);

  test("asks before each tool call: allowing one and denying the other with a reason", async () => {
    const page = await openDemo();
    await sendPrompt(page, "tools 2");
    await page.locator(item("permission", 0, ".pending")).waitFor();
    expect(await textOf(page, `${item("permission", 0)} >> .who`)).toBe("Claude wants to use Bash");
    expect(await textOf(page, `${item("permission", 0)} >> pre`)).toContain('"command": "ls -la dir1"');
    await page.click(`${item("permission", 0)} >> button.allow`);
    await waitText(page, `${item("permission", 0)} >> .outcome`, "Allowed");

    await page.locator(item("permission", 1, "")).waitFor();
    await page.fill(`${item("permission", 1)} >> input`, "not on this repo");
    await page.click(`${item("permission", 1)} >> button.deny`);
    await waitText(page, item("close"), "1000");

    expect(await textOf(page, `${item("permission", 1)} >> .outcome`)).toBe("Denied");
    expect(await page.locator(`${item("permission", 0)} >> .permission-controls`).isHidden()).toBe(true);
    expect(await textOf(page, item("tool_result", 0))).toContain("$ ls -la dir1");
    expect(await page.getAttribute(item("tool_result", 1), "class")).toContain("error");
    expect(await textOf(page, item("tool_result", 1))).toContain("Permission to use Bash has been denied. not on this repo");
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  }, T);

  test("interrupts a long turn and stays open for the next one", async () => {
    const page = await openDemo();
    await sendPrompt(page, "slow 80", { interactive: true, partial: true });
    await waitText(page, `${item("assistant")} >> .text`, "chunk 2.");
    expect(await page.isEnabled("#interrupt")).toBe(true);
    await page.click("#interrupt");

    await waitText(page, item("result"), "error_during_execution");
    expect(await textOf(page, `${item("assistant")} >> .text`)).not.toContain("chunk 80.");
    expect(await textOf(page, "#transcript")).toContain("The CLI acknowledged a control request.");
    expect(await textOf(page, "#status")).toBe("waiting for a follow-up");
    expect(await page.isVisible("#followup")).toBe(true);
    await page.click("#disconnect");
    await waitText(page, item("close"), "client_closed");
    expect(await page.isHidden("#followup")).toBe(true);
    await page.close();
  }, T);

  test("runs a follow-up turn in interactive mode and keeps the whole conversation on screen", async () => {
    const page = await openDemo();
    await sendPrompt(page, "think tools 1 then list the repository", { interactive: true, partial: true });
    await page.locator(item("permission", 0, ".pending")).waitFor();
    await page.click(`${item("permission")} >> button.allow`);
    await waitText(page, item("result", 0), "success");
    expect(await textOf(page, "#status")).toBe("waiting for a follow-up");

    // The follow-up box, with Enter to send.
    await page.fill("#followup", "cost 0.05 and now summarise it");
    await page.press("#followup", "Enter");
    await waitText(page, item("result", 1), "success");
    expect(await page.inputValue("#followup")).toBe("");
    expect(await textOf(page, `${item("prompt", 1)} >> .who`)).toBe("You (follow-up)");
    expect(await textOf(page, `${item("assistant", 1)} >> .text`)).toBe("Simulated reply to: cost 0.05 and now summarise it");
    expect(await textOf(page, item("result", 1))).toContain("Cost$0.0500");
    const sessions = await page.locator(`#transcript [data-kind="result"] dd:nth-of-type(4)`).allTextContents();
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toBe(sessions[1]!); // one conversation, one session
    expect(await page.locator('#transcript [data-kind="thinking"] details').getAttribute("open")).toBeNull(); // collapsed

    await page.click("#disconnect");
    await waitText(page, item("close"), "client_closed");
    const path = await Browser.screenshot(page, "ws-demo-conversation.png");
    expect(path).toEndWith("ws-demo-conversation.png");
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  }, T);

  test("shows the CLI's stderr, its exit and close 1011 when it crashes", async () => {
    const page = await openDemo();
    await sendPrompt(page, "crash");
    await waitText(page, item("close"), "1011");
    expect(await textOf(page, '#transcript [data-kind="notice"][data-level="warning"]')).toContain("claude-sim: simulated crash");
    expect(await textOf(page, item("exit"))).toContain("Run ended: failed (exit code 2");
    expect(await textOf(page, item("close"))).toBe(`Closed 1011 failed: ${CLOSE.failed.explain}`);
    await page.close();
  }, T);

  test("works from the keyboard: labelled fields in order, Enter sends", async () => {
    const page = await openDemo();
    await page.focus("#token");
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      order.push(await page.evaluate<string>("document.activeElement?.id ?? ''"));
      await page.keyboard.press("Tab");
    }
    // Disconnect and Interrupt are disabled before a run, so Tab skips them.
    expect(order).toEqual(["token", "connect", "prompt", "meta", "model", "interactive", "partial", "send"]);
    for (const label of ["Token", "Prompt", "Model (optional)", "Interactive mode (follow-ups)", "Partial messages (stream text as it is written)"]) {
      expect(await page.getByLabel(label, { exact: true }).count()).toBe(1);
    }
    await page.focus("#prompt");
    await page.keyboard.press("Control+A");
    await page.keyboard.type("typed and sent with Enter");
    await page.keyboard.press("Enter");
    await waitText(page, item("close"), "1000");
    expect(await textOf(page, `${item("prompt")} >> .text`)).toBe("typed and sent with Enter");
    await page.close();
  }, T);

  test("fits a phone screen without sideways scrolling", async () => {
    const page = await openDemo();
    await page.setViewportSize({ width: 390, height: 844 });
    await sendPrompt(page, "think tools 1 with a reply long enough to wrap across several lines of a narrow screen");
    await page.locator(item("permission", 0, ".pending")).waitFor();
    await page.click(`${item("permission")} >> button.allow`);
    await waitText(page, item("close"), "1000");
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(overflow).toBe(0);
    await Browser.screenshot(page, "ws-demo-phone.png");
    await page.close();
  }, T);
});

describe.skipIf(skipBrowserTests)("the demo page in development", () => {
  test("fills the token box from /dev-token when the gateway has no key configured", async () => {
    await using dev = await Gateway.start({ env: { JWT_SECRET: "", CLAUDE_BIN: SIM } });
    const page = await browser.newPage();
    await page.goto(`${dev.http}/ws-demo.html`);
    await page.waitForFunction("document.getElementById('token').value.length > 20");
    expect(await textOf(page, "#token-hint")).toContain("/dev-token");
    await sendPrompt(page, "hello from development");
    await waitText(page, item("close"), "1000");
    expect(await textOf(page, `${item("assistant")} >> .text`)).toBe("Simulated reply to: hello from development");
    await page.close();
  }, T);
});
