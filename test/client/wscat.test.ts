/**
 * The wscat recipes, run for real against a gateway, so the docs cannot drift: the two below
 * (header + `-x`, subprotocol + typed prompt), and every `wscat` command line in README.md.
 *
 * wscat quits when its standard input ends, so a recipe runs with stdin held open, as a terminal
 * would; the interactive one runs under `script`, in a pseudo-terminal, to check what a person sees.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Gateway, ROOT } from "../helpers/gateway.ts";
import { within } from "../helpers/wait.ts";

const T = 30_000;
const WSCAT = join(ROOT, "node_modules", ".bin", "wscat");

/** The recipes as the README gives them. */
const RECIPES = {
  header: `npx wscat -H "Authorization: Bearer $TOKEN" -c ws://127.0.0.1:3000/ws/claude -x '{"prompt":"Say hello"}' -w -1`,
  subprotocol: `npx wscat -s claude.v1 -s "bearer.$TOKEN" -c ws://127.0.0.1:3000/ws/claude`,
};

let gw: Gateway;
beforeAll(async () => {
  gw = await Gateway.start();
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

/** A recipe pointed at the test gateway and the project's own wscat. */
function localize(recipe: string): string {
  return recipe.replace(/^(npx )?wscat /, `${WSCAT} `).replaceAll("ws://127.0.0.1:3000", `ws://127.0.0.1:${gw.port}`);
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Runs a `-x` recipe with stdin open (as in a terminal) and returns its stdout and exit code. */
async function runExecute(recipe: string): Promise<{ code: number; lines: string[] }> {
  const proc = Bun.spawn(["bash", "-c", localize(recipe)], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...process.env, TOKEN: await gw.token() } });
  try {
    const [code, out] = await within(Promise.all([proc.exited, new Response(proc.stdout).text()]), "wscat to exit", 20_000);
    return { code, lines: out.split("\n").filter((l) => l.trim() !== "") };
  } finally {
    proc.kill();
  }
}

/**
 * Runs a recipe interactively in a pseudo-terminal: waits for the hello, types `typed` and Enter,
 * and returns the screen's lines once wscat exits.
 */
async function runInteractive(recipe: string, typed: string): Promise<{ code: number; lines: string[] }> {
  const proc = Bun.spawn(["script", "-qfec", localize(recipe), "/dev/null"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, TOKEN: await gw.token() },
  });
  let screen = "";
  let sawHello!: () => void;
  const hello = new Promise<void>((resolve) => (sawHello = resolve));
  const read = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      screen += decoder.decode(chunk, { stream: true });
      if (screen.includes('"type":"gateway.hello"')) sawHello();
    }
  })();
  try {
    await within(hello, "wscat to show the gateway's hello", 15_000);
    proc.stdin.write(`${typed}\n`);
    await proc.stdin.flush();
    const code = await within(proc.exited, "wscat to exit when the gateway closes", 20_000);
    await read;
    const lines = screen
      .replace(ANSI, "")
      .split(/\r?\n|\r/)
      .map((l) => l.replace(/^> /, "").trim())
      .filter((l) => l !== "");
    return { code, lines };
  } finally {
    proc.kill();
  }
}

const types = (lines: string[]) => lines.filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { type: string }).type);

describe("the wscat recipes", () => {
  test("-H Authorization with -x sends the prompt, prints one frame per line, and exits when the gateway closes", async () => {
    const { code, lines } = await runExecute(RECIPES.header);
    expect(code).toBe(0);
    expect(types(lines)).toEqual(["gateway.hello", "gateway.started", "system", "assistant", "result", "gateway.exit"]);
    expect(lines.find((l) => l.includes('"type":"assistant"'))).toContain('"text":"echo: Say hello"');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: "gateway.exit", code: 0, reason: "completed" });
  }, T);

  test("-s claude.v1 -s bearer.$TOKEN, typing the prompt, shows each frame and the close code", async () => {
    const { code, lines } = await runInteractive(RECIPES.subprotocol, '{"prompt":"Say hello"}');
    expect(code).toBe(0);
    expect(lines[0]).toBe("Connected (press CTRL+C to quit)");
    expect(lines[1]).toStartWith('< {"type":"gateway.hello","protocol":"claude.v1",');
    expect(lines).toContain('{"prompt":"Say hello"}'); // the typed line, echoed by the terminal
    expect(lines.filter((l) => l.startsWith("< {")).map((l) => (JSON.parse(l.slice(2)) as { type: string }).type)).toEqual([
      "gateway.hello",
      "gateway.started",
      "system",
      "assistant",
      "result",
      "gateway.exit",
    ]);
    expect(lines.at(-1)).toBe('Disconnected (code: 1000, reason: "completed")');
  }, T);

  test("every wscat command in README.md runs against the gateway", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const commands = [...readme.matchAll(/^(?:\$ )?((?:npx )?wscat -[A-Za-z-].*)$/gm)].map((m) => m[1]!.trim());
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      if (/(^|\s)-x\s/.test(command)) {
        const { code, lines } = await runExecute(command);
        expect(code).toBe(0);
        expect(lines.join("\n")).toContain("gateway.exit");
      } else {
        const { code, lines } = await runInteractive(command, '{"prompt":"Say hello"}');
        expect(code).toBe(0);
        expect(lines.at(-1)).toBe('Disconnected (code: 1000, reason: "completed")');
      }
    }
  }, 60_000);
});
