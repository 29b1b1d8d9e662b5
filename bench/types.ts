/** One line of the benchmark table. */
export interface BenchRow {
  /** What was measured, e.g. "write pcap 64 B frames". */
  name: string;
  /** Our measurement. */
  value: number;
  /** Unit of `value` and `reference`, e.g. "frames/s", "MB/s", "ms". */
  unit: string;
  /** The reference measured in the same run (C program, tshark, plain relay), if any. */
  reference?: number;
  /** Name of the reference, e.g. "C libpcap", "tshark -T json". */
  referenceName?: string;
  /** value / reference, or reference / value for times; computed by the runner when absent. */
  ratio?: number;
  /** The goal in words, e.g. "≥ 1.0× C". */
  goal?: string;
  /** Whether the goal was met, when it can be judged. */
  met?: boolean;
}

/** A benchmark module's entry: runs its workloads and returns rows. */
export type Bench = (options: { quick: boolean }) => Promise<BenchRow[]>;
