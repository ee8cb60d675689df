// The workload commands: randread, randwrite, read, write, randrw, rw.
// nvmebench randread --engine uring,pt --qd 8,64,256 --bs 512 /dev/ng0n1
import { Command, Option } from 'commander';
import { runError, usageError } from '../errors.js';
import type { RunRecord, RwWorkload } from '../model.js';
import { buildPlan, type RawRunOptions, type RunPlan } from '../plan/options.js';
import { LiveLine } from '../output/live.js';
import { RunProgress } from '../output/progress.js';
import { buildResults } from '../analysis/results.js';
import { printResults } from '../export/stdout.js';
import type { PreparedRun } from '../run/prepare.js';
import { prepareTargets } from '../run/targets.js';
import { runAll, type RunContext } from '../run/scheduler.js';
import { prepareJobs, runJobs, type ResolvedJob } from '../run/jobs.js';
import { checkJobSet, parseJobFlag } from '../plan/jobs.js';
import { createExportSession, type ExportTargets } from '../export/session.js';
import { defaultResultPath } from '../export/paths.js';
import { checkOutputPath, describeExportError, isStream, type OutputPath, type TargetNodes } from '../export/fsutil.js';
import { writeSeriesCsv } from '../export/series-csv.js';
import type { Outcome } from './outcome.js';
import { latencyTargetMode, type RunMode } from './latency-target.js';
import { preconditionTargets } from '../run/precondition.js';
import { waitForStart } from '../plan/fleet-options.js';
import { withInterruptHandlers } from '../system/signals.js';

const WORKLOAD_HELP: Record<RwWorkload, string> = {
  randread: 'random reads',
  randwrite: 'random writes (refuses devices in use unless --force-destroy)',
  read: 'sequential reads',
  write: 'sequential writes (refuses devices in use unless --force-destroy)',
  randrw: 'random mixed reads and writes (--rwmix-read sets the read share, default 50)',
  rw: 'sequential mixed reads and writes (--rwmix-read sets the read share, default 50)',
};

