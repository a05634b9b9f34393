/**
 * The demo page's view of one transcript item. Each item gets its element once and is patched in
 * place as it changes (a streaming message, a permission being answered), so an open <details>
 * stays open and focus stays where it was.
 */
import type { ChatItem } from "../transcript.ts";

export interface ItemView {
  el: HTMLElement;
  update(item: ChatItem): void;
}

export interface RenderActions {
  respond(requestId: string, behavior: "allow" | "deny", message?: string): void;
}

type Attrs = Record<string, string>;

/** `h("p", { class: "x" }, "text", child)`: a tiny element builder. */
export function h(tag: string, attrs: Attrs = {}, ...children: Array<Node | string>): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

const json = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));
const seconds = (ms: number | null) => (ms === null ? "—" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
export const usd = (v: number | null) => (v === null ? "—" : `$${v.toFixed(4)}`);

export function createItemView(item: ChatItem, actions: RenderActions): ItemView {
  const el = h("li", { class: `item item-${item.kind}`, "data-kind": item.kind, "data-id": item.id });
  const view = VIEWS[item.kind](el, actions);
  view(item);
  return { el, update: view };
}

type Updater = (item: ChatItem) => void;
const VIEWS: Record<ChatItem["kind"], (el: HTMLElement, actions: RenderActions) => Updater> = {
  prompt(el) {
    const who = h("span", { class: "who" });
    const text = h("div", { class: "text" });
    el.append(who, text);
    return (item) => {
      if (item.kind !== "prompt") return;
      who.textContent = item.followUp ? "You (follow-up)" : "You";
      text.textContent = item.text;
    };
  },
  assistant(el) {
    const text = h("div", { class: "text" });
    el.append(h("span", { class: "who" }, "Claude"), text);
    return (item) => {
      if (item.kind !== "assistant") return;
      text.textContent = item.text;
      el.classList.toggle("streaming", item.streaming);
    };
  },
  thinking(el) {
    const summary = h("summary", {}, "Thinking");
    const text = h("div", { class: "text" });
    el.append(h("details", {}, summary, text));
    return (item) => {
      if (item.kind !== "thinking") return;
      summary.textContent = item.streaming ? "Thinking…" : `Thinking (${item.text.length} characters)`;
      text.textContent = item.text;
    };
  },
  tool_use(el) {
    const title = h("span", { class: "who" });
    const input = h("pre", { class: "code" });
    el.append(title, input);
    return (item) => {
      if (item.kind !== "tool_use") return;
      title.textContent = `Tool call: ${item.name}`;
      input.textContent = json(item.input);
    };
  },
  tool_result(el) {
    const title = h("span", { class: "who" });
    const body = h("pre", { class: "code" });
    el.append(title, body);
    return (item) => {
      if (item.kind !== "tool_result") return;
      title.textContent = item.isError ? "Tool result (error)" : "Tool result";
      el.classList.toggle("error", item.isError);
      body.textContent = item.text;
    };
  },
  permission(el, actions) {
    const title = h("span", { class: "who" });
    const input = h("pre", { class: "code" });
    const reasonId = `deny-reason-${el.dataset.id}`;
    const reason = h("input", { id: reasonId, type: "text", placeholder: "optional", autocomplete: "off" }) as HTMLInputElement;
    const allow = h("button", { type: "button", class: "allow" }, "Allow");
    const deny = h("button", { type: "button", class: "deny" }, "Deny");
    const controls = h("div", { class: "permission-controls" }, allow, deny, h("label", { for: reasonId }, "Reason for a denial"), reason);
    const outcome = h("p", { class: "outcome", role: "status" });
    el.append(title, input, controls, outcome);
    let requestId = "";
    allow.addEventListener("click", () => actions.respond(requestId, "allow"));
    deny.addEventListener("click", () => actions.respond(requestId, "deny", reason.value.trim() || undefined));
    return (item) => {
      if (item.kind !== "permission") return;
      requestId = item.requestId;
      title.textContent = `Claude wants to use ${item.toolName}`;
      input.textContent = json(item.input);
      const d = item.decision;
      controls.hidden = d !== null;
      el.classList.toggle("pending", d === null);
      outcome.textContent = d === null ? "" : `${d.behavior === "allow" ? "Allowed" : "Denied"}${d.by === "client" ? "" : ` (by ${d.by})`}`;
    };
  },
  result(el) {
    const title = h("span", { class: "who" });
    const stats = h("dl", { class: "stats" });
    const text = h("div", { class: "text" });
    el.append(title, stats, text);
    return (item) => {
      if (item.kind !== "result") return;
      el.classList.toggle("error", item.isError);
      title.textContent = item.isError ? `Result: ${item.subtype} (error)` : `Result: ${item.subtype}`;
      const rows: Array<[string, string]> = [
        ["Cost", usd(item.costUsd)],
        ["Turns", item.numTurns === null ? "—" : String(item.numTurns)],
        ["Duration", seconds(item.durationMs)],
        ["Session", item.sessionId ?? "—"],
      ];
      stats.replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
      text.textContent = item.isError && item.text ? item.text : "";
    };
  },
  session(el) {
    return (item) => {
      if (item.kind !== "session") return;
      el.textContent = `Session ${item.sessionId}${item.model ? ` · model ${item.model}` : ""}`;
    };
  },
  notice(el) {
    const source = h("span", { class: "source" });
    const text = h("span", { class: "text" });
    el.append(source, text);
    return (item) => {
      if (item.kind !== "notice") return;
      el.dataset.level = item.level;
      source.textContent = item.source;
      text.textContent = item.text;
    };
  },
  exit(el) {
    return (item) => {
      if (item.kind !== "exit") return;
      const how = item.signal !== null ? `signal ${item.signal}` : item.code !== null ? `exit code ${item.code}` : "no exit code";
      const cost = item.summary ? ` · cost ${usd(item.summary.totalCostUsd)} · ${item.summary.numTurns ?? "—"} turns` : "";
      el.textContent = `Run ended: ${item.reason} (${how}, ${seconds(item.durationMs)})${cost}`;
    };
  },
  close(el) {
    const title = h("strong");
    const explain = h("span", { class: "explain" });
    const extra = h("span", { class: "extra" });
    el.append(title, " ", explain, extra);
    return (item) => {
      if (item.kind !== "close") return;
      const c = item.close;
      el.dataset.code = String(c.code);
      el.dataset.closeKind = c.kind;
      title.textContent = c.code === 0 ? "Not connected:" : `Closed ${c.code}${c.reason ? ` ${c.reason}` : ""}:`;
      explain.textContent = c.explain;
      const parts = [c.error ? ` Gateway said: ${c.error.message}` : "", c.retryInMs !== undefined ? ` Reconnecting in ${seconds(c.retryInMs)}.` : ""];
      extra.textContent = parts.join("");
    };
  },
};
