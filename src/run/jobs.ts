// Jobs side by side: each job prepared like a run of its own (probe, engine,
// region, write safety), then checked against the others, and all of them
// started together as one native run each, at one CLOCK_MONOTONIC instant
// (the multi-target machinery of scheduler.ts). Each job is a row of its own:
// no aggregate is made across jobs, whose latencies must not mix.
import { BenchError, usageError } from '../errors.js';
import type { RunRecord } from '../model.js';
import type { RawRunOptions } from '../plan/options.js';
import { jobPlan, type JobSpec } from '../plan/jobs.js';
import { claimDevice } from '../target/safety.js';
import { assignCpus } from './cpus.js';
import { prepareRun, type PreparedRun } from './prepare.js';
import { buildJob, newRunId, runCellOnTargets, tagRecord, type RunContext, type RunHooks } from './scheduler.js';
import { toRecord } from './record.js';
import { identity } from './targets.js';

/** A job whose spec names its target (resolved: a path). */
export type ResolvedJob = JobSpec & { target: string };

function writes(prep: PreparedRun): boolean {
  return prep.plan.readPercent < 100;
}

function sameTarget(a: PreparedRun, b: PreparedRun): boolean {
  const ids = identity(a.target);
  return identity(b.target).some((id) => ids.includes(id));
}

function regionWords(p: PreparedRun): string {
  return `bytes ${p.region.offset}-${p.region.offset + p.region.size}`;
}

/**
 * Two jobs on one target whose regions overlap, one of them writing, with
 * --verify: a read (or a writer's read-back) of a block the other job is
 * rewriting would fail its check, so the run is refused naming both.
 */
export function checkJobOverlap(preps: PreparedRun[]): void {
  for (const [i, a] of preps.entries()) {
    for (const b of preps.slice(i + 1)) {
      if (!(writes(a) || writes(b)) || !(a.plan.verify || b.plan.verify) || !sameTarget(a, b)) continue;
      const overlap = a.region.offset < b.region.offset + b.region.size && b.region.offset < a.region.offset + a.region.size;
      if (!overlap) continue;
      const writer = writes(a) ? a : b;
      throw usageError(
        `jobs ${a.jobName} and ${b.jobName} overlap on ${a.plan.targetPath} (${regionWords(a)} and ${regionWords(b)}) and ${writer.jobName} writes: with --verify a block read while the other job rewrites it fails its check`,
        `give the jobs regions apart (offset=, size=: e.g. ${b.jobName} offset=${a.region.offset + a.region.size}), or drop --verify`,
      );
    }
  }
}

/**
 * Every job prepared, or none: the first refusal releases what the others
 * hold and names its job. A device written by several jobs is claimed once.
 */
export async function prepareJobs(specs: ResolvedJob[], common: RawRunOptions): Promise<PreparedRun[]> {
  const preps: PreparedRun[] = [];
  try {
    for (const spec of specs) {
      const plan = jobPlan(spec, common, spec.target);
      try {
        preps.push({ ...(await prepareRun(plan, { noClaim: true })), jobName: spec.name });
      } catch (err) {
        if (err instanceof BenchError) throw new BenchError(err.kind, `${spec.where}: ${err.message}`, err.fix);
        throw err;
      }
    }
    checkJobOverlap(preps);
    for (const [i, prep] of preps.entries()) {
      const claimedBefore = preps.slice(0, i).some((p) => writes(p) && sameTarget(p, prep));
      if (writes(prep) && !claimedBefore) prep.claim = claimDevice(prep.target, prep.plan.forceDestroy);
    }
  } catch (err) {
    for (const prep of preps) prep.claim?.release();
    throw err;
  }
  for (const prep of preps) prep.cpus = assignCpus([prep.target], prep.plan.threads, prep.plan.cpus, prep.plan.cpusAuto)[0].cpus;
  return preps;
}

/**
 * The jobs together, --warmup rounds thrown away, then --repeat measured
 * rounds; a record per job per round, as soon as the round ends.
 */
export async function runJobs(preps: PreparedRun[], hooks: RunHooks, ctx: RunContext = {}): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  const runId = ctx.runId ?? newRunId();
  const { warmup, repeat: repeats } = preps[0].plan;
  for (let round = 0; round < warmup + repeats; round++) {
    if (hooks.interrupted()) return records;
    const repeat = round - warmup;
    const jobs = preps.map((p) => buildJob(p, p.cells[0]));
    const which = repeat < 0 ? ` warmup #${round + 1}` : repeats > 1 ? ` #${repeat + 1}` : '';
    const label = `${preps.length} jobs (${preps.map((p) => p.jobName).join(', ')})${which}`;
    hooks.progress?.begin(round, label);
    const results = await runCellOnTargets(jobs, hooks, label);
    if (repeat < 0) continue;
    for (const [i, p] of preps.entries()) {
      const record = tagRecord({ ...toRecord(p, p.cells[0], jobs[i], results[i], repeat, runId), job: p.jobName }, ctx);
      records.push(record);
      hooks.onRecord(record);
    }
  }
  return records;
}
