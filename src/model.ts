// The data that crosses the layers: a fully specified job goes down to the
// native engine, a RunResult comes back up and feeds the tables and exporters.

export const ENGINE_NAMES = ['psync', 'aio', 'uring', 'uring-poll', 'pt', 'pt-poll', 'ioctl', 'vfio', 'nop'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export const WORKLOADS = ['randread', 'randwrite', 'read', 'write', 'randrw', 'rw'] as const;
export type RwWorkload = (typeof WORKLOADS)[number];
/** The NVMe command workloads (src/nvme-commands.ts): one command, benchmarked like reads and writes. */
export const COMMAND_WORKLOADS = ['write-zeroes', 'trim', 'verify', 'compare', 'flush', 'copy', 'zone-append', 'raw'] as const;
export type CommandName = (typeof COMMAND_WORKLOADS)[number];
/** raw names its opcode in the workload column: raw:0x02. */
export type Workload = RwWorkload | Exclude<CommandName, 'raw'> | `raw:0x${string}`;

/** What the native engine receives: every field set, every value already valid. */
export interface NativeJob {
  engine: EngineName;
  path: string;
  /** 0..100: share of reads. randread/read = 100, randwrite/write = 0. */
  readPercent: number;
  random: boolean;
  blockSize: number;
  ioDepth: number;
  threads: number;
  /** One CPU per worker, or empty for no pinning. */
  cpus: number[];
  runtimeMs: number;
  rampMs: number;
  /** Total I/Os across workers, 0 for time-based. */
  ioLimit: number;
  /** Several targets: the CLOCK_MONOTONIC instant (ns) every target's workers start at, so they measure together. Absent: at once. */
  startAtNs?: number;
  offset: number;
  size: number;
  batchSubmit: number;
  batchComplete: number;
  fixedBufs: boolean;
  regFiles: boolean;
  sqpoll: boolean;
  /** O_DIRECT (false only for --buffered on files). */
  direct: boolean;
  verify: boolean;
  /** Stamp seed for writes; for reads 0 accepts any seed. */
  verifySeed: number;
  /** NVMe namespace id and LBA size, for the passthrough engines (0 otherwise). */
  nsid: number;
  lbaSize: number;
  vectored: boolean;
  maxErrors: number;
  /** Time every Nth I/O: 1 every one (--lat all), N (--lat sample:N), 0 none (--lat off). */
  latEvery: number;
  /** /proc/interrupts action-name prefixes of the target's controller (["nvme0q"]); empty: interrupts not counted. */
  irqNames: string[];
  /** What stamps latencies: 0 CLOCK_MONOTONIC, 1 the TSC if its calibration holds, 2 the TSC or fail (native/core/clock.h). */
  clockMode: number;
  /** --interval in ms, and how many finished intervals each worker holds until read (native/core/series.h). Absent: no series. */
  intervalMs?: number;
  seriesSlots?: number;
  /** NVMe command workloads; absent for plain reads and writes. */
  command?: CommandName;
  rawOpcode?: number;
  /** cdw10..cdw15 */
  rawCdw?: number[];
  rawDataLen?: number;
  rawDir?: 'none' | 'write' | 'read';
  /** copy: source ranges per Copy command. */
  copyRanges?: number;
  /** zone-append: zones open at once (over all workers), zone size and writable capacity. */
  zones?: number;
  zoneBytes?: number;
  zoneCapBytes?: number;
  /** raw --dump: where the data of the last command goes. */
  dumpPath?: string;
  /** --explain: sample each worker thread with perf events. */
  explain?: boolean;
  /** --rate-iops: this worker's share of the open-loop rate (native/core/rate.h); absent: closed loop. */
  rateIops?: number;
  /** --arrival poisson: exponential gaps; absent or false: evenly spaced. */
  ratePoisson?: boolean;
  /** Metadata formats (native/core/pi.h): bytes per LBA, inline (extended) or separate; absent without metadata. */
  metaSize?: number;
  metaExtended?: boolean;
  /** PI type 1..3, tuple in the first 8 bytes, PRACT, PRCHK bits, application tag and its mask. */
  piType?: number;
  piFirst?: boolean;
  piAct?: boolean;
  piCheck?: number;
  piApptag?: number;
  piApptagMask?: number;
  /** --fdp: writes carry placement identifiers (the namespace's, resolved from --plids), chosen by fdpScheme. */
  fdp?: boolean;
  fdpScheme?: FdpScheme;
  fdpPids?: number[];
}

/** A run on a metadata format: bytes per LBA, layout, PI type, who made the PI (host: nvmebench; controller: --pi-act), PRCHK. */
export interface MetadataRecord {
  bytes: number;
  extended: boolean;
  piType: number;
  pi: 'none' | 'host' | 'controller';
  check: string[];
}

/** --fdp-scheme: how each write's placement identifier is chosen from the list. */
export type FdpScheme = 'roundrobin' | 'random' | 'per-worker';
export const FDP_SCHEMES: readonly FdpScheme[] = ['roundrobin', 'random', 'per-worker'];

/**
 * A write run on a namespace whose endurance group has FDP enabled: the FDP
 * Statistics log's counters over the run (after minus before), and the write
 * amplification they give. Read from CSV, only waf is known.
 */
export interface FdpRecord {
  /** Host bytes with metadata written (HBMW) over the run. */
  hostBytesWritten?: number;
  /** Media bytes with metadata written (MBMW) over the run. */
  mediaBytesWritten?: number;
  /** mediaBytesWritten / hostBytesWritten; NaN when the host wrote nothing. */
  waf: number;
  /** --fdp: the placement identifiers the writes carried, and how they were chosen. */
  placementIds?: number[];
  scheme?: FdpScheme;
}

/** Counters summed across workers, read once a second while a run goes on. */
export interface LiveStats {
  ios: number;
  bytes: number;
  submitCalls: number;
  reapCalls: number;
  submitted: number;
  reaped: number;
  errors: number;
  elapsedMs: number;
  /** Some worker is outside the measured interval: ramping, or draining and reading back. */
  ramping: boolean;
  /** I/Os and bytes outside the measured interval, which ios and bytes leave out. */
  unmeasuredIos: number;
  unmeasuredBytes: number;
  /** Some worker is reading back what the run wrote (--verify). */
  verifying: boolean;
}

/** --lat: time every I/O, every Nth, or none. */
export type LatencyMode = 'all' | 'off' | `sample:${number}`;

/** --clock: what stamps latencies. */
export type ClockMode = 'auto' | 'tsc' | 'monotonic';

/** The clock a run's latencies came from, and its calibration. */
export interface ClockInfo {
  source: 'tsc' | 'monotonic';
  /** The TSC's calibrated rate, when source is tsc. */
  tscHz?: number;
  /** --clock auto: why the TSC was not used. */
  fallback?: string;
}

export interface LatencySummary {
  minUs: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

export interface TargetInfo {
  path: string;
  /** 'none': the nop engine, which opens nothing. */
  kind: 'file' | 'block' | 'nvme-char' | 'pci' | 'none';
  sizeBytes: number;
  logicalBlockSize: number;
  model: string;
  serial: string;
  firmware: string;
  emulated: boolean;
}

export interface EnvironmentInfo {
  timestamp: string;
  hostname: string;
  kernel: string;
  nvmebenchVersion: string;
  cpuModel: string;
  /** v3: --fleet-run-id, the fleet run this record belongs to (absent: none). */
  fleetRunId?: string;
}

/** One measured run: one cell of the matrix, one repeat. */
export interface RunRecord {
  schemaVersion: number;
  runId: string;
  repeat: number;
  workload: Workload;
  engine: EngineName;
  blockSize: number;
  ioDepth: number;
  threads: number;
  readPercent: number;
  runtimeS: number;
  options: {
    batchSubmit: number;
    batchComplete: number;
    fixedBufs: boolean;
    regFiles: boolean;
    sqpoll: boolean;
    direct: boolean;
    verify: boolean;
    cpus: number[];
    offset: number;
    size: number;
    /** --lat: which I/Os were timed. JSON only (absent in CSV and in records from before it). */
    latency?: LatencyMode;
    /** --clock as asked. JSON only (absent in CSV and in records from before it). */
    clock?: ClockMode;
  };
  /** The clock used (JSON only; records without it used CLOCK_MONOTONIC). */
  clock?: ClockInfo;
  /**
   * io_uring engines (uring, uring-poll, pt, pt-poll, nop): the ring's setup
   * flags as the kernel took them, IORING_SETUP_ less (SINGLE_ISSUER,
   * DEFER_TASKRUN, NO_SQARRAY where the kernel has them). JSON only; absent for
   * the other engines and in records from before it.
   */
  ringFlags?: string[];
  target: TargetInfo;
  env: EnvironmentInfo;
  status: 'ok' | 'interrupted' | 'failed';
  errorMessage: string;
  ios: number;
  iops: number;
  bandwidthBps: number;
  latency: LatencySummary;
  cpuUserPct: number;
  cpuSysPct: number;
  cpuNsPerIo: number;
  /** Whole-system CPU per I/O (results/README.md): workers + io_uring helpers + IRQ + softirq + other kernel time. NaN: not measured. */
  sysCpuNsPerIo: number;
  /** NVMe interrupts per I/O on the controller's vectors; NaN for files, loop devices, nop and vfio. */
  irqsPerIo: number;
  /** Context switches (voluntary + involuntary) of the workers and io_uring helper threads per I/O. */
  ctxswPerIo: number;
  iosPerSubmitCall: number;
  iosPerReapCall: number;
  errors: number;
  verifiedBlocks: number;
  /** NVMe command workloads: the command and what it found (JSON only). */
  command?: CommandRecord;
  /** Metadata formats on pt, pt-poll, ioctl and vfio: the format and who made the PI (JSON only). */
  metadata?: MetadataRecord;
  /** Polled engines (uring-poll, pt-poll, vfio, SQPOLL): reap calls that found no completion, per I/O. */
  emptyPollsPerIo?: number;
  /** --explain: CPU by layer (JSON keeps all of it; CSV the ns/IO per layer). */
  explain?: ExplainRecord;
  /** Full histogram: [bucketLowNs, count] pairs for non-empty buckets (JSON only). */
  histogram: Array<[number, number]>;
  /** Where the CPU went over the measured interval, whole system (JSON only; absent before schema v2). */
  system?: SystemCpuRecord;
  /** Several targets in one run: which target (0-based, in the order given); absent for one target and for the aggregate. */
  targetIndex?: number;
  /** v3: the FDP Statistics log over a write run on an FDP namespace (CSV: waf). */
  fdp?: FdpRecord;
  /** Several targets: the cell's aggregate over all of them (IOPS, bandwidth and CPU summed, latency from the merged histograms). */
  aggregate?: boolean;
  /** v3, plans (nvmebench plan run): the name of the plan entry this record ran under; absent outside a plan. */
  planEntry?: string;
  /** v3, jobs side by side (--job, a plan entry's "jobs"): the job's name; absent for a run without jobs. */
  job?: string;
  /** --rate-iops: the open-loop schedule and what it measured (schema v3); absent for a closed loop. */
  rate?: RateRecord;
  /** --interval: the run's figures per interval, summed over workers and per worker (JSON only; v3). */
  series?: SeriesRecord;
  /** --steady-state: whether the rule held, and the window whose figures this record reports (v3). */
  steady?: SteadyRecord;
}

/**
 * An open-loop run (--rate-iops). latency (the record's) is the service
 * latency, submission to completion; schedLatency counts from when the
 * schedule had each I/O due, so time spent waiting for a slot is in it.
 * Achieved is the record's iops.
 */
export interface RateRecord {
  arrival: 'uniform' | 'poisson';
  /** The rate asked for, over every worker of this record. */
  offeredIops: number;
  /** I/Os due while every slot was busy: they waited for one (issued late). */
  lateIos: number;
  /** The longest an I/O waited past its due time before it was issued, µs. */
  maxLagUs: number;
  schedLatency: LatencySummary;
  /** [bucketLowNs, count] of the latency from the due time (JSON only). */
  schedHistogram: Array<[number, number]>;
}

// --interval and --steady-state (schema v3): src/model-series.ts
export type { SeriesPoint, SeriesRecord, SteadyMetric, SteadyRecord } from './model-series.js';
import type { SeriesRecord, SteadyRecord } from './model-series.js';

/**
 * The whole system over the measured interval, in ns (results/README.md).
 * sysCpuNsPerIo = (workerCpuNs + helperCpuNs + irqNs + softirqNs + otherKernelNs) / ios.
 */
export interface SystemCpuRecord {
  elapsedNs: number;
  /** The worker threads: getrusage(RUSAGE_THREAD), user + system. */
  workerCpuNs: number;
  /** io_uring's helper threads (iou-sqp-*, iou-wrk-*) of this process. */
  helperCpuNs: number;
  helperThreads: number;
  /** /proc/stat over all CPUs. */
  irqNs: number;
  softirqNs: number;
  /** All CPUs' system time less this process's (clamped at 0): kworkers, ksoftirqd, the block layer on others' behalf, and other processes' kernel time. */
  otherKernelNs: number;
  stealNs: number;
  /** Busy time (user + nice + system) on the CPUs considered, less this process's CPU (clamped at 0). */
  foreignCpuNs: number;
  /** getrusage(RUSAGE_SELF), user + system: every thread of this process, Node's included. */
  processCpuNs: number;
  /** Interrupts on the controller's vectors; null when not counted (no NVMe controller behind the target). */
  interrupts: number | null;
  irqSources: string[];
  contextSwitches: { voluntary: number; involuntary: number };
  /** The CPUs the "another process" warning looks at: the workers' pinned CPUs, or every CPU when unpinned. */
  cpus: Array<{ cpu: number; busyNs: number; stealNs: number }>;
  cpusPinned: boolean;
}

/** What a command workload's record adds. */
export interface CommandRecord {
  name: CommandName;
  /** The NVMe opcode the passthrough engines sent. */
  opcode: number;
  /** What the block engines call instead (BLKZEROOUT, fallocate, fdatasync…), for this record's engine. */
  blockCall?: string;
  copyRanges?: number;
  zones?: number;
  zoneBytes?: number;
  /** zone-append: zones appended to, appends whose LBA was checked, and those outside their zone. */
  zonesUsed?: number;
  appendsChecked?: number;
  appendsOutsideZone?: number;
  /** raw: the command dwords as sent. */
  cdw?: number[];
  dataLen?: number;
  dataDir?: 'none' | 'write' | 'read';
}

/** v2 added sys_cpu_ns_per_io, irqs_per_io and ctxsw_per_io (and system in JSON); v3 the rate, plan/job, FDP, steady-state and fleet columns (CSV_V3_COLUMNS; rate, fdp, metadata, series and steady in JSON). */
export const SCHEMA_VERSION = 3;
/** The versions regress and plot read: older files lack the later figures, which read as unknown (NaN). */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1, 2, 3];
/** "v1, v2 and v3": for the messages that refuse another version. */
export const READABLE_VERSIONS_TEXT = READABLE_SCHEMA_VERSIONS.map((v) => `v${v}`).join(', ').replace(/, (?=[^,]*$)/, ' and ');

/** --explain: where the workers' CPU went over the measured interval, by layer (src/explain/). JSON keeps all of it. */
export interface ExplainRecord {
  /** The sampled event: hardware cycles where a PMU exists, the software cpu-clock otherwise. */
  event: 'cycles' | 'cpu-clock';
  /** CPU ns one sample stands for: the workers' measured CPU (getrusage) shared out over the samples. */
  nsPerSample: number;
  samples: number;
  /** Samples the kernel dropped (ring full), and those the native table had no room for. */
  lost: number;
  dropped: number;
  /** The workers' CPU over the measured interval (getrusage), and what the samples add up to. */
  cpuNs: number;
  sampledNs: number;
  /** cpu-clock: the event's own count of the workers' CPU, ns. Above cpuNs by steal and IRQ time in VMs. */
  eventNs?: number;
  /** Per layer (src/explain/layers.ts): ns per I/O and share of the samples (%). */
  layers: Record<string, { nsPerIo: number; pct: number }>;
  /** Every symbol sampled, most first; those in layer 'other' are what the rules missed. */
  symbols: Array<{ symbol: string; module: string; kernel: boolean; layer: string; samples: number; pct: number }>;
}
