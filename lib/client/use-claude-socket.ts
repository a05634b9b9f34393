/**
 * `useClaudeSocket`: the ClaudeSocket as a React hook. React is a peer of the app, never of the
 * gateway: only pages import this file.
 *
 * One socket per mounted component. It is created in an effect and closed in that effect's
 * cleanup, so React StrictMode's mount → unmount → mount leaves exactly one socket: the first
 * mount's connect is cancelled before it fetches a token, and a prompt sent from the first
 * mount's effect dies with it, never running twice.
 *
 * @example
 * const claude = useClaudeSocket({ url: gatewayUrl, getToken: fetchGatewayToken });
 * <button onClick={() => claude.send("Summarise README.md")} disabled={claude.status === "running"}>Run</button>
 * <pre>{claude.text}</pre>
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { ClaudeSocket, type ClaudeSocketOptions, type ClaudeSocketState, type SendOptions } from "./claude-socket.ts";

export interface UseClaudeSocketOptions extends ClaudeSocketOptions {
  /** Open the socket on mount, rather than on the first send. */
  autoConnect?: boolean;
}

export interface UseClaudeSocket extends ClaudeSocketState {
  send(prompt: string, options?: SendOptions): void;
  followUp(prompt: string): void;
  interrupt(): boolean;
  respond(requestId: string, behavior: "allow" | "deny", answer?: { message?: string; updatedInput?: Record<string, unknown> }): void;
  connect(): void;
  close(): void;
}

const INITIAL: ClaudeSocketState = {
  status: "idle",
  messages: [],
  text: "",
  pendingPermissions: [],
  lastClose: null,
  lastError: null,
  sessionId: null,
  mode: null,
  queuePosition: null,
};

export function useClaudeSocket(options: UseClaudeSocketOptions): UseClaudeSocket {
  const { url, autoConnect = false } = options;
  // The latest getToken and callbacks, without reconnecting when the caller passes a new closure.
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const socketRef = useRef<ClaudeSocket | null>(null);
  const [state, setState] = useState<ClaudeSocketState>(INITIAL);

  useEffect(() => {
    const socket = new ClaudeSocket({ ...latest.current, url, getToken: () => latest.current.getToken() });
    socketRef.current = socket;
    const off = socket.on("state", setState);
    setState(socket.state);
    if (autoConnect) socket.connect();
    return () => {
      off();
      socket.close();
      if (socketRef.current === socket) socketRef.current = null;
    };
  }, [url, autoConnect]);

  const current = useCallback((): ClaudeSocket => {
    if (socketRef.current === null) throw new Error("useClaudeSocket: the component is not mounted.");
    return socketRef.current;
  }, []);

  return {
    ...state,
    send: useCallback((prompt, sendOptions) => current().send(prompt, sendOptions), [current]),
    followUp: useCallback((prompt) => current().followUp(prompt), [current]),
    interrupt: useCallback(() => socketRef.current?.interrupt() ?? false, []),
    respond: useCallback((requestId, behavior, answer) => current().respondToPermission(requestId, behavior, answer), [current]),
    connect: useCallback(() => current().connect(), [current]),
    close: useCallback(() => socketRef.current?.close(), []),
  };
}
