/**
 * websocketd (the reference): one websocketd per emitter mode, logging errors only, children
 * getting the same environment the gateway's do. Absent → null, and the bench says so.
 */
import { collectText, spawnTracked, stopProcess } from "../processes.ts";
import { freePort, waitForPort } from "../wait.ts";
import type { RunningServer, StartOptions, WsTarget } from "./target.ts";

export function websocketdTarget(emitter: string): WsTarget | null {
  const bin = Bun.which("websocketd");
  if (bin === null) return null;
  return {
    name: "websocketd",
    async start(mode: string[], start: StartOptions = {}): Promise<RunningServer> {
      const port = freePort();
      const argv = [bin, "--address=127.0.0.1", `--port=${port}`, "--loglevel=error", "--passenv=PATH,HOME,LANG", "--", start.bin ?? emitter, ...mode];
      const proc = spawnTracked(argv, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", LANG: process.env.LANG ?? "C.UTF-8" } });
      const stderr = collectText(proc.stderr);
      void proc.stdout.pipeTo(new WritableStream()).catch(() => {});
      const exited = proc.exited.then((code) => {
        throw new Error(`websocketd exited (${code}) before listening:\n${stderr.text()}`);
      });
      try {
        await Promise.race([waitForPort(port, "websocketd to listen"), exited]);
      } catch (err) {
        await stopProcess(proc);
        throw err;
      }
      return {
        name: "websocketd",
        pid: proc.pid,
        port,
        url: `ws://127.0.0.1:${port}/`,
        promptFrame: null,
        headers: async () => ({}),
        stop: () => stopProcess(proc),
      };
    },
  };
}

/** `websocketd --version`, or null. */
export async function websocketdVersion(): Promise<string | null> {
  const bin = Bun.which("websocketd");
  if (bin === null) return null;
  const proc = Bun.spawn([bin, "--version"], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  return (out + err).trim().split("\n")[0] ?? null;
}
