// The one file that loads the native addon. Everything else goes through the
// typed functions here; the handle stays opaque.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { LiveStats, NativeJob } from '../model.js';
import { runError } from '../errors.js';

/** What a worker returns with --explain: its sampled instruction pointers (perf_napi.c). */
export interface NativeExplain {
  event: 'none' | 'cycles' | 'cpu-clock';
  /** ns (cpu-clock) or cycles (cycles) per sample. */
  period: number;
  /** The event's total over the measured interval: ns of CPU (cpu-clock) or cycles. */
  count: number;
  samples: number;
  lost: number;
  dropped: number;
  /** Hex instruction pointers, and how often each was sampled. */
  ips: string[];
  counts: number[];
}

export interface NativeWorkerResult {
  ios: number;
  bytes: number;
  readIos: number;
  writeIos: number;
  submitCalls: number;
  reapCalls: number;
  submitted: number;
  reaped: number;
  errors: number;
  userUs: number;
  sysUs: number;
  elapsedUs: number;
  /** Voluntary and involuntary context switches over the measured interval. */
  vcsw: number;
  nvcsw: number;
  /** Reap calls that found no completion while measuring. */
  emptyReaps: number;
  /** --explain: the worker's samples (src/explain/build.ts). */
  explain?: NativeExplain;
}

/** result.system: native/core/sysstat.h's deltas over the measured interval, in ns. */
export interface NativeSystemResult {
  elapsedNs: number;
  statValid: boolean;
  totalNs: { user: number; nice: number; system: number; idle: number; iowait: number; irq: number; softirq: number; steal: number };
  /** [cpu, ns] for every CPU online at both ends: user + nice + system. */
  cpuBusyNs: Array<[number, number]>;
  cpuStealNs: Array<[number, number]>;
  helperCpuNs: number;
  helperVcsw: number;
  helperNvcsw: number;
  helperThreads: number;
  helpersTruncated: boolean;
  /** null: no interrupt names in the job, or /proc/interrupts unreadable. */
  irqs: number | null;
  irqSources: string[];
  processUserNs: number;
  processSysNs: number;
}

export interface NativeRunResult {
  workers: NativeWorkerResult[];
  histogram: number[];
  latencyCount: number;
  latencySumNs: number;
  latencyMinNs: number;
  latencyMaxNs: number;
  verifiedBlocks: number;
  verifyFailures: number;
  /** I/O errors while measuring. */
  errors: number;
  /** I/O errors before measuring began (--ramp, setup passes): they count against --max-errors only. */
  rampErrors: number;
  /** The clock that stamped latencies, its calibrated rate (0 unless tsc), and why --clock auto fell back. */
  clockSource: 'tsc' | 'monotonic';
  tscHz: number;
  clockFallback?: string;
  /** io_uring engines: the ring's setup flags as the kernel took them, comma-separated (uring_setup_names); absent otherwise. */
  ringFlags?: string;
  stopped: 'done' | 'interrupted' | 'error';
  errorMessage: string;
  /** What to do about errorMessage, when the native side knows. */
  errorFix?: string;
  /** Absent when no worker began measuring. */
  system?: NativeSystemResult;
  /** --rate-iops (rate_napi.c): the schedules summed over the workers, and the latency from the due time. */
  rate?: NativeRateResult;
  /** --interval: the finished intervals the polls left (series()). */
  series?: NativeSeriesChunk;
  /** zone-append only */
  zonesUsed?: number;
  zoneAppendsChecked?: number;
  zoneAppendsOutside?: number;
}

export interface NativeRateResult {
  /** I/Os issued on the schedule while measuring, those due while every slot was busy, and the longest wait past a due time. */
  issued: number;
  late: number;
  maxLagNs: number;
  /** Completion less due time, laid out as NativeRunResult.histogram. */
  histogram: number[];
  latencyCount: number;
  latencySumNs: number;
  latencyMinNs: number;
  latencyMaxNs: number;
}

