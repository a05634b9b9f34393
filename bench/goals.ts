/**
 * The targets the gateway is held to, each checked against the medians: a ratio to
 * websocketd or to the pipe limit, or an absolute bound.
 */
import type { Column, Figure, FigureKey } from "./figures.ts";

export type Status = "met" | "missed" | "n/a";

export interface Goal {
  figure: FigureKey;
  /** Compare the gateway with this column (a ratio), or with `value` itself (null). */
  versus: Exclude<Column, "gateway"> | null;
  op: "≥" | "≤";
  value: number;
}

export const GOALS: readonly Goal[] = [
  { figure: "throughputLines", versus: "websocketd", op: "≥", value: 15 },
  { figure: "throughputLines", versus: "pipe", op: "≥", value: 0.45 },
  { figure: "cpuPerFrame", versus: null, op: "≤", value: 1 },
  { figure: "latencyP50", versus: "websocketd", op: "≤", value: 1.1 },
  { figure: "latencyP99", versus: "websocketd", op: "≤", value: 1.5 },
  { figure: "firstFrameP50", versus: "websocketd", op: "≤", value: 1.0 },
  { figure: "connsPerSec", versus: "websocketd", op: "≥", value: 0.9 },
  { figure: "rssPerConn", versus: null, op: "≤", value: 40 },
  { figure: "slowRssGrowth", versus: null, op: "≤", value: 32 },
  { figure: "slowLost", versus: null, op: "≤", value: 0 },
  { figure: "slowOutOfOrder", versus: null, op: "≤", value: 0 },
];

/** Gateway median ÷ the other column's median, or NaN. */
export function ratio(figure: Figure, versus: Exclude<Column, "gateway">): number {
  const gw = figure.values.gateway;
  const other = figure.values[versus];
  if (!gw || !other || gw.runs === 0 || other.runs === 0) return Number.NaN;
  return gw.median / other.median;
}

export function evaluate(goal: Goal, figure: Figure): Status {
  const actual = goal.versus === null ? (figure.values.gateway?.runs ? figure.values.gateway.median : Number.NaN) : ratio(figure, goal.versus);
  if (!Number.isFinite(actual)) return "n/a";
  return (goal.op === "≥" ? actual >= goal.value : actual <= goal.value) ? "met" : "missed";
}

export function describe(goal: Goal, unit: string): string {
  if (goal.versus === null) return goal.op === "≤" && goal.value === 0 ? "0 (nothing lost)" : `${goal.op} ${goal.value} ${unit}`;
  return `${goal.op} ${goal.value}× ${goal.versus === "pipe" ? "pipe" : "websocketd"}`;
}
