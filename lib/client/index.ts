/**
 * The browser client for claude-gateway (`claude.v1`). No React here: the hook lives in
 * ./use-claude-socket.ts so that plain pages do not pull React in.
 */
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.ts";
export {
  ClaudeSocket,
  PROTOCOL,
  type ClaudeSocketEvents,
  type ClaudeSocketOptions,
  type ClaudeSocketState,
  type GatewayErrorInfo,
  type PermissionRequest,
  type RunOptions,
  type SendOptions,
  type SocketLike,
  type SocketStatus,
} from "./claude-socket.ts";
export { CLOSE_CODES, describeClose, type CloseInfo, type CloseKey, type CloseKind, type CloseMeaning } from "./close-codes.ts";
export { parseFrame, type CliMessage, type ContentBlock, type Frame, type GatewayFrame, type RunSummary, type StreamEvent } from "./frames.ts";
export { Transcript, type ChatItem, type ChatItemKind } from "./transcript.ts";
