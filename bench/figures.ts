/**
 * What every measurement produces: figures (one per table row), each with a summary per
 * target, and the context the scenarios share.
 */
import type { BenchSizes } from "./sizes.ts";
import type { Summary } from "./stats.ts";
import type { WsTarget } from "./targets/target.ts";

export type Column = "gateway" | "websocketd" | "pipe";

export type FigureKey =
  | "throughputLines"
  | "throughputMB"
  | "cpuPerFrame"
  | "clientCpuPerFrame"
  | "latencyP50"
  | "latencyP99"
  | "helloP50"
  | "firstFrameP50"
  | "firstFrameP99"
  | "cpuPerConn"
  | "connsPerSec"
  | "rssPerConn"
  | "slowRssGrowth"
  | "slowLost"
  | "slowOutOfOrder"
  | "slowReadRate"
  | "realCliInit";

export interface Figure {
  key: FigureKey;
  label: string;
  unit: string;
  values: Partial<Record<Column, Summary>>;
  /** Why a column is empty or what to know about the row. */
  note?: string;
}

export interface BenchContext {
  emitter: string;
  sizes: BenchSizes;
  gateway: WsTarget;
  websocketd: WsTarget | null;
  log(message: string): void;
}

/** The targets measured over WebSocket: the gateway, and websocketd when installed. */
export function wsTargets(ctx: BenchContext): WsTarget[] {
  return ctx.websocketd === null ? [ctx.gateway] : [ctx.gateway, ctx.websocketd];
}
