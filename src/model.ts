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
  /** What stamps latencies: 0 CLOCK_MONOTONIC, 1 the TSC if its calibration holds, 2 the TSC or fail (native/core/clock.h). */
  clockMode: number;
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
  iosPerSubmitCall: number;
  iosPerReapCall: number;
  errors: number;
  verifiedBlocks: number;
  /** NVMe command workloads: the command and what it found (JSON only). */
  command?: CommandRecord;
  /** Full histogram: [bucketLowNs, count] pairs for non-empty buckets (JSON only). */
  histogram: Array<[number, number]>;
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

export const SCHEMA_VERSION = 1;
