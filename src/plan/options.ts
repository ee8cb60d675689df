// Validate every option and fill in every default. What leaves this file is a
// RunPlan whose cells become fully specified native jobs.
import { parsePiOptions, type PiOptions } from '../engines/pi.js';
import os from 'node:os';
import { usageError } from '../errors.js';
import { ENGINE_NAMES, type ClockMode, type EngineName, type LatencyMode, type Workload } from '../model.js';
import type { CommandPlan } from '../engines/command-table.js';
import { parseCount, parseCpuList, parseDuration, parseList, parseSize } from './units.js';
import { parseFleetRunId, parseStartAt } from './fleet-options.js';
import { readAllowedCpus, realSys, type SysReader } from '../system/sysfs.js';
import { tscUnusable } from '../system/tsc.js';
import { parseLatencyTarget, parseRate, type LatencyTarget, type RatePlan } from './rate.js';
import { buildFdpPlan, type FdpPlan } from './fdp.js';
import { parseSeriesOptions, type RawSeriesOptions, type SeriesPlan } from './series-options.js';

/** Options as commander hands them over: strings and booleans, unvalidated. */
export interface RawRunOptions extends RawSeriesOptions {
  engine?: string;
  qd?: string;
  bs?: string;
  threads?: string;
  cpus?: string;
  runtime?: string;
  ramp?: string;
  ios?: string;
  size?: string;
  offset?: string;
  batchSubmit?: string;
  batchComplete?: string;
  fixedbufs?: boolean;
  regfiles?: boolean;
  sqpoll?: boolean;
  buffered?: boolean;
  verify?: boolean;
  verifySeed?: string;
  piAct?: boolean;
  piCheck?: string;
  piApptag?: string;
  rwmixRead?: string;
  nsid?: string;
  vectored?: boolean;
  maxErrors?: string;
  lat?: string;
  clock?: string;
  repeat?: string;
  warmup?: string;
  forceDestroy?: boolean;
  vfioAutoBind?: boolean;
  csv?: string | boolean;
  json?: string | boolean;
  md?: string | boolean;
  plot?: string;
  format?: string;
  quiet?: boolean;
  wide?: boolean;
  explain?: boolean;
  /** Fleet runs (src/plan/fleet-options.ts). */
  fleetRunId?: string;
  startAt?: string;
  fdp?: boolean;
  plids?: string;
  fdpScheme?: string;
  /** --rate-iops N | total:N, --arrival, --latency-target (src/plan/rate.ts). */
  rateIops?: string;
  arrival?: string;
  latencyTarget?: string;
}

/** --latency-target: what the search must meet, and the deepest queue it may try. */
export interface TargetSearchPlan extends LatencyTarget {
  maxQd: number;
}

