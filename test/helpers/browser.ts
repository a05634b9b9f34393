/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core
 * (no browser download), a fresh profile per launch, removed on dispose.
 *
 * Without chromium the browser tests skip with a warning on a developer's machine, and fail
 * loudly under CI=true: a CI that silently skipped them would pass without testing the client.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./gateway.ts";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];
/** Screenshots and other things a person may want to look at after a run (gitignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts");

const inCi = process.env.CI === "true";
/** True when the browser tests cannot run here and may be skipped (never in CI). */
export const skipBrowserTests = !existsSync(CHROMIUM_PATH) && !inCi;
if (skipBrowserTests) {
  console.warn(`\n⚠ browser tests SKIPPED: no chromium at ${CHROMIUM_PATH} (apt-get install -y chromium). Under CI=true they fail instead.\n`);
}

export class Browser {
  /** Every uncaught page error and console.error, so a test can assert the page stayed clean. */
  readonly pageErrors: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    private readonly profileDir: string,
  ) {}

  static async launch(): Promise<Browser> {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`chromium is missing at ${CHROMIUM_PATH}: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`);
    }
    const profileDir = mkdtempSync(join(tmpdir(), "gw-chromium-"));
    try {
      const context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 900 },
        timeout: 30_000,
      });
      return new Browser(context, profileDir);
    } catch (err) {
      rmSync(profileDir, { recursive: true, force: true });
      throw err;
    }
  }

  async newPage(): Promise<Page> {
    const page = await this.context.newPage();
    page.on("pageerror", (err) => this.pageErrors.push(`pageerror: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") this.pageErrors.push(`console.error: ${msg.text()}`);
    });
    return page;
  }

  /** Saves a full-page screenshot under test-artifacts/ and returns its path. */
  static async screenshot(page: Page, name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, name);
    await page.evaluate("window.scrollTo(0, 0)"); // else a sticky panel is drawn where the scrolled viewport had it
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.context.close();
    } finally {
      rmSync(this.profileDir, { recursive: true, force: true });
    }
  }
}

/**
 * Starts two things at once and hands over whatever started before reporting a failure, so that
 * afterAll stops it: with Promise.all, a browser that fails to launch would orphan the gateway.
 */
export async function startTogether<A, B>(a: Promise<A>, b: Promise<B>, keep: (a: A | undefined, b: B | undefined) => void): Promise<void> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  keep(ra.status === "fulfilled" ? ra.value : undefined, rb.status === "fulfilled" ? rb.value : undefined);
  for (const r of [ra, rb]) if (r.status === "rejected") throw r.reason;
}
