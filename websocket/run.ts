/**
 * One run: the relay that joins a process to a socket and stops both when either ends.
 *
 * stdout lines become frames in order, with back-pressure (reading stops while the socket is
 * backed up); stderr lines become bounded `gateway.stderr` frames; the run timeout and idle
 * timeout stop the group through the ladder; and exactly one `gateway.exit` goes out, after
 * every line the CLI printed, followed by the close code for its reason.
 */
import { randomUUID } from "node:crypto";
import { EXIT_REASONS, type ExitReason } from "../lib/errors.ts";
import { LineSplitter, type LineSink } from "../lib/line-splitter.ts";
import type { Logger } from "../lib/logger.ts";
import type { ManagedProcess, ProcessExit } from "./process-manager.ts";
import type { SocketSink } from "./socket-sink.ts";
import type { RunSummaryFrame, ServerFrame } from "./schemas.ts";
import { lineTooLongFrame, messageToRead, stderrFrame, stdoutFrame, type StdoutValidation } from "./stdout-frames.ts";
import type { TerminationOutcome } from "./termination.ts";

export interface RunLimits {
  runTimeoutMs: number;
  /** 0 = off. */
  idleTimeoutMs: number;
  maxLineBytes: number;
  stdoutValidation: StdoutValidation;
}

export interface RunHooks {
  /** The group is gone, before the exit frame: frees the run's admission slot. */
  groupGone?(): void;
  /** Each `system`, `result` and `control_request` line the CLI printed (already relayed). */
  message?(message: Record<string, unknown>): void;
  /** Once per stdout read chunk (never per frame): bytes read, frames sent since the last call. */
  relayed?(bytes: number, frames: number): void;
  /** The first stdout output arrived, `ms` after the spawn. */
  firstOutput?(ms: number): void;
}

export interface RunSummary {
  runId: string;
  pid: number;
  code: number | null;
  signal: string | null;
  reason: ExitReason;
  durationMs: number;
  /** Which ladder step ended the group ("already_gone": it ended by itself). */
  stoppedBy: TerminationOutcome;
  stdoutBytes: number;
  stderrLines: number;
  summary: RunSummaryFrame | null;
}

/** stderr is for humans: keep it from flooding the socket or the logs. */
const STDERR_MAX_LINE_BYTES = 8 * 1024;
const STDERR_BURST = 100;
const STDERR_LINES_PER_SEC = 10;

export class Run implements LineSink {
  readonly id = randomUUID();
  readonly finished: Promise<RunSummary>;
  private stopReason: ExitReason | null = null;
  private exitSent = false;
  private stdoutBytes = 0;
  private stderrLines = 0;
  private stderrSuppressed = 0;
  private stderrTokens = STDERR_BURST;
  private stderrRefilledAt = performance.now();
  private lastActivity = performance.now();
  private lastResult: Record<string, unknown> | null = null;
  private framesReported = 0;
  private runTimer: Timer | undefined;
  private idleTimer: Timer | undefined;

  constructor(
    private readonly proc: ManagedProcess,
    private readonly sink: SocketSink,
    private readonly limits: RunLimits,
    private readonly log: Logger,
    private readonly hooks: RunHooks = {},
  ) {
    sink.send(JSON.stringify({ type: "gateway.started", runId: this.id, pid: proc.pid }));
    this.runTimer = setTimeout(() => this.stop("timeout"), limits.runTimeoutMs);
    if (limits.idleTimeoutMs > 0) this.idleTimer = setTimeout(() => this.checkIdle(), limits.idleTimeoutMs);
    this.finished = this.relay();
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Stop the run through the ladder; the first reason given is the one reported. */
  stop(reason: ExitReason): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason;
    this.log.info({ reason }, "stopping run");
    // On shutdown the client is told at once rather than after the ladder has run.
    if (reason === "shutdown") this.sendExit({ code: null, signal: null }, reason);
    void this.proc.stop();
  }

  // LineSink for stdout: the hot path.
  onLine(line: string): void {
    const frame = stdoutFrame(line, this.limits.stdoutValidation);
    if (frame === null) return;
    this.sink.send(frame);
    const message = messageToRead(frame);
    if (message === undefined) return;
    if (message.type === "result") this.lastResult = message;
    this.hooks.message?.(message);
  }

  onOverlong(bytes: number): void {
    this.log.warn({ bytes }, "stdout line over MAX_LINE_BYTES not relayed");
    this.sink.send(lineTooLongFrame(bytes));
  }