export interface RunPlan {
  workload: Workload;
  /** '' when no target was given: only --engine nop runs without one. The first target when several were given. */
  targetPath: string;
  /** Every target given, in order ([] for none): each cell runs on all of them at once. */
  targetPaths: string[];
  /** --cpus auto: pin each target's workers to its device's NUMA node (src/run/cpus.ts). */
  cpusAuto: boolean;
  /** 'all' expands once the target is known; empty means the target's default engine. */
  engines: EngineName[] | 'all';
  ioDepths: number[];
  blockSizes: number[];
  threads: number;
  cpus: number[];
  runtimeMs: number;
  rampMs: number;
  ioLimit: number;
  size: number | undefined;
  offset: number;
  batchSubmit: number | undefined;
  batchComplete: number | undefined;
  fixedBufs: boolean;
  regFiles: boolean;
  sqpoll: boolean;
  buffered: boolean;
  verify: boolean;
  verifySeed: number | undefined;
  /** --pi-act, --pi-check, --pi-apptag (src/engines/pi.ts); undefined when none was given. */
  pi?: PiOptions;
  readPercent: number;
  random: boolean;
  nsid: number | undefined;
  vectored: boolean;
  maxErrors: number;
  /** --lat: which I/Os are timed, and as the native job says it (every Nth; 0 none). */
  latency: LatencyMode;
  latEvery: number;
  /** --clock as asked, the native job's clockMode, and why auto cannot use the TSC here. */
  clock: ClockMode;
  clockMode: number;
  clockFallback: string | undefined;
  repeat: number;
  /** --explain: sample the workers' CPU by layer (src/explain/). */
  explain: boolean;
  /** Unmeasured runs of every cell before the measured repeats (hyperfine's --warmup). */
  warmup: number;
  forceDestroy: boolean;
  csv: string | true | undefined;
  json: string | true | undefined;
  md: string | true | undefined;
  plot: string | undefined;
  format: 'table' | 'csv' | 'json' | 'md';
  quiet: boolean;
  /** --wide: the results table keeps every column on a terminal too. */
  wide: boolean;
  /** NVMe command workloads (write-zeroes, copy, raw…): set by src/commands/nvme-cmds.ts. */
  command?: CommandPlan;
  /** --fleet-run-id: recorded in every record (env.fleetRunId). */
  fleetRunId?: string;
  /** --start-at: wall-clock start barrier, ms since the epoch. */
  startAtMs?: number;
  /** --interval, --series-csv, --precondition, --steady-state (src/plan/series-options.ts). */
  series: SeriesPlan;
  /** --fdp: tag writes with placement identifiers (src/plan/fdp.ts); undefined without. */
  fdp?: FdpPlan;
  /** --rate-iops: an open-loop schedule (native/core/rate.h); absent: closed loop. */
  rate?: RatePlan;
  /** --latency-target: search QD (or, with --rate-iops, the rate) per engine (src/run/target-search.ts). */
  latencyTarget?: TargetSearchPlan;
}

/** The deepest queue a --latency-target search tries when --qd does not say. */
export const SEARCH_MAX_QD = 1024;

function parseRateOptions(raw: RawRunOptions, threads: number, targets: number, ioDepths: number[], latEvery: number): Pick<RunPlan, 'rate' | 'latencyTarget'> {
  if (raw.arrival !== undefined && raw.rateIops === undefined) throw usageError('--arrival needs --rate-iops', 'add --rate-iops N, or drop --arrival (a closed loop has no arrivals)');
  const rate = raw.rateIops !== undefined ? parseRate(raw.rateIops, raw.arrival, threads, targets) : undefined;
  if (raw.latencyTarget === undefined) return { rate };
  const target = parseLatencyTarget(raw.latencyTarget);
  if (!latEvery) throw usageError('--latency-target needs latencies, and --lat off measures none', 'drop --lat off (or use --lat sample:N)');
  const maxQd = raw.qd !== undefined ? Math.max(...ioDepths) : SEARCH_MAX_QD;
  return { rate, latencyTarget: { ...target, maxQd } };
}

export const DEFAULTS = {
  qd: 32,
  bs: 4096,
  threads: 1,
  runtimeMs: 10_000,
  rwmixRead: 50,
};

/** The longest --runtime or --ramp: a week. Beyond it the nanosecond clock arithmetic of a run has no meaning. */
export const MAX_DURATION_MS = 7 * 24 * 3_600_000;

function checkDurationBound(ms: number, text: string, what: string): number {
  if (!(ms <= MAX_DURATION_MS)) throw usageError(`${what} ${text.trim()} is longer than a week`, `give ${what} 168h or less`);
  return ms;
}

/** --vectored is a passthrough option: the other engines would run with fixed buffers silently off. */
export function checkVectored(engines: EngineName[] | 'all'): void {
  const others = engines === 'all' ? ['all'] : engines.filter((e) => e !== 'pt' && e !== 'pt-poll');
  if (others.length) {
    throw usageError(`--vectored applies only to the pt and pt-poll engines, not ${others.join(', ')}`, 'use --engine pt,pt-poll with --vectored, or drop --vectored');
  }
}

