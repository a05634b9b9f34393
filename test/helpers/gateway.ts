/**
 * Starts the real gateway (`bun server.ts`) as a child process on port 0 with the fake CLI, and
 * reads its JSON log lines — the "listening" line is its readiness signal and carries the port.
 */
import type { Subprocess } from "bun";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { mintToken } from "../../lib/mint-token.ts";
import { within } from "./wait.ts";
import { TestClient } from "./ws-client.ts";

export const ROOT = resolve(import.meta.dir, "..", "..");
export const FAKE_CLAUDE = join(ROOT, "test", "fixtures", "fake-claude.ts");
/** The HS256 secret test gateways verify with (utf8, 44 bytes). */
export const TEST_SECRET = "test-secret-for-the-gateway-suite-0123456789";

/** How a test client carries its token. */
export type Transport = "subprotocol" | "header" | "query" | "message" | "none";

export interface ConnectOptions {
  /** Defaults to a fresh user per connection, so per-user limits only bite where a test wants them. */
  sub?: string;
  /** A ready token; otherwise one is minted for `sub`. */
  token?: string;
  transport?: Transport;
  ttlS?: number;
  claims?: Record<string, unknown>;
  /** Extra subprotocols offered before `claude.v1`. */
  headers?: Record<string, string>;
}

let users = 0;

/**
 * A directory holding `bun` → this very bun binary. npm's install names it `bun.exe`, so the
 * directory of process.execPath does not always answer to `bun`.
 */
function bunOnPath(): string {
  const dir = join(tmpdir(), `gw-bun-${process.pid}`);
  if (!existsSync(join(dir, "bun"))) {
    mkdirSync(dir, { recursive: true });
    symlinkSync(process.execPath, join(dir, "bun"));
  }
  return dir;
}

export type LogLine = { msg?: string; level?: number; [key: string]: unknown };

export interface GatewayOptions {
  env?: Record<string, string>;
  /** Reuse a state dir (crash-reaping tests); a fresh temp dir otherwise. */
  stateDir?: string;
}

export class Gateway {
  readonly logs: LogLine[] = [];
  /** Every byte the gateway wrote to stdout/stderr, for leak checks. */
  output = "";
  port = 0;
  readonly exited: Promise<number>;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    readonly stateDir: string,
    private readonly ownsStateDir: boolean,
  ) {
    this.exited = proc.exited;
    void this.read(proc.stdout, true);
    void this.read(proc.stderr, false);
  }

  static async start(options: GatewayOptions = {}): Promise<Gateway> {
    const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "gw-state-"));
    const proc = Bun.spawn([process.execPath, join(ROOT, "server.ts")], {
      cwd: ROOT,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: {
        // The fake CLI's shebang finds bun on PATH.
        PATH: `${bunOnPath()}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        HOME: process.env.HOME ?? "/tmp",
        PORT: "0",
        STATE_DIR: stateDir,
        CLAUDE_BIN: FAKE_CLAUDE,
        KILL_GRACE_MS: "500",
        LOG_LEVEL: "debug",
        JWT_SECRET: TEST_SECRET,
        ...options.env,
      },
    });
    const gw = new Gateway(proc, stateDir, options.stateDir === undefined);
    const listening = await within(gw.waitLog((l) => l.msg === "listening"), "the gateway to listen", 15_000).catch((err) => {
      proc.kill("SIGKILL");
      throw new Error(`${(err as Error).message}\n${gw.output}`);
    });
    gw.port = listening.port as number;
    return gw;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws/claude`;
  }

  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A token the gateway accepts (HS256 with TEST_SECRET). */
  token(sub = `user-${++users}`, ttlS = 300, claims?: Record<string, unknown>): Promise<string> {
    return mintToken({ secret: new TextEncoder().encode(TEST_SECRET), sub, ttlS, claims });
  }

  /** Connect with a token (by default in the subprotocol, as a browser would). */
  async connect(options: ConnectOptions = {}): Promise<TestClient> {
    const transport = options.transport ?? "subprotocol";
    const token = options.token ?? (transport === "none" ? "" : await this.token(options.sub, options.ttlS, options.claims));
    const url = transport === "query" ? `${this.url}?token=${encodeURIComponent(token)}` : this.url;
    const protocols = transport === "subprotocol" ? ["claude.v1", `bearer.${token}`] : ["claude.v1"];
    const headers = { ...options.headers, ...(transport === "header" && { authorization: `Bearer ${token}` }) };
    const client = await TestClient.connect(url, protocols, headers);
    if (transport === "message") client.send({ type: "auth", token });
    return client;
  }

  /** The first log line matching `pred`, waiting for it if needed. */
  waitLog(pred: (l: LogLine) => boolean): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.logs.find(pred);
        if (hit) return resolve(hit);
        if (this.proc.exitCode !== null || this.proc.signalCode !== null) return reject(new Error(`gateway exited; output:\n${this.output}`));
        this.waiters.push(check);
      };
      check();
    });
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGTERM");
    return within(this.exited, "the gateway to exit", 20_000);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill("SIGTERM");
      await within(this.exited, "the gateway to exit", 20_000).catch(() => this.proc.kill("SIGKILL"));
    }
    if (this.ownsStateDir) rmSync(this.stateDir, { recursive: true, force: true });
  }

  private async read(stream: ReadableStream<Uint8Array>, parse: boolean): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      this.output += text;
      if (!parse) continue;
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