/** The options every run takes; profiles and the lab reuse this list. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('-e, --engine <list>', 'engines: psync, aio, uring, uring-poll, pt, pt-poll, ioctl, vfio, nop (no target: what nvmebench costs per I/O), or all (every one but nop; default: pt on /dev/ng*, uring otherwise)')
    .option('-q, --qd <list>', 'queue depths, e.g. 8,64,256 (default 32)')
    .option('-b, --bs <list>', 'block sizes, e.g. 512,4k,128k (default 4k)')
    .option('-j, --threads <n>', 'worker threads per target, one ring or queue each (default 1)')
    .option('--cpus <list>', 'pin workers to these CPUs, e.g. 0,2 or 0-3 (round-robin over every worker of every target), or auto: CPUs of each device\'s NUMA node, cores before hyperthreads')
    .option('-t, --runtime <seconds>', 'measured time per run (default 10s)')
    .option('--ramp <seconds>', 'warm-up before measuring (default 0)')
    .option('--ios <count>', 'stop after this many I/Os in total (per target) instead of after --runtime')
    .option('--size <bytes>', 'region size (default: the whole target from --offset)')
    .option('--offset <bytes>', 'region start (default 0)')
    .option('--batch-submit <n>', 'I/Os prepared per submit call (default qd/4, at most 32)')
    .option('--batch-complete <n>', 'completions waited for per call (default qd/4, at most 32)')
    .option('--fixedbufs', 'io_uring registered (fixed) buffers (default on)')
    .option('--no-fixedbufs', 'turn fixed buffers off')
    .option('--regfiles', 'io_uring registered files')
    .option('--sqpoll', 'io_uring SQPOLL: a kernel thread submits (its CPU time is not in the CPU columns)')
    .option('--buffered', 'page-cached I/O on files (default O_DIRECT)')
    .option('--verify', 'stamp written blocks with their address and a seed, check them on read-back')
    .option('--verify-seed <n>', 'with --verify: the seed reads must carry (default: any)')
    .option('--pi-act', 'PI namespaces: PRACT, the controller inserts and strips the protection information (default: nvmebench generates it)')
    .option('--pi-check <fields>', 'PI namespaces: PRCHK, what the controller checks: guard,apptag,reftag (or all)')
    .option('--pi-apptag <tag>', 'PI namespaces: the application tag written and, with --pi-check apptag, checked (default 0)')
    .option('--rwmix-read <pct>', 'randrw/rw: percentage of reads (default 50)')
    .option('--nsid <n>', 'NVMe namespace id (default: the node\'s own; 1 for a PCI address)')
    .option('--vectored', 'pt: NVME_URING_CMD_IO_VEC (turns fixed buffers off)')
    .option('--max-errors <n>', 'stop once more I/O errors than this occur (default 0)')
    .option('--clock <clock>', 'what stamps latencies: auto (default: the TSC where it is invariant and calibrates, else CLOCK_MONOTONIC), tsc, or monotonic')
    .option('--lat <mode>', 'which I/Os are timed: all (default), sample:N (every Nth), or off (IOPS and CPU only)')
    .option('--rate-iops <n>', 'open loop: issue I/O on a schedule of n per second per worker (total:n over every worker of every target), up to --qd outstanding; latency also from each I/O\'s due time')
    .option('--arrival <kind>', 'with --rate-iops: uniform (evenly spaced, default) or poisson (exponential gaps)')
    .option('--latency-target <pct:latency>', 'search each engine for the highest IOPS whose latency at a percentile stays within a limit, e.g. p99:100us (QD doubling then bisection; the rate with --rate-iops)')
    .option('--repeat <n>', 'run every cell n times, interleaved (default 1)')
    .option('--warmup <n>', 'unmeasured runs of every cell before the repeats, interleaved; not recorded (default 0)')
    .option('--force-destroy', 'write even to a device that is mounted, held or carries a signature')
    .option('--vfio-auto-bind', 'vfio: bind the controller to vfio-pci for the run and give it back to its driver afterwards (also on Ctrl-C or an error)')
    .option('--csv [file]', 'append results as CSV (default results/<time>-<workload>.csv)')
    .option('--json [file]', 'write results with full histograms as JSON')
    .option('--md [file]', 'write the results table as Markdown')
    .option('--plot <file>', 'write an SVG chart of IOPS against QD')
    .option('--interval <time>', 'time series: figures per interval, in JSON and --series-csv (default 1s, 100ms at the finest)')
    .option('--series-csv <file>', 'write the time series as CSV, one row per interval (summed and per worker)')
    .option('--precondition <kind>', 'before measuring, write the region: seq (2 sequential passes; seq:N for N), rand (seq, then random writes over the region once) or snia (the PTS-E sequence; implies --steady-state iops:10%:5)')
    .option('--steady-state <rule>', 'end each run once steady, SNIA PTS rule: iops:10%:5 = over the last 5 intervals IOPS range within 20% and best-fit slope within 10% of the mean (figure iops, bw or p99); report that window')
    .addOption(new Option('--format <format>', 'stdout format').choices(['table', 'csv', 'json', 'md']).default('table'))
    .option('--quiet', 'no live line and no progress line')
    .option('--fdp', 'Flexible Data Placement: tag writes with placement identifiers (pt, pt-poll, ioctl, vfio; the namespace\'s endurance group must have FDP enabled)')
    .option('--plids <list>', 'with --fdp: indexes into the namespace\'s placement handles, e.g. 0,1 or 0-3 (default: all of them)')
    .option('--fdp-scheme <scheme>', 'with --fdp: roundrobin (default), random, or per-worker (worker i uses entry i of --plids)')
    .option('--fleet-run-id <id>', 'record this fleet run id in every record (deploy/ansible/ passes one per fleet run)')
    .option('--start-at <unix-time>', 'wait until this wall-clock time (seconds since 1970) before the first run: a start barrier across hosts')
    .option('--explain', 'sample where the workers spend their CPU and print it by layer (block, NVMe driver, io_uring…) in ns per I/O')
    .option('--wide', 'on a terminal, show every column of the results table however wide (pipes always get every column)');
}

function exportTargets(plan: RunPlan, name: string): ExportTargets {
  const pick = (value: string | true | undefined, ext: string) => (value === true ? defaultResultPath(ext, name) : value);
  return { csv: pick(plan.csv, 'csv'), json: pick(plan.json, 'json'), md: pick(plan.md, 'md') };
}

/** Every target and its nodes: no export may write over any of them. */
function targetNodes(preps: PreparedRun[]): TargetNodes {
  const paths = preps.flatMap(({ target, plan, cells }) => [plan.targetPath, target.given, target.path, target.nvme?.blockPath, target.nvme?.charPath, ...cells.map((c) => c.node)]);
  return { paths: [...new Set(paths.filter((p): p is string => !!p))] };
}

function releaseClaims(preps: PreparedRun[]): void {
  for (const prep of preps) prep.claim?.release();
}

/** What a run leaves: its records, and 'failed' when it was interrupted or lost an export. */
export interface RunResult {
  records: RunRecord[];
  outcome: Outcome;
  interrupted: boolean;
}