/** --lat all | sample:N | off: time every I/O, every Nth, or none. */
export function parseLatency(text: string): { latency: LatencyMode; latEvery: number } {
  const value = text.trim();
  if (value === 'all') return { latency: 'all', latEvery: 1 };
  if (value === 'off') return { latency: 'off', latEvery: 0 };
  const sample = /^sample:(\d+)$/.exec(value);
  const every = sample ? Number(sample[1]) : NaN;
  if (!(every >= 1 && every <= 0xffffffff)) {
    throw usageError(`--lat ${text} is not all, off or sample:N with N from 1`, 'use --lat all, --lat off, or --lat sample:64 to time one I/O in 64');
  }
  return every === 1 ? { latency: 'all', latEvery: 1 } : { latency: `sample:${every}`, latEvery: every };
}

/** --clock auto | tsc | monotonic: tsc where the TSC is not invariant is refused. */
export function parseClock(text: string, sys: Pick<SysReader, 'read'>, arch: string = process.arch): { clock: ClockMode; clockMode: number; clockFallback: string | undefined } {
  const clock = text.trim();
  if (clock === 'monotonic') return { clock, clockMode: 0, clockFallback: undefined };
  if (clock !== 'auto' && clock !== 'tsc') {
    throw usageError(`--clock ${text} is not auto, tsc or monotonic`, 'use --clock auto (the TSC where it is invariant), --clock tsc or --clock monotonic');
  }
  const why = tscUnusable(sys, arch);
  if (clock === 'tsc' && why) throw usageError(`--clock tsc cannot be used: ${why}`, 'use --clock auto or --clock monotonic');
  return why ? { clock, clockMode: 0, clockFallback: why } : { clock, clockMode: clock === 'tsc' ? 2 : 1, clockFallback: undefined };
}

/** nop opens nothing: a run of nop alone needs no target, one mixing it with another engine does. */
function checkTarget(workload: Workload, targetPath: string | undefined, engines: EngineName[] | 'all'): void {
  if (targetPath) return;
  const nopOnly = engines !== 'all' && engines.length > 0 && engines.every((e) => e === 'nop');
  if (nopOnly) return;
  const needing = engines === 'all' ? 'all' : engines.filter((e) => e !== 'nop').join(',');
  if (engines !== 'all' && engines.includes('nop')) {
    throw usageError(`no target given, and --engine ${needing} needs one (only nop runs without a target)`, `name a file or device: nvmebench ${workload} --engine ${engines.join(',')} /dev/ng0n1, or run --engine nop alone`);
  }
  throw usageError('no target given', `name a file or device: nvmebench ${workload} /dev/ng0n1 (or --engine nop, which needs none)`);
}

function parseEngines(text: string): EngineName[] | 'all' {
  if (text.trim() === 'all') return 'all';
  const names = parseList(text, (name) => {
    if (!(ENGINE_NAMES as readonly string[]).includes(name)) {
      throw usageError(`unknown engine '${name}'`, `choose from ${ENGINE_NAMES.join(', ')}, or all`);
    }
    return name as EngineName;
  });
  if (!names.length) throw usageError('--engine is empty', `choose from ${ENGINE_NAMES.join(', ')}, or all`);
  return [...new Set(names)];
}

function optionalExport(value: string | boolean | undefined): string | true | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? true : value;
}

