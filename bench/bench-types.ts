/** What one benchmark section reports; bench/run.ts writes them to bench/results/ and BENCHMARKS.md. */
export interface BenchRow {
  /** e.g. "detection latency p99" */
  metric: string;
  /** Measured value with its unit, e.g. "12.4 ms" */
  value: string;
  /** The target, e.g. "≤ floor + 50 ms"; omit when there is none. */
  target?: string;
  /** Whether the target was met; omit when there is no target. */
  pass?: boolean;
}

export interface BenchSection {
  title: string;
  rows: BenchRow[];
  /** Set-up and method, one line each (sizes, what was compared, caveats). */
  notes?: string[];
}

export interface BenchContext {
  /** A PostgreSQL server URL (any database); a section creates and drops its own database on it. */
  databaseServerUrl: string;
  /** Scale factor from BENCH_SCALE (default 1); sections may shrink their sizes for a quick run. */
  scale: number;
  log(message: string): void;
}

export type BenchSectionRunner = (ctx: BenchContext) => Promise<BenchSection>;