/** One worker's finished interval (native/core/series.h); ns since measuring began. */
export interface NativeSeriesPoint {
  worker: number;
  index: number;
  /** The partial interval measuring ended in. */
  last: boolean;
  startNs: number;
  endNs: number;
  ios: number;
  bytes: number;
  errors: number;
  userUs: number;
  sysUs: number;
  latCount: number;
  latSumNs: number;
  latMinNs: number;
  latMaxNs: number;
  /** The interval's non-empty latency buckets, flat: [index, count, index, count, …]. */
  lat: number[];
}

/** series(): what the workers finished since the last call, and the intervals lost so far to full rings. */
export interface NativeSeriesChunk {
  points: NativeSeriesPoint[];
  dropped: number;
}

/** nvmeCommandInfo(): what the NVMe command workloads check before running. Fields as the spec names them. */
export interface NvmeCommandInfo {
  nsid: number;
  ctrl: { oncs: number; lpa: number; ocfs: number; mdts: number; vwc: number; ctratt?: number };
  ns: { nsze: number; lbaSize: number; dlfeat: number; mssrl: number; mcl: number; msrc: number } | null;
  nsError?: string;
  /** Command Set Identifier from the Namespace Identification Descriptors; -1 when none is given. */
  csi: number;
  csiError?: string;
  /** Identify Controller for the NVM command set (CNS 06h, CSI 00h), when the controller has it. */
  nvmCtrl: { vsl: number; wzsl: number; dmrl: number; dmrsl: number } | null;
  /** Zoned namespaces: Identify Namespace and Controller for CSI 02h. zsze in LBAs, zasl a power of two of 4 KiB. */
  zns: { zoc: number; ozcs: number; mar: number; mor: number; zsze: number; zdes: number; zasl: number } | null;
  znsError?: string;
  /** Commands Supported and Effects log (05h) for the namespace's command set: 256 I/O command entries. */
  effects: number[] | null;
  effectsError?: string;
}

export interface NvmeZone {
  type: number;
  state: number;
  cap: number;
  slba: number;
  wp: number;
}

export interface NvmeIdentify {
  ctrl: {
    model: string;
    serial: string;
    firmware: string;
    vid: number;
    mdts: number;
    cntlid: number;
    version: number;
    oacs: number;
    oncs: number;
    vwc: number;
    nn: number;
  };
  ns?: {
    nsid: number;
    nsze: number;
    ncap: number;
    nuse: number;
    lbaSize: number;
    metaSize: number;
    extendedMeta: number;
    lbaFormat: number;
    nlbaf: number;
    dps: number;
  };
}

declare const runHandleBrand: unique symbol;
export type RunHandle = { readonly [runHandleBrand]: true };

/** nvmeReportZones() and vfioReportZones(): how many zones the controller reported, and those that fit. */
export interface NvmeZoneReport {
  reported: number;
  zones: NvmeZone[];
}

/** vfioProbe(): nvmeIdentify()'s shape for a controller on vfio-pci, plus the CAP fields the driver uses. */
export interface VfioProbeResult extends NvmeIdentify {
  cap: { mqes: number; dstrd: number; mpsmin: number; timeoutMs: number; readyTimeoutMs: number; css: number; maxTransferBytes: number; iommuRanges: number };
  /** With a namespace: what nvmeCommandInfo() reads through a kernel node, read over the driver's admin queue. */
  commands?: NvmeCommandInfo;
}

/**
 * nvmeFdpInfo() / vfioFdpInfo(): Flexible Data Placement as the controller
 * reports it (native/addon/fdp_napi.c). Past fdps, fields are there only when
 * FDPS is set; config, ruhs and stats only when FDP is enabled. A part that
 * could not be read is null with its ...Error beside it.
 */
