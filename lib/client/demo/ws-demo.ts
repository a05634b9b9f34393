/**
 * The demo page (public/ws-demo.html): a ClaudeSocket wired to a form and a transcript. Bundled
 * by the gateway at start-up and served as /ws-demo.js.
 */
import { ClaudeSocket, type ClaudeSocketState, type SendOptions } from "../claude-socket.ts";
import type { ChatItem } from "../transcript.ts";
import { createItemView, type ItemView } from "./render.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const els = {
  status: $("status"),
  connectForm: $<HTMLFormElement>("connect-form"),
  token: $<HTMLInputElement>("token"),
  tokenHint: $("token-hint"),
  disconnect: $<HTMLButtonElement>("disconnect"),
  connect: $<HTMLButtonElement>("connect"),
  promptForm: $<HTMLFormElement>("prompt-form"),
  prompt: $<HTMLTextAreaElement>("prompt"),
  meta: $<HTMLInputElement>("meta"),
  model: $<HTMLInputElement>("model"),
  interactive: $<HTMLInputElement>("interactive"),
  partial: $<HTMLInputElement>("partial"),
  send: $<HTMLButtonElement>("send"),
  interrupt: $<HTMLButtonElement>("interrupt"),
  followupForm: $<HTMLFormElement>("followup-form"),
  followup: $<HTMLTextAreaElement>("followup"),
  transcript: $("transcript"),
  rawLog: $("raw-log"),
  rawCount: $("raw-count"),
};

const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/claude`;

/** The token box's value, or a fresh development token when the gateway offers one. */
async function getToken(): Promise<string> {
  const typed = els.token.value.trim();
  if (typed !== "") return typed;
  const dev = await fetchDevToken();
  if (dev === null) throw new Error("no token: paste one into the Token box");
  els.token.value = dev;
  return dev;
}

async function fetchDevToken(): Promise<string | null> {
  try {
    const res = await fetch("/dev-token", { cache: "no-store" });
    if (!res.ok) return null;
    const body = (await res.json()) as { token?: unknown };
    return typeof body.token === "string" ? body.token : null;
  } catch {
    return null;
  }
}

/** `#token=…` in the URL (the gateway prints such a link in development), then /dev-token. */
async function prefillToken(): Promise<void> {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    els.token.value = fromHash;
    els.tokenHint.textContent = "Token taken from the link (and removed from the address bar).";
    history.replaceState(null, "", location.pathname + location.search);
    return;
  }
  const dev = await fetchDevToken();
  if (dev !== null && els.token.value === "") {
    els.token.value = dev;
    els.tokenHint.textContent = "Development token from /dev-token (the gateway has no key configured).";
  }
}

const socket = new ClaudeSocket({ url: wsUrl, getToken });
const views = new Map<string, { view: ItemView; item: ChatItem }>();
const MAX_RAW_FRAMES = 500;
let rawFrames = 0;

function respond(requestId: string, behavior: "allow" | "deny", message?: string): void {
  socket.respondToPermission(requestId, behavior, message === undefined ? {} : { message });
}

function renderTranscript(items: readonly ChatItem[]): void {
  const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
  for (const item of items) {
    const known = views.get(item.id);
    if (known === undefined) {
      const view = createItemView(item, { respond });
      views.set(item.id, { view, item });
      els.transcript.append(view.el);
    } else if (known.item !== item) {
      known.view.update(item);
      known.item = item;
    }
  }
  if (nearBottom) window.scrollTo(0, document.body.scrollHeight);
}

const STATUS_TEXT: Record<ClaudeSocketState["status"], string> = {
  idle: "not connected",
  connecting: "connecting…",
  ready: "connected",
  running: "running",
  awaiting_followup: "waiting for a follow-up",
  reconnecting: "reconnecting…",
  closed: "closed",
};

function renderControls(s: ClaudeSocketState): void {
  const live = s.status !== "idle" && s.status !== "closed";
  const busy = s.status === "running" || s.status === "awaiting_followup" || s.status === "connecting" || s.status === "reconnecting";
  let text = STATUS_TEXT[s.status];
  if (s.queuePosition !== null) text += ` · queued #${s.queuePosition}`;
  if (s.status === "closed" && s.lastClose) text += ` · ${s.lastClose.code} ${s.lastClose.reason}`;
  els.status.textContent = text;
  els.status.dataset.status = s.status;
  els.connect.disabled = live;
  els.disconnect.disabled = !live;
  els.send.disabled = busy;
  // Interrupting needs the CLI's stdin: interactive runs only (Disconnect stops a one-shot run).
  els.interrupt.disabled = s.status !== "running" || s.mode !== "interactive";
  const followups = s.mode === "interactive" && (s.status === "running" || s.status === "awaiting_followup");
  els.followupForm.hidden = !followups;
}

socket.on("state", (s) => {
  renderTranscript(s.messages);
  renderControls(s);
});
socket.on("frame", ({ raw }) => {
  rawFrames++;
  els.rawCount.textContent = String(rawFrames);
  const line = document.createTextNode(raw.length > 2000 ? `${raw.slice(0, 2000)}… (${raw.length} characters)\n` : `${raw}\n`);
  els.rawLog.append(line);
  if (els.rawLog.childNodes.length > MAX_RAW_FRAMES) els.rawLog.firstChild?.remove();
});

function sendOptions(): SendOptions {
  const options: SendOptions = {};
  if (els.meta.value.trim()) options.meta = els.meta.value.trim();
  if (els.model.value.trim()) options.model = els.model.value.trim();
  if (els.interactive.checked) options.mode = "interactive";
  if (els.partial.checked) options.includePartialMessages = true;
  return options;
}

els.connectForm.addEventListener("submit", (e) => {
  e.preventDefault();
  socket.connect();
});
els.disconnect.addEventListener("click", () => socket.close());
els.promptForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const prompt = els.prompt.value.trim();
  if (prompt === "" || els.send.disabled) return;
  socket.send(prompt, sendOptions());
});
els.interrupt.addEventListener("click", () => socket.interrupt());
els.followupForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const prompt = els.followup.value.trim();
  if (prompt === "") return;
  socket.followUp(prompt);
  els.followup.value = "";
});

/** Enter sends, Shift+Enter is a new line (and an IME composition is left alone). */
function enterSubmits(area: HTMLTextAreaElement, form: HTMLFormElement): void {
  area.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}
enterSubmits(els.prompt, els.promptForm);
enterSubmits(els.followup, els.followupForm);

renderControls(socket.state);
void prefillToken();
