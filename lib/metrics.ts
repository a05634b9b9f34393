/**
 * Prometheus metrics (prom-client, which runs unchanged under Bun).
 *
 * Nothing here is touched per frame: relay counters are added once per stdout read chunk, and
 * everything else once per connection or run, so metrics cost nothing measurable on the hot path.
 */
import client from "prom-client";

export interface MetricsSources {
  connectionsOpen(): number;
  runsActive(): number;
  queueDepth(): number;
}

const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const FIRST_FRAME_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new client.Registry();
  readonly connections = new client.Counter({ name: "gateway_connections_total", help: "Connections closed, by outcome", labelNames: ["outcome"], registers: [this.registry] });
  readonly closeCodes = new client.Counter({ name: "gateway_close_codes_total", help: "Close codes sent to clients", labelNames: ["code", "reason"], registers: [this.registry] });
  readonly authRefusals = new client.Counter({ name: "gateway_auth_refusals_total", help: "Connections refused by authentication or admission, by error code", labelNames: ["code"], registers: [this.registry] });
  readonly runs = new client.Counter({ name: "gateway_runs_total", help: "Runs ended, by exit reason", labelNames: ["reason"], registers: [this.registry] });
  readonly spawnFailures = new client.Counter({ name: "gateway_spawn_failures_total", help: "CLI processes that could not be started", registers: [this.registry] });
  readonly frames = new client.Counter({ name: "gateway_frames_relayed_total", help: "Frames sent to clients", registers: [this.registry] });
  readonly bytes = new client.Counter({ name: "gateway_stdout_bytes_total", help: "Bytes read from CLI stdout", registers: [this.registry] });
  readonly runDuration = new client.Histogram({ name: "gateway_run_duration_seconds", help: "Run duration, spawn to exit", buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly firstFrame = new client.Histogram({ name: "gateway_time_to_first_frame_seconds", help: "Spawn to the first stdout output relayed", buckets: FIRST_FRAME_BUCKETS, registers: [this.registry] });

  constructor(sources: MetricsSources, withProcessMetrics = true) {
    new client.Gauge({ name: "gateway_connections_open", help: "Open WebSocket connections", registers: [this.registry], collect() { this.set(sources.connectionsOpen()); } });
    new client.Gauge({ name: "gateway_runs_active", help: "Live CLI process groups", registers: [this.registry], collect() { this.set(sources.runsActive()); } });
    new client.Gauge({ name: "gateway_queue_depth", help: "Runs waiting for a process slot", registers: [this.registry], collect() { this.set(sources.queueDepth()); } });
    if (withProcessMetrics) client.collectDefaultMetrics({ register: this.registry, prefix: "gateway_" });
  }

  /** Once per stdout read chunk. */
  relayed(bytes: number, frames: number): void {
    this.bytes.inc(bytes);
    if (frames > 0) this.frames.inc(frames);
  }

  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