  private async relay(): Promise<RunSummary> {
    const stdout = this.pump(this.proc.stdout, new LineSplitter(this.limits.maxLineBytes, this), (n) => {
      if (this.stdoutBytes === 0) this.hooks.firstOutput?.(performance.now() - this.proc.startedAt);
      this.stdoutBytes += n;
      this.reportRelayed(n);
    });
    const stderr = this.pump(this.proc.stderr, this.stderrSplitter(), () => {});
    const exit = await this.proc.exited;
    // EOF on both pipes comes once every process holding them is gone (the group is swept
    // after the leader exits), so every line printed is relayed before the exit frame.
    await Promise.all([stdout, stderr]);
    clearTimeout(this.runTimer);
    clearTimeout(this.idleTimer);
    if (this.stderrSuppressed > 0) {
      this.sink.send(JSON.stringify({ type: "gateway.warning", code: "stderr_suppressed", lines: this.stderrSuppressed }));
    }
    // The group is gone and its slot free before the client hears of the exit, so a client that
    // reconnects the moment it sees the close is admitted.
    const stoppedBy = await this.proc.done;
    this.hooks.groupGone?.();
    const reason: ExitReason = this.stopReason ?? (exit.code === 0 ? "completed" : "failed");
    const durationMs = this.sendExit(exit, reason);
    this.reportRelayed(0);
    return {
      runId: this.id,
      pid: this.proc.pid,
      ...exit,
      reason,
      durationMs,
      stoppedBy,
      stdoutBytes: this.stdoutBytes,
      stderrLines: this.stderrLines,
      summary: this.summary(),
    };
  }

  private async pump(stream: ReadableStream<Uint8Array>, splitter: LineSplitter, count: (n: number) => void): Promise<void> {
    const reader = stream.getReader();
    try {
      for (;;) {
        // Back-pressure: while the socket is backed up, leave the pipe unread so the CLI blocks.
        if (this.sink.paused) await this.sink.writable();
        const { value, done } = await reader.read();
        if (done) break;
        this.lastActivity = performance.now();
        this.sink.cork(() => splitter.push(value));
        count(value.length);
      }
      this.sink.cork(() => splitter.end());
    } catch (err) {
      this.log.warn({ err }, "reading CLI output failed");
    } finally {
      reader.releaseLock();
    }
  }

  private stderrSplitter(): LineSplitter {
    return new LineSplitter(STDERR_MAX_LINE_BYTES, {
      onLine: (line) => {
        if (line.trim().length === 0) return;
        this.stderrLines++;
        if (!this.takeStderrToken()) {
          this.stderrSuppressed++;
          return;
        }
        this.log.info({ stderr: line }, "cli stderr");
        this.sink.send(stderrFrame(line));
      },
      onOverlong: () => {
        this.stderrLines++;
        this.stderrSuppressed++;
      },
    });
  }

  private takeStderrToken(): boolean {
    const now = performance.now();
    this.stderrTokens = Math.min(STDERR_BURST, this.stderrTokens + ((now - this.stderrRefilledAt) / 1000) * STDERR_LINES_PER_SEC);
    this.stderrRefilledAt = now;
    if (this.stderrTokens < 1) return false;
    this.stderrTokens -= 1;
    return true;
  }

  /** One timer for the whole run, re-armed only when it fires (not per chunk). */
  private checkIdle(): void {
    const now = performance.now();
    // Output held back by a slow client is not the CLI being idle.
    if (this.sink.paused) this.lastActivity = now;
    const left = this.lastActivity + this.limits.idleTimeoutMs - now;
    if (left <= 0) this.stop("idle_timeout");
    else this.idleTimer = setTimeout(() => this.checkIdle(), left);
  }

  private reportRelayed(bytes: number): void {
    const frames = this.sink.frames;
    this.hooks.relayed?.(bytes, frames - this.framesReported);
    this.framesReported = frames;
  }

  /** The run's last `result`, as `gateway.exit.summary`. */
  private summary(): RunSummaryFrame | null {
    const r = this.lastResult;
    if (r === null) return null;
    const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
    return {
      sessionId: typeof r.session_id === "string" ? r.session_id : null,
      isError: r.is_error === true || (typeof r.subtype === "string" && r.subtype !== "success"),
      totalCostUsd: num(r.total_cost_usd),
      numTurns: num(r.num_turns),
      durationMs: num(r.duration_ms),
    };
  }

  /** Sends the exit frame and close (once); returns the run's duration. */
  private sendExit(exit: ProcessExit, reason: ExitReason): number {
    const durationMs = Math.round(performance.now() - this.proc.startedAt);
    if (this.exitSent) return durationMs;
    this.exitSent = true;
    const frame: ServerFrame = { type: "gateway.exit", runId: this.id, code: exit.code, signal: exit.signal, reason, durationMs, summary: this.summary() };
    this.sink.send(JSON.stringify(frame));
    const close = EXIT_REASONS[reason];
    if (close !== null) this.sink.close(close.code, close.reason);
    return durationMs;
  }
}