export function buildPlan(workload: Workload, targets: string | string[] | undefined, raw: RawRunOptions, sys: Pick<SysReader, 'read'> = realSys): RunPlan {
  const targetPaths = targets === undefined ? [] : typeof targets === 'string' ? [targets] : targets;
  const targetPath = targetPaths[0];
  const engines = raw.engine === undefined ? [] : parseEngines(raw.engine);
  checkTarget(workload, targetPath, engines);
  const ioDepths = parseList(raw.qd ?? String(DEFAULTS.qd), (q) => parseCount(q, '--qd', 1, 4096));
  if (!ioDepths.length) throw usageError('--qd is empty', 'give one or more queue depths: --qd 1,32');
  const blockSizes = parseList(raw.bs ?? String(DEFAULTS.bs), (b) => parseSize(b, '--bs'));
  if (!blockSizes.length) throw usageError('--bs is empty', 'give one or more block sizes: --bs 4k');
  for (const bs of blockSizes) {
    if (bs < 512 || bs % 512 !== 0) {
      throw usageError(`block size ${bs} is not a multiple of 512`, 'O_DIRECT and NVMe need whole sectors: use 512, 4k, 128k…');
    }
    if (bs > 64 * 1024 * 1024) throw usageError(`block size ${bs} is over 64 MiB`, 'use a smaller --bs');
  }
  const threads = parseCount(raw.threads ?? String(DEFAULTS.threads), '--threads', 1, 256);
  const cpusAuto = raw.cpus?.trim() === 'auto';
  const cpus = raw.cpus && !cpusAuto ? parseCpuList(raw.cpus) : [];
  const ncpu = os.cpus().length;
  // Workers are pinned round-robin over the list, and the native job holds at most 256 entries.
  if (cpus.length > 256) throw usageError(`--cpus lists ${cpus.length} CPUs; a run pins at most 256`, 'list at most 256 CPUs, one per worker');
  for (const cpu of cpus) {
    if (cpu >= ncpu) throw usageError(`--cpus names CPU ${cpu}, but this machine has CPUs 0-${ncpu - 1}`, `pick CPUs from 0 to ${ncpu - 1}`);
  }
  const allowed = cpus.length ? readAllowedCpus(sys) : { cpus: [], list: '' };
  for (const cpu of cpus) {
    if (allowed.cpus.length && !allowed.cpus.includes(cpu)) {
      throw usageError(`--cpus names CPU ${cpu}, but this process may run only on CPUs ${allowed.list}`, `pick CPUs from ${allowed.list}, or widen what taskset or the cgroup's cpuset allows`);
    }
  }
  const runtimeMs = raw.runtime !== undefined ? parseDuration(raw.runtime, '--runtime') : undefined;
  const ioLimit = raw.ios !== undefined ? parseCount(raw.ios, '--ios', 1) : 0;
  if (runtimeMs === 0) {
    throw ioLimit
      ? usageError(`--runtime 0 would stop before --ios ${ioLimit} is reached`, 'leave out --runtime: with --ios alone the run ends after that many I/Os')
      : usageError('--runtime 0 would measure nothing', 'give a duration such as 10s, or a count of I/Os such as --ios 100000');
  }
  if (runtimeMs !== undefined) checkDurationBound(runtimeMs, raw.runtime!, '--runtime');
  const rampMs = raw.ramp !== undefined ? checkDurationBound(parseDuration(raw.ramp, '--ramp'), raw.ramp, '--ramp') : 0;
  const rwmix = raw.rwmixRead !== undefined ? parseCount(raw.rwmixRead, '--rwmix-read', 0, 100) : DEFAULTS.rwmixRead;
  const readPercent = workload === 'randread' || workload === 'read' ? 100 : workload === 'randwrite' || workload === 'write' ? 0 : rwmix;
  if (raw.rwmixRead !== undefined && workload !== 'randrw' && workload !== 'rw') {
    throw usageError(`--rwmix-read applies to randrw and rw, not ${workload}`, `use nvmebench randrw --rwmix-read ${rwmix}`);
  }
  const format = (raw.format ?? 'table') as RunPlan['format'];
  if (!['table', 'csv', 'json', 'md'].includes(format)) {
    throw usageError(`--format ${raw.format} is not a format`, 'choose table, csv, json or md');
  }
  const batchSubmit = raw.batchSubmit !== undefined ? parseCount(raw.batchSubmit, '--batch-submit', 1, 4096) : undefined;
  const batchComplete = raw.batchComplete !== undefined ? parseCount(raw.batchComplete, '--batch-complete', 1, 4096) : undefined;
  const verifySeed = raw.verifySeed !== undefined ? parseCount(raw.verifySeed, '--verify-seed', 1, 0xffffffff) : undefined;
  if (verifySeed !== undefined && !raw.verify) throw usageError('--verify-seed needs --verify', 'add --verify');
  if (raw.vectored) checkVectored(engines);
  if (raw.verify && engines !== 'all' && engines.includes('nop')) {
    throw usageError('--verify cannot check the nop engine: a NOP stores nothing to read back', 'drop --verify, or drop nop from --engine');
  }
  const { latency, latEvery } = parseLatency(raw.lat ?? 'all');
  const { clock, clockMode, clockFallback } = parseClock(raw.clock ?? 'auto', sys);
  const rateOptions = parseRateOptions(raw, threads, targetPaths.length, ioDepths, latEvery);
  const repeat = raw.repeat !== undefined ? parseCount(raw.repeat, '--repeat', 1, 1000) : 1;
  const warmup = raw.warmup !== undefined ? parseCount(raw.warmup, '--warmup', 0, 1000) : 0;
  // A search runs each probe once: a repeat or a warmup run would be silently dropped.
  if (rateOptions.latencyTarget && repeat > 1) throw usageError('--latency-target runs each probe once, so --repeat does not apply', 'drop --repeat; to repeat what the search found, run its QD (or rate) with --repeat');
  if (rateOptions.latencyTarget && warmup > 0) throw usageError('--latency-target runs each probe once, with no warmup runs', 'drop --warmup (--ramp warms up each probe)');
  const series = parseSeriesOptions(raw, { runtimeMs: runtimeMs ?? (ioLimit ? 0 : DEFAULTS.runtimeMs), ioLimit, command: false });
  return {
    workload,
    targetPath: targetPath ?? '',
    targetPaths,
    cpusAuto,
    engines,
    ioDepths: [...new Set(ioDepths)],
    blockSizes: [...new Set(blockSizes)],
    threads,
    cpus,
    runtimeMs: runtimeMs ?? (ioLimit ? 0 : DEFAULTS.runtimeMs),
    rampMs,
    ioLimit,
    size: raw.size !== undefined ? parseSize(raw.size, '--size') : undefined,
    offset: raw.offset !== undefined ? parseSize(raw.offset, '--offset') : 0,
    batchSubmit,
    batchComplete,
    fixedBufs: raw.fixedbufs ?? true,
    regFiles: raw.regfiles ?? false,
    sqpoll: raw.sqpoll ?? false,
    buffered: raw.buffered ?? false,
    verify: raw.verify ?? false,
    verifySeed,
    pi: parsePiOptions(raw),
    readPercent,
    random: workload.startsWith('rand'),
    nsid: raw.nsid !== undefined ? parseCount(raw.nsid, '--nsid', 1, 0xfffffffe) : undefined,
    vectored: raw.vectored ?? false,
    maxErrors: raw.maxErrors !== undefined ? parseCount(raw.maxErrors, '--max-errors', 0) : 0,
    latency,
    latEvery,
    clock,
    clockMode,
    clockFallback,
    repeat,
    warmup,
    forceDestroy: raw.forceDestroy ?? false,
    csv: optionalExport(raw.csv),
    json: optionalExport(raw.json),
    md: optionalExport(raw.md),
    plot: raw.plot,
    format,
    quiet: raw.quiet ?? false,
    wide: raw.wide ?? false,
    explain: raw.explain ?? false,
    ...rateOptions,
    fdp: buildFdpPlan(raw, engines, readPercent),
    series,
    fleetRunId: parseFleetRunId(raw.fleetRunId),
    startAtMs: parseStartAt(raw.startAt),
  };
}

/** t/io_uring's defaults scaled to the depth: a quarter of the queue, at most 32. */
export function defaultBatch(ioDepth: number): number {
  return Math.max(1, Math.min(32, Math.ceil(ioDepth / 4)));
}