export interface NvmeFdpInfo {
  nsid: number;
  /** Identify Controller CTRATT; fdps is its bit 19. */
  ctratt: number;
  fdps: boolean;
  /** The namespace's endurance group (Identify Namespace ENDGID). */
  endgid: number;
  /** Get Features 1Dh for the endurance group: FDPE, and FDPCIDX the configuration in use. */
  enabled?: boolean | null;
  fdpcidx?: number;
  featureError?: string;
  /** The FDP configurations log's entry FDPCIDX: reclaim groups, handles and their types, reclaim unit size. */
  config?: { index: number; fdpa: number; rgif: number; valid: boolean; nrg: number; nruh: number; maxpids: number; nnss: number; runs: number; erutl: number; ruht: number[] } | null;
  configError?: string;
  /** Reclaim Unit Handle Status: the namespace's placement identifiers (kernel nodes only; null over vfio). */
  ruhs?: { reported: number; pids: number[]; ruamw: number[] } | null;
  ruhsError?: string;
  /** FDP statistics log: host and media bytes with metadata written, media bytes erased. */
  stats?: { hostBytes: number; mediaBytes: number; erasedBytes: number; overflow: boolean } | null;
  statsError?: string;
}

/** Every export of the addon; nothing else crosses into native code. */
export interface NativeAddon {
  /** Parses the job; the engines come up and the workers start inside wait(), off the JavaScript thread. */
  start(job: NativeJob): RunHandle;
  stats(handle: RunHandle): LiveStats;
  stop(handle: RunHandle): void;
  /** --interval: the intervals the workers finished since the last call (the rest come in the result). */
  series(handle: RunHandle): NativeSeriesChunk;
  /** Brings the engines up, runs, joins and closes them (a VFIO shutdown) on a pool thread; rejects with what start() threw before. */
  wait(handle: RunHandle): Promise<NativeRunResult>;
  nvmeIdentify(devicePath: string, nsid?: number): NvmeIdentify;
  nvmeCommandInfo(devicePath: string, nsid?: number): NvmeCommandInfo;
  nvmeReportZones(devicePath: string, nsid: number, slba: number, maxZones: number): NvmeZoneReport;
  /** The commands each engine issues besides read and write. */
  engineCommands(): Record<string, string[]>;
  /** flock(2) on an open fd: 'ex' and 'sh' block until granted. For appends shared between runs. */
  flock(fd: number, op: 'ex' | 'sh' | 'un'): void;
  /**
   * Bring a controller on vfio-pci up with the userspace driver, Identify it (and namespace nsid), shut it down,
   * on a pool thread. A non-zero abort[0] cuts the bring-up short: the promise rejects with code EINTR.
   */
  vfioProbe(pciAddress: string, nsid: number | undefined, abort?: Int32Array): Promise<VfioProbeResult>;
  /** nvmeReportZones() for a controller on vfio-pci, over one I/O queue pair brought up for it, on a pool thread (abort: as vfioProbe). */
  vfioReportZones(pciAddress: string, nsid: number, slba: number, maxZones: number, abort?: Int32Array): Promise<NvmeZoneReport>;
  nvmeFdpInfo(devicePath: string, nsid?: number): NvmeFdpInfo;
  /** nvmeFdpInfo() for a controller on vfio-pci, over its admin queue brought up for it, on a pool thread (abort: as vfioProbe). */
  vfioFdpInfo(pciAddress: string, nsid: number, abort?: Int32Array): Promise<NvmeFdpInfo>;
}

/**
 * An error thrown by the addon: the errno name in code, and where the native
 * side knows what to do about it, the fix as data (not in the message).
 */
export interface NativeError extends Error {
  code?: string;
  fix?: string;
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon) return addon;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(here, '..', '..', '..');
  const require = createRequire(import.meta.url);
  const candidates = [path.join(root, 'build', 'Release', 'nvmebench_native.node'), path.join(root, 'build', 'Debug', 'nvmebench_native.node')];
  for (const file of candidates) {
    try {
      addon = require(file) as NativeAddon;
      return addon;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') {
        throw runError(`the native engine at ${file} failed to load: ${(err as Error).message}`, 'rebuild it with: npm rebuild');
      }
    }
  }
  throw runError('the native engine is not built', 'run npm install in the nvmebench directory (it needs python3, make and g++)');
}
