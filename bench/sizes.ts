/**
 * How big each measurement is: the full run the targets are stated for, and `--quick`, a smoke
 * run of about a minute that exercises every path with smaller numbers.
 */
export interface BenchSizes {
  name: "full" | "quick";
  throughput: { lines: number; lineBytes: number; reps: number };
  latency: { linesPerSec: number; seconds: number; lineBytes: number; reps: number };
  setup: { sequential: number; parallel: number; concurrency: number; reps: number };
  memory: { sockets: number; reps: number };
  slow: { bytes: number; readBytesPerSec: number };
  realCli: { reps: number };
}

export const FULL: BenchSizes = {
  name: "full",
  throughput: { lines: 1_000_000, lineBytes: 200, reps: 7 }, // bimodal on 2 cores: more runs, steadier median
  latency: { linesPerSec: 1_000, seconds: 10, lineBytes: 200, reps: 3 },
  setup: { sequential: 200, parallel: 200, concurrency: 20, reps: 3 },
  memory: { sockets: 500, reps: 3 },
  slow: { bytes: 200_000_000, readBytesPerSec: 1_000_000 },
  realCli: { reps: 3 },
};

export const QUICK: BenchSizes = {
  name: "quick",
  throughput: { lines: 100_000, lineBytes: 200, reps: 3 },
  latency: { linesPerSec: 1_000, seconds: 2, lineBytes: 200, reps: 2 },
  setup: { sequential: 40, parallel: 40, concurrency: 20, reps: 2 },
  memory: { sockets: 100, reps: 1 },
  slow: { bytes: 10_000_000, readBytesPerSec: 1_000_000 },
  realCli: { reps: 1 },
};
