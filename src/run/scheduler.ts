// The scheduler: run the prepared cells one after the other (repeats
// interleaved), each as a native job, and hand every RunRecord to the caller
// as soon as its cell ends, so a later failure loses nothing.
import crypto from 'node:crypto';
import { engineSpec } from '../engines/registry.js';
import type { NativeJob, RunRecord } from '../model.js';
import { native, type NativeError, type NativeRunResult, type RunHandle } from '../native/addon.js';
import { defaultBatch } from '../plan/options.js';
import type { LiveLine } from '../output/live.js';
import type { RunProgress } from '../output/progress.js';
import { commandJobFields } from '../engines/commands.js';
import type { Cell, PreparedRun } from './prepare.js';
import { explainStartError, toRecord } from './record.js';
import { irqNamesFor } from './system-cpu.js';

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
    cpus: plan.cpus,
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
    clockMode: plan.clockMode,
    ...(plan.command ? commandJobFields(plan.command) : {}),
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
  const engine = native();
  let handle: RunHandle;
  try {
    handle = engine.start(job);
  } catch (err) {
    throw explainStartError(err as NativeError, job);
  }
  hooks.setCurrent(() => engine.stop(handle));
  hooks.live?.begin(label, job.rampMs);
  const timer = hooks.live || hooks.progress
    ? setInterval(() => {
        const stats = engine.stats(handle);
        hooks.live?.tick(stats);
        hooks.progress?.tick(stats);
      }, 1000)
    : undefined;
  try {
    // The engines come up inside wait() (off this thread: a VFIO bring-up may take CAP.TO), so what
    // start() threw before, wait() rejects with: the same error, explained the same way.
    return await engine.wait(handle).catch((err: NativeError) => {
      throw explainStartError(err, job);
    });
  } finally {
    clearInterval(timer);
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
export async function runAll(prep: PreparedRun, hooks: RunHooks): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(3).toString('hex')}`;
  const { warmup, repeat: repeats } = prep.plan;
  const manyBs = new Set(prep.cells.map((c) => c.blockSize)).size > 1;
  let runIndex = 0;
  for (let round = 0; round < warmup + repeats; round++) {
    const repeat = round - warmup; // < 0: a warmup round
    for (const cell of prep.cells) {
      if (hooks.interrupted()) return records;
      // --vfio-auto-bind: the controller on vfio-pci for vfio cells, on its own driver for the others.
      if (prep.vfioAutoBind) {
        await prep.vfioAutoBind.ensure(cell.engine === 'vfio', cell.engine === 'vfio' ? undefined : cell.node);
        if (hooks.interrupted()) return records;
      }
      const job = buildJob(prep, cell);
      const which = repeat < 0 ? ` warmup #${round + 1}` : repeats > 1 ? ` #${repeat + 1}` : '';
      const label = `${cell.engine} bs=${cell.blockSize} qd=${job.ioDepth}${which}`;
      hooks.progress?.begin(runIndex++, `${cell.engine} QD ${job.ioDepth}${manyBs ? ` bs ${cell.blockSize}` : ''}${which}`);
      const result = await runCell(job, hooks, label);
      if (repeat < 0) continue;
      const record = toRecord(prep, cell, job, result, repeat, runId);
      records.push(record);
      hooks.onRecord(record);
    }
  }
  return records;
}
