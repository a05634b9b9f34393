/**
 * The React hook's test page: one component using useClaudeSocket under <StrictMode>, in a
 * development build (where StrictMode mounts, unmounts and mounts again). Bundled by the test with
 * Bun.build and served by a small server of its own, on another origin than the gateway's.
 *
 * ?gateway=PORT           the gateway on 127.0.0.1 (it lists this page's origin in ALLOWED_ORIGINS)
 * ?scenario=autoconnect    connect on mount, no prompt
 * ?scenario=send-on-mount  send a prompt from a mount effect (the naive pattern StrictMode doubles)
 * ?scenario=manual         a Send button; pending permissions as Allow / Deny buttons
 */
import { createElement as h, StrictMode, useEffect, useRef } from "react";
import { createRoot } from "react-dom/client";
import { useClaudeSocket } from "../../../lib/client/use-claude-socket.ts";

declare global {
  interface Window {
    /** Exposed by the test (Playwright): mints a token on the test side, counting each call. */
    mintToken(): Promise<string>;
  }
}

const params = new URLSearchParams(location.search);
const scenario = params.get("scenario") ?? "manual";
const url = `ws://127.0.0.1:${params.get("gateway")}/ws/claude`;

function App() {
  const claude = useClaudeSocket({ url, getToken: () => window.mintToken(), autoConnect: scenario === "autoconnect" });
  const sent = useRef(0);
  useEffect(() => {
    if (scenario === "send-on-mount") claude.send("hook prompt on mount");
    // eslint-disable-next-line react-hooks/exhaustive-deps -- on mount only, on purpose
  }, []);
  return h(
    "main",
    null,
    h("p", { id: "status" }, claude.status),
    h("pre", { id: "text" }, claude.text),
    h("p", { id: "close" }, claude.lastClose ? `${claude.lastClose.code} ${claude.lastClose.reason}` : ""),
    h("p", { id: "count" }, String(claude.messages.filter((m) => m.kind === "prompt").length)),
    h("button", { id: "send", onClick: () => claude.send(`hook prompt ${++sent.current}`) }, "Send"),
    h("button", { id: "send-tools", onClick: () => claude.send("tools 1 from the hook") }, "Send with a tool"),
    h(
      "ul",
      { id: "permissions" },
      claude.pendingPermissions.map((p) =>
        h(
          "li",
          { key: p.requestId },
          `${p.toolName}: ${String(p.input.command)} `,
          h("button", { className: "allow", onClick: () => claude.respond(p.requestId, "allow") }, "Allow"),
        ),
      ),
    ),
  );
}

const root = createRoot(document.getElementById("root")!);
root.render(h(StrictMode, null, h(App)));
document.getElementById("unmount")!.addEventListener("click", () => root.unmount());