/**
 * A run inside a plan (src/commands/plan.ts): the plan's export session and run
 * id, the entry's name on the records, and no table of its own (print false).
 */
export interface ExecuteContext extends RunContext {
  session?: ReturnType<typeof createExportSession>;
  print?: boolean;
  /** --latency-target: a search that runs its own probes and reports its answer (src/run/target-search.ts). */
  mode?: RunMode;
}

/** The width to fit the results table to: the terminal's, unless --wide or stdout is not a terminal. */
function terminalWidth(wide: boolean): number | undefined {
  return !wide && process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : undefined;
}

/** Run a prepared plan with live output, Ctrl-C handling and exports. */
export async function executeRun(given: PreparedRun | PreparedRun[], name: string, ctx: ExecuteContext = {}): Promise<RunResult> {
  const mode = ctx.mode;
  const preps = Array.isArray(given) ? given : [given];
  const prep = preps[0];
  const { plan } = prep;
  // Every export path is checked here, before anything runs (usage error, exit 2).
  const target = targetNodes(preps);
  let session: ReturnType<typeof createExportSession>;
  let plotOut: ReturnType<typeof checkOutputPath> | undefined;
  let seriesOut: ReturnType<typeof checkOutputPath> | undefined;
  try {
    session = ctx.session ?? createExportSession(exportTargets(plan, name), { target });
    plotOut = plan.plot ? checkOutputPath(plan.plot, { flag: '--plot', target }) : undefined;
    seriesOut = plan.series.seriesCsv ? checkOutputPath(plan.series.seriesCsv, { flag: '--series-csv', target }) : undefined;
  } catch (err) {
    releaseClaims(preps); // nothing ran: the devices go back at once
    throw err;
  }
  for (const skip of prep.skipped) process.stderr.write(`nvmebench: skipping ${skip.engine}: ${skip.reason}: ${skip.fix}\n`);
  if (plan.series.precondition && !(await precondition(preps, session))) return { records: [], outcome: 'failed', interrupted: true }; // stopped by Ctrl-C (errors throw)
  // With --ios the ETA comes from the rate so far; otherwise from --ramp and --runtime.
  const progress = RunProgress.forTerminal(plan.quiet, {
    runs: mode?.runs ?? prep.cells.length * (plan.warmup + plan.repeat),
    runMs: plan.rampMs + plan.runtimeMs,
    ioLimit: plan.ioLimit || undefined,
  });
  // Lines written during the run go above the progress line, not through it.
  const say = (text: string): void => void (progress ? progress.log(text) : process.stderr.write(text));
  prep.vfioAutoBind?.logTo((line) => say(`nvmebench: ${line}\n`));
  let interrupted = false;
  let stopCurrent: (() => void) | undefined;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    say('\nnvmebench: interrupted, stopping the workers and reporting what was measured\n');
    stopCurrent?.();
  };
  let records: RunRecord[] = [];
  const series: RunRecord[] = [];
  let lostExports = 0;
  // --series-csv to a file is rewritten whole after each cell: whether the latest rewrite failed (the file, if any, lacks the latest cells).
  let seriesBehind = false;
  let early: RunResult | undefined;
  try {
    early = await withInterruptHandlers(onSignal, async (): Promise<RunResult | undefined> => {
      try {
        if (!(await waitForStart(plan.startAtMs, say, { requested: () => interrupted }))) return { records, outcome: 'failed' as const, interrupted: true };
        // Jobs side by side run together, a row each (src/run/jobs.ts); targets, a cell at a time; a mode (--latency-target) runs its own.
        const runner = mode?.run ?? (prep.jobName !== undefined ? runJobs : runAll);
        records = await runner(preps, {
          onRecord: (record) => {
            session.add(record);
            series.push(record);
            // Rewritten whole after each cell, so a later failure loses nothing ('-' gets it once, at the end).
            if (seriesOut && !isStream(seriesOut)) {
              // Said when it falls behind, not again after every cell of a full disk; a later rewrite that succeeds holds every cell again.
              seriesBehind = !saveSeries(series, seriesOut, !seriesBehind);
            }
          },
          live: LiveLine.forTerminal(plan.quiet, progress && say),
          progress,
          interrupted: () => interrupted,
          setCurrent: (stop) => {
            stopCurrent = stop;
          },
        }, ctx);
        return undefined;
      } finally {
        progress?.stop();
        releaseClaims(preps);
        // Give an auto-bound controller back while our signal handlers still hold off a second Ctrl-C.
        await prep.vfioAutoBind?.restore();
      }
    });
  } finally {
    if (!ctx.session) session.close();
  }
  if (early) return early;
  // The table comes whatever happened to the exports.
  const results = buildResults(records);
  if (records.length && ctx.print !== false) printResults(results, plan.format, { width: terminalWidth(plan.wide) });
  if (records.length && plan.format === 'table') mode?.report?.(results);
  lostExports += session.lost.length;
  if (seriesOut && isStream(seriesOut) && records.length) lostExports += saveSeries(records, seriesOut, true) ? 0 : 1;
  else if (seriesBehind) lostExports++;
  else if (seriesOut && records.length) process.stderr.write(`nvmebench: time series written to ${seriesOut.given}\n`);
  if (plotOut && records.length) {
    try {
      if (mode?.plot) await mode.plot(results, plotOut);
      else await (await import('../export/plot.js')).writePlot(results, plotOut, {});
    } catch (err) {
      const why = describeExportError(err, plotOut.given);
      process.stderr.write(`nvmebench: ${why.message}; the plot is lost: ${why.fix}\n`);
      lostExports++;
    }
  }
  if (!ctx.session) for (const file of session.files) process.stderr.write(`nvmebench: results written to ${file}\n`);
  const failed = records.filter((r) => r.status === 'failed');
  if (failed.length) {
    throw runError(`${failed.length} of ${records.length} runs failed; first: ${failed[0].engine}: ${failed[0].errorMessage}`, 'see the message above; --max-errors N tolerates N errors');
  }
  return { records, outcome: interrupted || lostExports > 0 ? 'failed' : 'ok', interrupted };
}

