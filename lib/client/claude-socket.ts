/**
 * A `claude.v1` client for the browser (and Bun): one logical conversation over the gateway's
 * `/ws/claude`, with typed frames, the transcript, permission answers, and reconnects that follow
 * the close-code registry. Uses only the standard WebSocket API, so the same file runs anywhere.
 *
 * @example
 * const claude = new ClaudeSocket({ url: "wss://app.example.com/ws/claude", getToken: () => fetchToken() });
 * claude.on("state", (s) => render(s.messages, s.status));
 * claude.on("close", (c) => c.kind === "final" && showLogin(c.explain));
 * claude.send("Summarise README.md", { mode: "interactive", includePartialMessages: true });
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.ts";
import type {
  ClaudeSocketEvents,
  ClaudeSocketOptions,
  ClaudeSocketState,
  GatewayErrorInfo,
  PermissionRequest,
  RunOptions,
  SendOptions,
  SocketLike,
  SocketStatus,
} from "./claude-socket-types.ts";
import { describeClose, type CloseInfo } from "./close-codes.ts";
import { isCanUseTool, parseFrame } from "./frames.ts";
import { Transcript } from "./transcript.ts";

export type * from "./claude-socket-types.ts";

export const PROTOCOL = "claude.v1";

type PromptFrame = { type: "prompt"; prompt: string; meta?: string; options?: RunOptions };
type Listener<K extends keyof ClaudeSocketEvents> = (payload: ClaudeSocketEvents[K]) => void;

const OPEN = 1;
const CLIENT_CLOSE: Omit<CloseInfo, "retryInMs" | "error"> = {
  code: 1000,
  reason: "client_closed",
  byClient: true,
  key: undefined,
  kind: "ended",
  retry: false,
  explain: "You closed the connection; the gateway stops any run it had started.",
};

export class ClaudeSocket {
  private readonly transcript = new Transcript();
  private readonly listeners = new Map<keyof ClaudeSocketEvents, Set<Listener<never>>>();
  private readonly backoff: BackoffOptions | false;
  private snapshot: ClaudeSocketState;
  private ws: SocketLike | null = null;
  /** The current connection's token, for an `auth` message if the gateway asks for one. */
  private token: string | null = null;
  /** Bumped by every open and close: events from an older socket or an aborted connect are ignored. */
  private generation = 0;
  private retryTimer: unknown = undefined;
  private attempt = 0;
  /** connect() was called: keep a socket open even without a prompt. */
  private keepOpen = false;
  /** The prompt of the current run: sent on hello, re-sent after a retryable close if it never started. */
  private pending: PromptFrame | null = null;
  private pendingSent = false;
  private started = false;
  private turnLive = false;
  private status: SocketStatus = "idle";
  private pendingPermissions: PermissionRequest[] = [];
  private lastClose: CloseInfo | null = null;
  private lastError: GatewayErrorInfo | null = null;
  private sessionId: string | null = null;
  private mode: "oneshot" | "interactive" | null = null;
  private queuePosition: number | null = null;

  constructor(private readonly options: ClaudeSocketOptions) {
    this.backoff = options.reconnect === false ? false : { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.snapshot = this.makeSnapshot();
  }

  /** The current state; a new object after every change. */
  get state(): ClaudeSocketState {
    return this.snapshot;
  }

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof ClaudeSocketEvents>(type: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Open a socket and keep it open (reconnecting on retryable closes) until close(). */
  connect(): void {
    this.keepOpen = true;
    if (this.ws === null && this.status !== "connecting" && this.status !== "reconnecting") this.open();
  }

  /**
   * Start a run with `prompt`, connecting first if needed. In an interactive run that is already
   * going, this is a follow-up. Throws if a one-shot run is still in progress.
   */
  send(prompt: string, options: SendOptions = {}): void {
    if (this.pending !== null && this.started && this.mode === "interactive") return this.followUp(prompt);
    if (this.pending !== null) throw new Error("A run is already in progress on this socket; wait for it to end.");
    const { meta, ...runOptions } = options;
    const opts = Object.fromEntries(Object.entries(runOptions).filter(([, v]) => v !== undefined)) as RunOptions;
    this.pending = {
      type: "prompt",
      prompt,
      ...(meta !== undefined && meta !== "" && { meta }),
      ...(Object.keys(opts).length > 0 && { options: opts }),
    };
    this.pendingSent = false;
    this.started = false;
    this.attempt = 0;
    this.mode = opts.mode ?? "oneshot";
    this.lastError = null;
    this.transcript.addPrompt(prompt, false);
    if (this.ws !== null && this.status === "ready") this.transmit();
    else if (this.ws === null && this.status !== "connecting" && this.status !== "reconnecting") this.open();
    this.publish();
  }

  /** A further user turn in an interactive run; queued by the gateway if a turn is running. */
  followUp(prompt: string): void {
    if (this.ws === null || this.pending === null || this.mode !== "interactive") {
      throw new Error("Follow-ups need an interactive run in progress.");
    }
    this.ws.send(JSON.stringify({ type: "user", prompt }));
    this.transcript.addPrompt(prompt, true);
    this.turnLive = true;
    this.status = "running";
    this.publish();
  }

  /** Ask the CLI to stop the running turn (interactive runs). Returns whether anything was sent. */
  interrupt(): boolean {
    if (this.ws === null || !this.turnLive) return false;
    this.ws.send(JSON.stringify({ type: "interrupt" }));
    return true;
  }

  /**
   * Answer a `can_use_tool` request. An `allow` without `updatedInput` sends the tool's input as
   * the CLI asked it.
   */
  respondToPermission(requestId: string, behavior: "allow" | "deny", answer: { message?: string; updatedInput?: Record<string, unknown> } = {}): void {
    if (this.ws === null) throw new Error("Not connected.");
    const request = this.pendingPermissions.find((p) => p.requestId === requestId);
    const updatedInput = behavior === "allow" ? (answer.updatedInput ?? request?.input) : undefined;
    this.ws.send(
      JSON.stringify({
        type: "permission",
        requestId,
        behavior,
        ...(answer.message !== undefined && answer.message !== "" && { message: answer.message }),
        ...(updatedInput !== undefined && { updatedInput }),
      }),
    );
    this.pendingPermissions = this.pendingPermissions.filter((p) => p.requestId !== requestId);
    this.transcript.answerPermission(requestId, behavior);
    this.publish();
  }

  /** Send a fresh token on the open socket, to outlive the first one's `exp`. */
  async reauthenticate(): Promise<void> {
    const ws = this.ws;
    const token = (await this.options.getToken()).trim();
    if (ws === null || ws !== this.ws) return;
    ws.send(JSON.stringify({ type: "auth", token }));
  }

  /** Close the socket (the gateway stops any run) and cancel any pending connect or reconnect. */
  close(): void {
    this.keepOpen = false;
    this.pending = null;
    this.cancelRetry();
    this.generation++;
    const ws = this.ws;
    this.ws = null;
    const wasActive = ws !== null || this.status === "connecting" || this.status === "reconnecting";
    if (ws !== null) {
      try {
        ws.close(1000, "client_closed");
      } catch {
        // already closing
      }
    }
    if (!wasActive) return;
    this.endRun();
    this.finishClose({ ...CLIENT_CLOSE });
  }

  private open(): void {
    const gen = ++this.generation;
    this.status = "connecting";
    this.publish();
    void this.openAsync(gen);
  }

  private async openAsync(gen: number): Promise<void> {
    // A close() in the same tick (React StrictMode's unmount) cancels this before a token is fetched.
    await Promise.resolve();
    if (gen !== this.generation) return;
    let ws: SocketLike;
    try {
      const token = (await this.options.getToken()).trim();
      if (gen !== this.generation) return;
      ws = this.createSocket(this.options.url, [PROTOCOL, `bearer.${token}`]);
      this.token = token;
    } catch (err) {
      if (gen !== this.generation) return;
      this.endRun();
      this.finishClose({
        code: 0,
        reason: "connect_failed",
        byClient: false,
        key: undefined,
        kind: "final",
        retry: false,
        explain: `Could not connect: ${(err as Error).message ?? String(err)}`,
      });
      return;
    }
    this.ws = ws;
    this.pendingSent = false;
    this.lastError = null;
    ws.onmessage = (e) => {
      if (gen === this.generation && typeof e.data === "string") this.onMessage(e.data);
    };
    ws.onclose = (e) => {
      if (gen === this.generation) this.onClose(e.code, e.reason);
    };
    ws.onerror = () => {}; // a close event always follows, with the code
  }

  private createSocket(url: string, protocols: string[]): SocketLike {
    if (this.options.createSocket) return this.options.createSocket(url, protocols);
    return new WebSocket(url, protocols) as unknown as SocketLike;
  }

  private onMessage(raw: string): void {
    const frame = parseFrame(raw);
    this.emit("frame", { frame, raw });
    switch (frame.type) {
      case "gateway.hello":
        if (frame.auth === "refused") break; // an error and the close follow
        // The subprotocol did not arrive (a proxy dropped it?): the same token goes in a message,
        // and the gateway holds frames sent behind it until it is verified.
        if (frame.auth === "required" && this.token !== null) this.ws?.send(JSON.stringify({ type: "auth", token: this.token }));
        this.status = "ready";
        if (this.pending !== null && !this.pendingSent) this.transmit();
        break;
      case "gateway.queued":
        this.queuePosition = frame.position;
        break;
      case "gateway.started":
        this.started = true;
        this.attempt = 0; // the request got through: a later failure starts the backoff afresh
        this.queuePosition = null;
        break;
      case "system":
        if (frame.subtype === "init" && frame.session_id) this.sessionId = frame.session_id;
        break;
      case "result":
        this.turnLive = false;
        if (frame.session_id) this.sessionId = frame.session_id;
        if (this.mode === "interactive" && this.ws !== null) this.status = "awaiting_followup";
        break;
      case "gateway.exit":
        this.turnLive = false;
        this.pendingPermissions = [];
        if (frame.summary?.sessionId) this.sessionId = frame.summary.sessionId;
        break;
      case "gateway.error":
        this.lastError = { code: frame.code, message: frame.message, ...(frame.retryAfterMs !== undefined && { retryAfterMs: frame.retryAfterMs }) };
        this.emit("error", this.lastError);
        break;
      case "control_request":
        if (isCanUseTool(frame.request)) {
          const r = frame.request;
          const request = { requestId: frame.request_id, toolName: r.tool_name, input: r.input ?? {}, toolUseId: r.tool_use_id };
          this.pendingPermissions = [...this.pendingPermissions, request];
          this.emit("permission", request);
        }
        break;
      case "gateway.permission_resolved":
        this.pendingPermissions = this.pendingPermissions.filter((p) => p.requestId !== frame.requestId);
        break;
      default:
        break;
    }
    this.transcript.apply(frame);
    this.publish();
  }

  private transmit(): void {
    if (this.ws === null || this.pending === null || this.ws.readyState !== OPEN) return;
    this.ws.send(JSON.stringify(this.pending));
    this.pendingSent = true;
    this.turnLive = true;
    this.status = "running";
  }

  private onClose(code: number, reason: string): void {
    this.ws = null;
    const meaning = describeClose(code, reason);
    // Never replay a prompt the CLI has started on: it may already have acted on it.
    const replay = this.pending !== null && !this.started;
    const idle = this.pending === null && this.keepOpen;
    const backoff = this.backoff;
    const info: CloseInfo = { ...meaning, code, reason, byClient: false, ...(this.lastError !== null && { error: this.lastError }) };
    this.endRun();
    if (meaning.retry && backoff !== false && (replay || idle) && this.attempt < backoff.maxAttempts) {
      this.attempt++;
      const delay = backoffDelay(this.attempt, backoff, this.options.random ?? Math.random, this.lastError?.retryAfterMs);
      info.retryInMs = delay;
      const gen = this.generation;
      this.retryTimer = (this.options.setTimeout ?? globalThis.setTimeout)(() => {
        this.retryTimer = undefined;
        if (gen === this.generation) this.open();
      }, delay);
    }
    this.finishClose(info, info.retryInMs !== undefined);
  }

  /** The run on the socket is over: nothing is pending on it any more. */
  private endRun(): void {
    this.turnLive = false;
    this.pendingPermissions = [];
    this.queuePosition = null;
    this.started = false;
  }

  private finishClose(info: CloseInfo, retrying = false): void {
    this.status = retrying ? "reconnecting" : "closed";
    if (!retrying) this.pending = null;
    this.lastClose = info;
    this.transcript.addClose(info);
    this.publish();
    this.emit("close", info);
  }

  private cancelRetry(): void {
    if (this.retryTimer !== undefined) (this.options.clearTimeout ?? globalThis.clearTimeout)(this.retryTimer as ReturnType<typeof setTimeout>);
    this.retryTimer = undefined;
  }

  private makeSnapshot(): ClaudeSocketState {
    return {
      status: this.status,
      messages: this.transcript.items,
      text: this.transcript.turnText(),
      pendingPermissions: this.pendingPermissions,
      lastClose: this.lastClose,
      lastError: this.lastError,
      sessionId: this.sessionId,
      mode: this.mode,
      queuePosition: this.queuePosition,
    };
  }

  private publish(): void {
    this.snapshot = this.makeSnapshot();
    this.emit("state", this.snapshot);
  }

  private emit<K extends keyof ClaudeSocketEvents>(type: K, payload: ClaudeSocketEvents[K]): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as Listener<K>)(payload);
  }
}
