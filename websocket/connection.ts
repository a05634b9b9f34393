/**
 * One socket's life: hello, authentication (handshake token or first message), admission, one
 * validated prompt → one run, token expiry, and the close. Everything it sends goes through the
 * SocketSink, in order.
 */
import type { ServerWebSocket } from "bun";
import { randomUUID } from "node:crypto";
import type { Principal, TokenVerifier } from "../lib/auth/verifier.ts";
import { childEnv } from "../lib/child-env.ts";
import type { Config } from "../lib/config.ts";
import { GatewayError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { Admission, RunTicket } from "./admission.ts";
import { ClaudeClaimSchema, narrow, type EffectivePolicy } from "../lib/claude-policy.ts";
import type { ClientFrameParser } from "./client-frames.ts";
import { Conversation } from "./conversation.ts";
import { planRun } from "./run-plan.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { SessionRegistry } from "./session-registry.ts";
import { workspaceFor } from "./workspace.ts";
import type { ProcessManager } from "./process-manager.ts";
import { Run, type RunSummary } from "./run.ts";
import {
  PROTOCOL,
  type ClientFrame,
  type InterruptFrame,
  type PermissionFrame,
  type PromptFrame,
  type ServerFrame,
  type UserFrame,
} from "./schemas.ts";
import { SocketSink } from "./socket-sink.ts";
import type { ConnectionData } from "./upgrade.ts";

export interface ConnectionDeps {
  config: Config;
  manager: ProcessManager;
  admission: Admission;
  verifier: TokenVerifier;
  parse: ClientFrameParser;
  sessions: SessionRegistry;
  metrics: Metrics;
  log: Logger;
}

/** Refusals counted as auth/admission refusals in the metrics. */
const AUTH_CODES = new Set(["bad_request", "token_missing", "token_invalid", "token_expired", "forbidden", "auth_timeout", "rate_limited", "auth_unavailable"]);

/** setTimeout's ceiling (~24.8 days); Passport tokens live a year. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Frames a client may pipeline behind its auth message while the token is being verified. */
const MAX_FRAMES_DURING_AUTH = 8;

export class Connection {
  readonly id = randomUUID();
  log: Logger;
  readonly sink: SocketSink;
  private readonly openedAt = performance.now();
  private principal: Principal | null = null;
  private userAdmitted = false;
  private authTimer: Timer | undefined;
  private expiryTimer: Timer | undefined;
  /** Non-null while an auth frame is being verified: frames that arrive meanwhile wait here. */
  private held: Array<string | Buffer> | null = null;
  private ticket: RunTicket | null = null;
  private run: Run | null = null;
  private conversation: Conversation | null = null;
  private summary: RunSummary | null = null;
  private peerClose: { code: number; reason: string } | null = null;

  constructor(
    private readonly ws: ServerWebSocket<ConnectionData>,
    private readonly deps: ConnectionDeps,
    private readonly onDone: (conn: Connection) => void,
  ) {
    this.log = deps.log.child({ conn: this.id });
    this.sink = new SocketSink(ws);
  }

  open(): void {
    const { auth, remoteAddress } = this.ws.data;
    this.log.info({ remoteAddress, auth: auth.state, via: auth.state === "verified" ? auth.via : undefined }, "connection opened");
    const { config } = this.deps;
    this.send({
      type: "gateway.hello",
      protocol: PROTOCOL,
      connectionId: this.id,
      auth: auth.state === "verified" ? "ok" : auth.state === "pending" ? "required" : "refused",
      limits: {
        maxPromptBytes: config.maxPromptBytes,
        maxFrameBytes: config.maxFrameBytes,
        maxLineBytes: config.maxLineBytes,
        runTimeoutMs: config.runTimeoutMs,
        idleTimeoutMs: config.idleTimeoutMs,
        authTimeoutMs: config.auth.authTimeoutMs,
      },
    });
    if (auth.state === "refused") this.fail(auth.error);
    else if (auth.state === "verified") {
      this.userAdmitted = true; // counted at the upgrade
      this.setPrincipal(auth.principal);
    }
    else {
      this.authTimer = setTimeout(
        () => this.fail(new GatewayError("auth_timeout", `No auth message within ${config.auth.authTimeoutMs} ms.`)),
        config.auth.authTimeoutMs,
      );
    }
  }

  message(message: string | Buffer): void {
    if (this.ended) return;
    if (this.held !== null) {
      if (this.held.length >= MAX_FRAMES_DURING_AUTH) this.fail(new GatewayError("invalid_message", "Too many frames before authentication finished."));
      else this.held.push(message);
      return;
    }
    let frame: ClientFrame;
    try {
      frame = this.deps.parse(message);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      // During a run a bad frame is reported but cannot hurt the run: it carries on.
      if (this.busy) this.sendError(err);
      else this.fail(err);
      return;
    }
    if (frame.type === "auth") {
      void this.authenticate(frame.token);
      return;
    }
    if (this.principal === null) {
      this.fail(new GatewayError("token_missing", 'Authenticate first: send {"type":"auth","token":"…"} or connect with a token.'));
      return;
    }
    if (frame.type === "user" || frame.type === "interrupt" || frame.type === "permission") {
      this.steer(frame);
      return;
    }
    if (this.busy) {
      this.sendError(new GatewayError("run_in_progress", "A run is already in progress on this socket; wait for gateway.exit."));
      return;
    }
    void this.start(frame);
  }

  /** Follow-ups, interrupts and permission answers go to the running conversation. */
  private steer(frame: UserFrame | InterruptFrame | PermissionFrame): void {
    const c = this.conversation;
    try {
      if (c === null) throw new GatewayError(frame.type === "permission" ? "unknown_request" : "not_running", "No run is in progress on this socket.");
      if (frame.type === "user") c.followUp(frame.prompt);
      else if (frame.type === "interrupt") c.interrupt();
      else c.answer(frame);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      this.sendError(err);
    }
  }

  close(code: number, reason: string): void {
    this.peerClose = { code, reason };
    this.sink.onClosed();
    clearTimeout(this.authTimer);
    clearTimeout(this.expiryTimer);
    // A live run keeps its slot until its group is gone; only a queued (or not yet spawned) one lets go now.
    if (this.run === null) this.ticket?.cancel();
    this.conversation?.denyPending();
    this.run?.stop("client_closed");
    if (this.userAdmitted) this.deps.admission.closeConnection(this.principal!.sub);
    this.maybeDone();
  }

  shutdown(): void {
    if (this.run !== null) this.run.stop("shutdown");
    else this.sink.close(1001, "shutdown");
  }

  /** Resolves when this connection's run (if any) has fully ended. */
  get finished(): Promise<unknown> {
    return this.run?.finished ?? Promise.resolve();
  }

  private get ended(): boolean {
    return this.sink.isClosed || this.sink.closeRequested !== null;
  }

  /** A run is queued or live. */
  private get busy(): boolean {
    return this.ticket !== null;
  }

  private async authenticate(token: string): Promise<void> {
    clearTimeout(this.authTimer);
    this.held = [];
    let principal: Principal;
    try {
      principal = await this.deps.verifier.verify(token);
    } catch (err) {
      this.held = null;
      if (!(err instanceof GatewayError)) throw err;
      if (this.principal === null) this.fail(err);
      else this.sendError(err); // a bad refresh: the current token still holds until it expires
      return;
    }
    const held = this.held;
    this.held = null;
    if (this.ended) return;
    if (this.principal !== null && principal.sub !== this.principal.sub) {
      this.stopWith(new GatewayError("forbidden", "A refreshed token must be for the same user."));
      return;
    }
    this.send({ type: "gateway.authenticated", exp: principal.exp });
    if (this.principal === null) this.admitUser(principal);
    else this.setPrincipal(principal);
    for (const m of held) this.message(m);
  }

  private admitUser(principal: Principal): void {
    const refused = this.deps.admission.openConnection(principal.sub);
    if (refused !== null) {
      this.fail(refused);
      return;
    }
    this.userAdmitted = true;
    this.setPrincipal(principal);
  }

  private setPrincipal(principal: Principal): void {
    if (this.principal === null) this.log = this.log.child({ sub: principal.sub }); // a refresh keeps the same sub
    this.principal = principal;
    this.armExpiry();
  }

  /** At exp + tolerance the connection ends with token_expired, unless a fresh token came first. */
  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    const deadline = (this.principal!.exp + this.deps.config.auth.clockToleranceS) * 1000;
    const left = deadline - Date.now();
    this.expiryTimer = setTimeout(
      () => (Date.now() >= deadline ? this.stopWith(new GatewayError("token_expired", "The token expired during the session.")) : this.armExpiry()),
      Math.max(0, Math.min(left, MAX_TIMER_MS)),
    );
  }

  private async start(frame: PromptFrame): Promise<void> {
    const { config, manager, admission, sessions } = this.deps;
    const sub = this.principal!.sub;
    // Everything that can refuse the request is decided before a slot is taken.
    let plan;
    let workspace;
    try {
      const policy = this.policy();
      plan = planRun(config.claudeBin, frame.prompt, frame.options, policy);
      const resume = frame.options?.resume;
      if (resume !== undefined && !sessions.owns(resume, sub)) {
        throw new GatewayError("forbidden", "That session was not created by this user through this gateway.");
      }
      workspace = config.policy.workspaceRoot === null ? null : workspaceFor(config.policy.workspaceRoot, sub, policy.workspace);
      this.ticket = admission.requestRun(sub, (position) => this.send({ type: "gateway.queued", position }));
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      this.fail(err);
      return;
    }
    let slot;
    try {
      slot = await this.ticket.granted;
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      if (!this.ended) this.fail(err);
      return;
    }
    if (this.ended) return slot.release(); // gone while queued
    const env = childEnv(config.childEnvPassthrough);
    if (workspace !== null) env.CLAUDE_CONFIG_DIR = workspace.configDir;
    let proc;
    try {
      proc = manager.spawn({ argv: plan.argv, cwd: workspace?.cwd ?? config.claudeCwd, env, stdin: plan.streamInput ? "pipe" : "ignore" });
    } catch (err) {
      slot.release();
      if (!(err instanceof GatewayError)) throw err;
      this.deps.metrics.spawnFailures.inc();
      this.log.error({ err: err.message }, "spawn failed");
      this.sendError(err);
      this.send({ type: "gateway.exit", runId: randomUUID(), code: null, signal: null, reason: "spawn_failed", durationMs: 0, summary: null });
      this.sink.close(err.close!.code, err.close!.reason);
      return;
    }
    const log = this.log.child({ pid: proc.pid });
    log.info({ meta: frame.meta, promptBytes: Buffer.byteLength(frame.prompt), interactive: plan.interactive, approvals: plan.permissionPrompts }, "run started");
    const conversation = plan.streamInput
      ? new Conversation(
          { write: (line) => proc.write(line), end: () => proc.closeStdin() },
          (f) => this.send(f),
          { interactive: plan.interactive, permissionTimeoutMs: config.policy.permissionTimeoutMs, maxQueuedFollowups: config.policy.maxQueuedFollowups },
          log,
        )
      : null;
    this.conversation = conversation;
    const { metrics } = this.deps;
    this.run = new Run(proc, this.sink, config, log, {
      groupGone: () => slot.release(),
      relayed: (bytes, frames) => metrics.relayed(bytes, frames),
      firstOutput: (ms) => metrics.firstFrame.observe(ms / 1000),
      message: (m) => {
        if (m.type === "system" && m.subtype === "init" && typeof m.session_id === "string") sessions.record(m.session_id, sub);
        conversation?.observe(m);
      },
    });
    conversation?.start(frame.prompt);
    this.run.finished.then(
      (summary) => {
        this.summary = summary;
        this.maybeDone();
      },
      (err) => log.error({ err }, "run failed unexpectedly"),
    );
  }

  /** The server's policy narrowed by the token's `claude` claim. A malformed claim is refused. */
  private policy(): EffectivePolicy {
    const claim = this.principal!.claims.claude;
    const parsed = ClaudeClaimSchema.optional().safeParse(claim);
    if (!parsed.success) throw new GatewayError("forbidden", "The token's claude claim is malformed.");
    return narrow(this.deps.config.policy, parsed.data);
  }

  private send(frame: ServerFrame): void {
    this.sink.send(JSON.stringify(frame));
  }

  private sendError(err: GatewayError): void {
    this.send({ type: "gateway.error", code: err.code, message: err.message, ...(err.retryAfterMs !== undefined && { retryAfterMs: err.retryAfterMs }) });
  }

  /** Report the error, then close with its code. */
  private fail(err: GatewayError): void {
    if (this.ended) return;
    this.log.info({ code: err.code }, "refused");
    if (AUTH_CODES.has(err.code)) this.deps.metrics.authRefusals.inc({ code: err.code });
    this.sendError(err);
    const close = err.close;
    if (close !== null) this.sink.close(close.code, close.reason);
  }

  /** An auth failure mid-session: report it and end the run (its exit frame closes), or close now. */
  private stopWith(err: GatewayError): void {
    if (this.ended) return;
    if (this.run === null) return this.fail(err);
    this.log.info({ code: err.code }, "ending run");
    this.sendError(err);
    this.run.stop(err.code === "token_expired" ? "token_expired" : "forbidden");
  }

  /** One log line per connection, once the socket is closed and the run (if any) is over. */
  private maybeDone(): void {
    if (this.peerClose === null || (this.run !== null && this.summary === null)) return;
    const s = this.summary;
    const { metrics } = this.deps;
    const sent = this.sink.closeRequested;
    metrics.connections.inc({ outcome: s?.reason ?? sent?.reason ?? "client_closed" });
    if (sent !== null) metrics.closeCodes.inc({ code: String(sent.code), reason: sent.reason });
    if (s !== null) {
      metrics.runs.inc({ reason: s.reason });
      metrics.runDuration.observe(s.durationMs / 1000);
    }
    this.log.info(
      {
        outcome: s?.reason ?? this.sink.closeRequested?.reason ?? "client_closed",
        close: this.sink.closeRequested ?? this.peerClose,
        pid: s?.pid,
        exitCode: s?.code,
        signal: s?.signal,
        stoppedBy: s?.stoppedBy,
        runMs: s?.durationMs,
        durationMs: Math.round(performance.now() - this.openedAt),
        frames: this.sink.frames,
        stdoutBytes: s?.stdoutBytes ?? 0,
        stderrLines: s?.stderrLines ?? 0,
      },
      "connection closed",
    );
    this.onDone(this);
  }
}
