import type { CampaignCpuSplit } from './campaign-cpu.js';
import type { SinkStats } from './smtp-sink.js';

/** What bench/listmonk.ts measured of one system's campaign: a row of bench/results/listmonk*.json. */
export interface ListmonkRow {
  system: string;
  settings: string;
  recipients: number;
  emailsPerSecond: number;
  emailsPerSecondFirstToLast: number;
  firstEmailMs: number;
  seconds: number;
  cpuMsPer1000: number;
  cpuMsPer1000ByProcess: Record<string, number>;
  peakRssMbByProcess: Record<string, number>;
  /** Peak RSS of the system's own processes, PostgreSQL left out (see postgresPeakRssMb). */
  appPeakRssMb: number;
  /** Sum of the VmHWM of every PostgreSQL process: shared buffers count once per process that touched them. */
  postgresPeakRssMb: number;
  postgresProcesses: number;
  sink: SinkStats;
  exactlyOnce: boolean;
  status: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  /** Monotonic ms (the --cpu-prof clock in µs / 1000) from the campaign's start to its last message. */
  window: { fromMs: number; toMs: number };
  /** With TIDINGS_PROFILE=1: the Tidings worker's CPU in that window by part (bench/lib/campaign-cpu.ts). */
  workerCpu?: CampaignCpuSplit;
}
