/**
 * A WebSocket server under test. Each is started for one emitter mode: websocketd fixes the
 * command line at start-up, the gateway takes the mode as the prompt of each connection.
 */
export type TargetName = "gateway" | "websocketd";

export interface StartOptions {
  /** Extra environment for the server (gateway only). */
  env?: Record<string, string>;
  /** The CLI to run instead of the emitter (the real-CLI measurement). */
  bin?: string;
}

export interface RunningServer {
  readonly name: TargetName;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** The first client frame (the prompt), sent after `gateway.hello`; null: the process starts on connect. */
  readonly promptFrame: string | null;
  /** Request headers for one new connection (the gateway's auth hook). */
  headers(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export interface WsTarget {
  readonly name: TargetName;
  /** Start a server whose connections each run the emitter in `mode`, e.g. ["lines", "1000", "200"]. */
  start(mode: string[], options?: StartOptions): Promise<RunningServer>;
}

/**
 * Start one server per target for `mode`, run `fn` against them all, stop them whatever
 * happens. Scenarios alternate between the servers repetition by repetition, so a burst of
 * load from elsewhere on the machine lands on every target alike.
 */
export async function withServers<T>(targets: readonly WsTarget[], mode: string[], fn: (servers: RunningServer[]) => Promise<T>, options?: StartOptions): Promise<T> {
  const servers: RunningServer[] = [];
  try {
    for (const t of targets) servers.push(await t.start(mode, options));
    return await fn(servers);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Start a server for `mode`, run `fn` against it, and stop it whatever happens. */
export async function withServer<T>(target: WsTarget, mode: string[], fn: (server: RunningServer) => Promise<T>, options?: StartOptions): Promise<T> {
  const server = await target.start(mode, options);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