/** --job flags as jobs: the command's workload, and its one target, for the jobs that do not name their own. */
function jobsFromFlags(flags: string[], workload: RwWorkload, targets: string[]): ResolvedJob[] {
  const specs = flags.map(parseJobFlag);
  checkJobSet(specs, '--job');
  return specs.map((spec) => {
    if (spec.target === undefined && targets.length > 1) {
      throw usageError(`${spec.where}: no target, and ${targets.length} are named after the options`, `give the job its own: target=${targets[0]}`);
    }
    return { ...spec, workload: spec.workload ?? workload, target: (spec.target as string | undefined) ?? targets[0] ?? '' };
  });
}

/** Write the whole series; false when that failed, said in one line when say is set. A rewrite is atomic: what an earlier one wrote stays. */
function saveSeries(records: RunRecord[], out: OutputPath, say: boolean): boolean {
  try {
    writeSeriesCsv(records, out);
    return true;
  } catch (err) {
    const why = describeExportError(err, out.given);
    const lost = isStream(out) ? 'the time series is lost' : 'the time series there lacks this cell (rewritten after each cell, it holds them all again once a rewrite succeeds)';
    if (say) process.stderr.write(`nvmebench: ${why.message}; ${lost}: ${why.fix}\n`);
    return false;
  }
}

/** --precondition before anything is measured; false when Ctrl-C stopped it. The devices go back on the way out. */
async function precondition(preps: PreparedRun[], session: { close(): void }): Promise<boolean> {
  let ok = false;
  try {
    ok = await preconditionTargets(preps, preps[0].plan.quiet);
    return ok;
  } finally {
    if (!ok) {
      releaseClaims(preps);
      session.close();
    }
  }
}

export function register(program: Command): void {
  for (const workload of Object.keys(WORKLOAD_HELP) as RwWorkload[]) {
    const cmd = program.command(`${workload}`).description(WORKLOAD_HELP[workload]).argument('[targets...]', 'file, /dev/nvmeXnY, /dev/ngXnY, or a PCI address (vfio); several run every cell on all of them at once');
    addRunOptions(cmd)
      .option('--job <spec>', "a job to run beside the others, repeatable: name=reader,workload=randread,engine=pt-poll,qd=1,target=/dev/ng0n1 (also bs, threads, cpus, offset, size, ios, rwmix-read…); the command's options are every job's defaults", (v: string, all: string[]) => [...all, v], [] as string[])
      .action(async (targets: string[], opts: RawRunOptions & { job: string[] }) => {
        const { job: jobFlags, ...raw } = opts;
        if (jobFlags.length) return (await executeRun(await prepareJobs(jobsFromFlags(jobFlags, workload, targets), raw), workload)).outcome;
        const plan = buildPlan(workload, targets.length ? targets : undefined, raw);
        const preps = await prepareTargets(plan, { vfioAutoBind: raw.vfioAutoBind });
        return (await executeRun(preps, workload, { mode: plan.latencyTarget ? latencyTargetMode(preps) : undefined })).outcome;
      });
  }
}
