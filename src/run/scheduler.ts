// The scheduler: run the prepared cells one after the other (repeats
// interleaved), each as a native job, and hand every RunRecord to the caller
// as soon as its cell ends, so a later failure loses nothing.
import crypto from 'node:crypto';
import { engineSpec } from '../engines/registry.js';
import type { NativeJob, RunRecord } from '../model.js';
import { native, type NativeError, type NativeRunResult, type RunHandle } from '../native/addon.js';
import { defaultBatch } from '../plan/options.js';
import { perWorkerRate } from '../plan/rate.js';
import type { LiveLine } from '../output/live.js';
import type { RunProgress } from '../output/progress.js';
import { commandJobFields } from '../engines/commands.js';
import { piJobFields } from '../engines/pi.js';
import type { Cell, PreparedRun } from './prepare.js';
import { explainStartError, toRecord } from './record.js';
import { irqNamesFor } from './system-cpu.js';
import { aggregateTargets } from '../analysis/targets.js';
import { fdpAfter, fdpBefore, fdpJobFields } from './fdp.js';
import type { LiveStats } from '../model.js';
import { seriesJobFields, SeriesWatch, withSeries } from './series.js';

export function buildJob(prep: PreparedRun, cell: Cell): NativeJob {
  const { plan, target } = prep;
  const spec = engineSpec(cell.engine);
  const depth = spec.synchronous ? 1 : cell.ioDepth;
  const batch = defaultBatch(depth);
  // Keep the region a whole number of blocks.
  const size = Math.floor(prep.region.size / cell.blockSize) * cell.blockSize;
  return {
    engine: cell.engine,
    path: cell.node,
    readPercent: plan.readPercent,
    random: plan.random,
    blockSize: cell.blockSize,
    ioDepth: depth,
    threads: plan.threads,
    cpus: prep.cpus ?? plan.cpus,
    runtimeMs: plan.runtimeMs,
    rampMs: plan.rampMs,
    ioLimit: plan.ioLimit,
    offset: prep.region.offset,
    size,
    batchSubmit: Math.min(plan.batchSubmit ?? batch, depth),
    batchComplete: Math.min(plan.batchComplete ?? batch, depth),
    // nop moves no data and opens no file: neither applies.
    fixedBufs: spec.ioUring && spec.opens !== 'nothing' && plan.fixedBufs && !plan.vectored,
    regFiles: spec.ioUring && spec.opens !== 'nothing' && plan.regFiles,
    sqpoll: spec.ioUring && plan.sqpoll,
    direct: !(plan.buffered && target.kind === 'file'),
    verify: plan.verify,
    verifySeed: prep.verifySeed,
    nsid: spec.opens === 'nvme-char' || spec.opens === 'vfio' ? plan.nsid ?? target.nvme?.nsid ?? 1 : 0,
    lbaSize: spec.opens === 'nvme-char' || spec.opens === 'vfio' ? target.nvme?.lbaSize ?? target.logicalBlockSize : 0,
    vectored: plan.vectored,
    maxErrors: plan.maxErrors,
    latEvery: plan.latEvery,
    irqNames: irqNamesFor(target.nvme?.controller, spec.opens, target.kind),
    ...(plan.explain ? { explain: true } : {}),
    // --rate-iops total:N is shared over every worker of every target.
    ...(plan.rate ? { rateIops: perWorkerRate(plan.rate, plan.threads * Math.max(1, plan.targetPaths.length)), ratePoisson: plan.rate.arrival === 'poisson' } : {}),
    clockMode: plan.clockMode,
    ...seriesJobFields(plan.series.intervalMs, plan.threads),
    ...(plan.command ? commandJobFields(plan.command) : {}),
    ...piJobFields(cell.engine, target.nvme, plan.pi),
    ...fdpJobFields(prep.fdp),
  };
}

