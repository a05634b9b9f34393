/**
 * The stdin side of a stream-json run: user turns, queued follow-ups, interrupts, and the answers
 * to the CLI's `can_use_tool` permission requests.
 *
 * Only `JSON.stringify(…) + "\n"` is ever written: one invalid line on stdin kills the CLI.
 * A turn ends at the CLI's `result` line; follow-ups that arrive before then wait here, in order.
 */
import { GatewayError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { PermissionFrame, ServerFrame } from "./schemas.ts";

export interface ConversationOptions {
  /** false: one turn (stream-json only for approvals); stdin is closed at its result. */
  interactive: boolean;
  permissionTimeoutMs: number;
  maxQueuedFollowups: number;
}

interface PendingPermission {
  input: unknown;
  timer: Timer;
}

type CliMessage = { type?: unknown; subtype?: unknown; request_id?: unknown; request?: { subtype?: unknown; input?: unknown } };

export class Conversation {
  private turnRunning = false;
  private readonly queue: string[] = [];
  private readonly pending = new Map<string, PendingPermission>();
  private seq = 0;
  private ended = false;

  constructor(
    private readonly stdin: { write(line: string): void; end(): void },
    private readonly send: (frame: ServerFrame) => void,
    private readonly opts: ConversationOptions,
    private readonly log: Logger,
  ) {}

  /** The first prompt of the run. */
  start(prompt: string): void {
    this.writeUser(prompt);
  }

  /** A follow-up turn; queued while a turn runs. Throws GatewayError for the client. */
  followUp(prompt: string): void {
    if (!this.opts.interactive) throw new GatewayError("not_interactive", 'Follow-ups need options.mode "interactive".');
    if (!this.turnRunning) return this.writeUser(prompt);
    if (this.queue.length >= this.opts.maxQueuedFollowups) {
      throw new GatewayError("followup_queue_full", `At most ${this.opts.maxQueuedFollowups} follow-ups may wait for the running turn.`);
    }
    this.queue.push(prompt);
    this.send({ type: "gateway.followup_queued", position: this.queue.length });
  }

  interrupt(): void {
    if (!this.opts.interactive) throw new GatewayError("not_interactive", 'Interrupts need options.mode "interactive".');
    this.write({ type: "control_request", request_id: `gw-${++this.seq}`, request: { subtype: "interrupt" } });
  }

  answer(frame: PermissionFrame): void {
    const p = this.pending.get(frame.requestId);
    if (p === undefined) throw new GatewayError("unknown_request", `No pending permission request ${JSON.stringify(frame.requestId)} (unknown or already answered).`);
    const response =
      frame.behavior === "allow"
        ? { behavior: "allow", updatedInput: frame.updatedInput ?? p.input }
        : { behavior: "deny", message: frame.message ?? "Denied by the user." };
    this.resolve(frame.requestId, response, "client");
  }

  /** Every JSON object line the CLI prints passes through here. */
  observe(msg: CliMessage): void {
    if (msg.type === "result") {
      this.turnRunning = false;
      const next = this.queue.shift();
      if (next !== undefined) this.writeUser(next);
      else if (!this.opts.interactive) this.end(); // one-shot with approvals: the CLI exits at EOF
    } else if (msg.type === "control_request" && msg.request?.subtype === "can_use_tool" && typeof msg.request_id === "string") {
      const id = msg.request_id;
      const timer = setTimeout(() => this.resolve(id, { behavior: "deny", message: "No answer in time; denied by the gateway." }, "timeout"), this.opts.permissionTimeoutMs);
      this.pending.set(id, { input: msg.request.input ?? {}, timer });
    }
  }

  /** The client is gone: deny whatever waits, so the CLI is not left blocked on an answer. */
  denyPending(): void {
    for (const id of [...this.pending.keys()]) this.resolve(id, { behavior: "deny", message: "The client disconnected." }, "disconnect");
  }

  private resolve(id: string, response: { behavior: string; message?: string; updatedInput?: unknown }, by: "client" | "timeout" | "disconnect"): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    this.write({ type: "control_response", response: { subtype: "success", request_id: id, response } });
    this.log.info({ requestId: id, behavior: response.behavior, by }, "permission resolved");
    if (by !== "disconnect") this.send({ type: "gateway.permission_resolved", requestId: id, behavior: response.behavior as "allow" | "deny", by });
  }

  private writeUser(prompt: string): void {
    this.turnRunning = true;
    this.write({ type: "user", message: { role: "user", content: prompt }, parent_tool_use_id: null, session_id: "" });
  }

  private write(obj: unknown): void {
    if (this.ended) return;
    try {
      this.stdin.write(JSON.stringify(obj) + "\n");
    } catch (err) {
      // The CLI has exited and the pipe is gone; its exit frame says the rest.
      this.log.debug({ err }, "stdin write failed");
    }
  }

  private end(): void {
    this.ended = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.stdin.end();
  }
}
