// --precondition: write the region before the measured runs, through the
// first cell's engine, so a drive is measured in the state it lives in and not
// fresh out of the box. seq: N sequential passes of 128 KiB writes (2 by
// default, SNIA PTS's workload-independent preconditioning); rand: the same,
// then 4 KiB random writes over the region once; snia: rand, with the PTS
// steady-state rule on the measured runs (src/plan/series-options.ts). A bar
// shows the bytes written and the ETA; Ctrl-C stops it and nothing is measured.
import type { NativeJob } from '../model.js';
import { runError } from '../errors.js';
import { native, type NativeError, type RunHandle } from '../native/addon.js';
import { engineSpec } from '../engines/registry.js';
import { defaultBatch } from '../plan/options.js';
import { formatBytes, TaskProgress } from '../output/progress.js';
import type { PreparedRun } from './prepare.js';
import { buildJob } from './scheduler.js';
import { explainStartError } from './record.js';
import { withInterruptHandlers } from '../system/signals.js';

const SEQ_BS = 128 * 1024;
const RAND_BS = 4096;
const PRECONDITION_QD = 32;

export interface PreconditionStep {
  what: string;
  random: boolean;
  blockSize: number;
  /** Writes in all, over the region. */
  ios: number;
}

/** The steps for one region: the sequential passes, then the random soak for rand and snia. */
export function preconditionSteps(kind: 'seq' | 'rand' | 'snia', passes: number, regionBytes: number, minBlock: number): PreconditionStep[] {
  const seqBs = regionBytes % SEQ_BS === 0 && SEQ_BS >= minBlock ? SEQ_BS : minBlock;
  const randBs = RAND_BS >= minBlock && RAND_BS % minBlock === 0 ? RAND_BS : minBlock;
  const steps: PreconditionStep[] = [{ what: `${passes} sequential pass${passes > 1 ? 'es' : ''} of ${formatBytes(seqBs)} writes`, random: false, blockSize: seqBs, ios: passes * Math.floor(regionBytes / seqBs) }];
  if (kind !== 'seq') steps.push({ what: `random ${formatBytes(randBs)} writes over the region once`, random: true, blockSize: randBs, ios: Math.floor(regionBytes / randBs) });
  return steps;
}

/** One step as a native job: the cell's engine and target, writes only, nothing timed, no series. */
function stepJob(prep: PreparedRun, step: PreconditionStep): NativeJob {
  const cell = prep.cells.find((c) => c.engine !== 'nop') ?? prep.cells[0];
  const base = buildJob(prep, cell);
  const depth = engineSpec(cell.engine).synchronous ? 1 : PRECONDITION_QD;
  const batch = defaultBatch(depth);
  const { intervalMs: _i, seriesSlots: _s, ...rest } = base;
  return {
    ...rest,
    readPercent: 0,
    random: step.random,
    blockSize: step.blockSize,
    ioDepth: depth,
    batchSubmit: batch,
    batchComplete: batch,
    fixedBufs: base.fixedBufs,
    threads: 1,
    cpus: [],
    runtimeMs: 0,
    rampMs: 0,
    ioLimit: step.ios,
    size: Math.floor(prep.region.size / step.blockSize) * step.blockSize,
    verify: false,
    latEvery: 0,
    explain: false,
  };
}

/**
 * Precondition every target at once. Returns false when Ctrl-C stopped it
 * (the caller measures nothing); throws when a write failed.
 */
export async function preconditionTargets(preps: PreparedRun[], quiet: boolean): Promise<boolean> {
  const plan = preps[0].plan.series.precondition!;
  const targets = preps.filter((p) => p.cells.some((c) => c.engine !== 'nop'));
  if (!targets.length) return true;
  const minBlock = (p: PreparedRun) => Math.max(512, p.target.logicalBlockSize || 512);
  const stepsOf = targets.map((p) => preconditionSteps(plan.kind, plan.passes, p.region.size, minBlock(p)));
  const total = stepsOf.reduce((sum, steps) => sum + steps.reduce((n, s) => n + s.ios * s.blockSize, 0), 0);
  const say = (text: string) => process.stderr.write(`nvmebench: ${text}\n`);
  say(`preconditioning (${plan.kind}) ${targets.map((p) => p.plan.targetPath).join(', ')}: ${stepsOf[0].map((s) => s.what).join(', then ')}; ${formatBytes(total)} in all`);
  const engine = native();
  let handles: RunHandle[] = [];
  let stopped = false;
  const onSignal = () => {
    stopped = true;
    handles.forEach((h) => engine.stop(h));
  };
  const bar = TaskProgress.forTerminal(quiet, plan.kind, total, 'bytes', process.stderr, 'precondition');
  const started = Date.now();
  let done = 0;
  await withInterruptHandlers(onSignal, async () => {
    try {
      for (let i = 0; i < stepsOf[0].length && !stopped; i++) {
        const jobs = targets.map((p, t) => stepJob(p, stepsOf[t][i]));
        handles = [];
        for (const job of jobs) {
          try {
            handles.push(engine.start(job));
          } catch (err) {
            handles.forEach((h) => engine.stop(h));
            throw explainStartError(err as NativeError, job);
          }
        }
        const written = () => handles.reduce((n, h) => n + engine.stats(h).bytes, 0);
        const timer = bar ? setInterval(() => bar.update(done + written()), 250) : undefined;
        let results;
        try {
          results = await Promise.all(handles.map((h, t) => engine.wait(h).catch((err: NativeError) => Promise.reject(explainStartError(err, jobs[t])))));
        } finally {
          clearInterval(timer);
        }
        done += results.reduce((n, r) => n + r.workers.reduce((b, w) => b + w.bytes, 0), 0);
        bar?.update(done);
        const failed = results.find((r) => r.stopped === 'error');
        if (failed) throw runError(`preconditioning failed: ${failed.errorMessage}`, failed.errorFix ?? 'see the message; the measured runs did not start');
      }
    } finally {
      bar?.stop();
    }
  });
  const secs = (Date.now() - started) / 1000;
  say(stopped ? `preconditioning interrupted after ${formatBytes(done)}: nothing measured` : `preconditioned: ${formatBytes(done)} written in ${secs.toFixed(1)} s`);
  return !stopped;
}