export interface RunHooks {
  /** Called after each cell, before the next starts. */
  onRecord(record: RunRecord): void;
  /** Where the live line goes; undefined for none. */
  live?: LiveLine;
  /** The overall progress line on a terminal; undefined for none. */
  progress?: RunProgress;
  /** Set by the caller's SIGINT handler. */
  interrupted(): boolean;
  /** Lets the caller's SIGINT handler stop the run in flight. */
  setCurrent(stop: (() => void) | undefined): void;
}

/** Run one cell to completion. */
export async function runCell(job: NativeJob, hooks: RunHooks, label: string): Promise<NativeRunResult> {
  return (await runCellOnTargets([job], hooks, label))[0];
}

/** Counters of several runs as one live line. */
function sumStats(all: LiveStats[]): LiveStats {
  const add = (f: (s: LiveStats) => number) => all.reduce((n, s) => n + f(s), 0);
  return {
    ios: add((s) => s.ios),
    bytes: add((s) => s.bytes),
    submitCalls: add((s) => s.submitCalls),
    reapCalls: add((s) => s.reapCalls),
    submitted: add((s) => s.submitted),
    reaped: add((s) => s.reaped),
    errors: add((s) => s.errors),
    elapsedMs: Math.max(...all.map((s) => s.elapsedMs)),
    ramping: all.some((s) => s.ramping),
    unmeasuredIos: add((s) => s.unmeasuredIos),
    unmeasuredBytes: add((s) => s.unmeasuredBytes),
    verifying: all.some((s) => s.verifying),
  };
}

/**
 * How long after the starts are asked for the workers of several targets begin:
 * enough for every run's setup (buffers, rings, queues), so they all wait for
 * the same instant and, time-based, reach the same deadline.
 */
const START_MARGIN_NS = 250_000_000;

/**
 * One cell on every target at once: one native run per target, all given the
 * same CLOCK_MONOTONIC start (process.hrtime is CLOCK_MONOTONIC on Linux).
 * A start that fails stops the ones already started before it is reported.
 */
export async function runCellOnTargets(jobs: NativeJob[], hooks: RunHooks, label: string, watch?: SeriesWatch): Promise<NativeRunResult[]> {
  const engine = native();
  const handles: RunHandle[] = [];
  const startAtNs = jobs.length > 1 ? Number(process.hrtime.bigint()) + START_MARGIN_NS : undefined;
  for (const job of jobs) {
    try {
      handles.push(engine.start(startAtNs === undefined ? job : { ...job, startAtNs }));
    } catch (err) {
      for (const h of handles) engine.stop(h);
      await Promise.allSettled(handles.map((h) => engine.wait(h)));
      throw explainStartError(err as NativeError, job);
    }
  }
  if (startAtNs !== undefined && Number(process.hrtime.bigint()) > startAtNs) {
    process.stderr.write(`nvmebench: setting up ${jobs.length} targets took over ${START_MARGIN_NS / 1e6} ms: the last ones started late\n`);
  }
  const stopAll = () => handles.forEach((h) => engine.stop(h));
  hooks.setCurrent(stopAll);
  // --interval: drain the workers' finished intervals as they come; --steady-state stops the run once steady.
  const seriesTimer = watch?.start(handles, stopAll);
  hooks.live?.begin(label, jobs[0].rampMs);
  const timer = hooks.live || hooks.progress
    ? setInterval(() => {
        const stats = sumStats(handles.map((h) => engine.stats(h)));
        hooks.live?.tick(stats);
        hooks.progress?.tick(stats);
      }, 1000)
    : undefined;
  try {
    // The engines come up inside the run (off this thread: a VFIO bring-up may take CAP.TO), so what
    // start() threw before, wait() rejects with: the same error, explained the same way. One target
    // that does not come up stops the others; every wait settles before this returns.
    const settled = await Promise.allSettled(
      handles.map((h, i) =>
        engine.wait(h).catch((err: NativeError) => {
          stopAll();
          throw explainStartError(err, jobs[i]);
        }),
      ),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<NativeRunResult>).value);
  } finally {
    clearInterval(timer);
    clearInterval(seriesTimer);
    hooks.setCurrent(undefined);
    hooks.live?.end();
    hooks.progress?.end();
  }
}

/**
 * Every cell, repeats interleaved (A, B, C, A, B, C…) so drift hits them alike,
 * after --warmup rounds of the same order that are run and thrown away: caches,
 * page tables, the device's own state warm up outside what is measured. A
 * warmup run that fails is not reported; the measured runs after it show the error.
 */
/** What a plan run (src/commands/plan.ts) gives every run it makes: one run id, and the entry's name on the records. */
export interface RunContext {
  runId?: string;
  planEntry?: string;
}

/** A run id: when it started, and a few random bytes. */
export function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(3).toString('hex')}`;
}

/** The record as the context tags it. */
export function tagRecord(record: RunRecord, ctx: RunContext): RunRecord {
  return ctx.planEntry === undefined ? record : { ...record, planEntry: ctx.planEntry };
}

export async function runAll(given: PreparedRun | PreparedRun[], hooks: RunHooks, ctx: RunContext = {}): Promise<RunRecord[]> {
  const preps = Array.isArray(given) ? given : [given];
  const prep = preps[0];
  const records: RunRecord[] = [];
  const runId = ctx.runId ?? newRunId();
  const { warmup, repeat: repeats } = prep.plan;
  const manyBs = new Set(prep.cells.map((c) => c.blockSize)).size > 1;
  let runIndex = 0;
  for (let round = 0; round < warmup + repeats; round++) {
    const repeat = round - warmup; // < 0: a warmup round
    for (const [cellIndex, cell] of prep.cells.entries()) {
      if (hooks.interrupted()) return records;
      // --vfio-auto-bind: the controller on vfio-pci for vfio cells, on its own driver for the others.
      if (prep.vfioAutoBind) {
        await prep.vfioAutoBind.ensure(cell.engine === 'vfio', cell.engine === 'vfio' ? undefined : cell.node);
        if (hooks.interrupted()) return records;
      }
      // Several targets: cell i is the same engine, bs and QD on every one (src/run/targets.ts).
      const jobs = preps.map((p) => buildJob(p, p.cells[cellIndex]));
      const which = repeat < 0 ? ` warmup #${round + 1}` : repeats > 1 ? ` #${repeat + 1}` : '';
      const over = preps.length > 1 ? ` on ${preps.length} targets` : '';
      const label = `${cell.engine} bs=${cell.blockSize} qd=${jobs[0].ioDepth}${which}${over}`;
      hooks.progress?.begin(runIndex++, `${cell.engine} QD ${jobs[0].ioDepth}${manyBs ? ` bs ${cell.blockSize}` : ''}${which}${over}`);
      const writes = prep.plan.readPercent < 100 || prep.plan.command?.writes === true;
      const fdpStats = repeat < 0 ? [] : await Promise.all(preps.map((p, t) => fdpBefore(p.target, p.fdp, jobs[t], writes)));
      if (hooks.interrupted()) return records; // Ctrl-C while the FDP log was read (over vfio, a bring-up)
      const watch = jobs[0].intervalMs ? new SeriesWatch(jobs, prep.plan.series.steady) : undefined;
      const results = await runCellOnTargets(jobs, hooks, label, watch);
      if (repeat < 0) continue;
      const rows = await Promise.all(preps.map(async (p, t) => {
        const record = await fdpAfter(withSeries(toRecord(p, p.cells[cellIndex], jobs[t], results[t], repeat, runId), watch?.outcome(t, results[t])), p.target, p.fdp, jobs[t], fdpStats[t]);
        return p.targetIndex === undefined ? record : { ...record, targetIndex: p.targetIndex };
      }));
      if (rows.length > 1) rows.push(aggregateTargets(rows));
      for (const record of rows.map((r) => tagRecord(r, ctx))) {
        records.push(record);
        hooks.onRecord(record);
      }
    }
  }
  return records;
}
