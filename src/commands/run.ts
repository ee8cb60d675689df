// The workload commands: randread, randwrite, read, write, randrw, rw.
// nvmebench randread --engine uring,pt --qd 8,64,256 --bs 512 /dev/ng0n1
import { Command, Option } from 'commander';
import { runError } from '../errors.js';
import type { RunRecord, RwWorkload } from '../model.js';
import { buildPlan, type RawRunOptions, type RunPlan } from '../plan/options.js';
import { LiveLine } from '../output/live.js';
import { RunProgress } from '../output/progress.js';
import { buildResults } from '../analysis/results.js';
import { printResults } from '../export/stdout.js';
import type { PreparedRun } from '../run/prepare.js';
import { prepareTargets } from '../run/targets.js';
import { runAll } from '../run/scheduler.js';
import { createExportSession, type ExportTargets } from '../export/session.js';
import { defaultResultPath } from '../export/paths.js';
import { checkOutputPath, describeExportError, type TargetNodes } from '../export/fsutil.js';
import type { Outcome } from './outcome.js';
import { waitForStart } from '../plan/fleet-options.js';

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
    .option('--rwmix-read <pct>', 'randrw/rw: percentage of reads (default 50)')
    .option('--nsid <n>', 'NVMe namespace id (default: the node\'s own; 1 for a PCI address)')
    .option('--vectored', 'pt: NVME_URING_CMD_IO_VEC (turns fixed buffers off)')
    .option('--max-errors <n>', 'stop once more I/O errors than this occur (default 0)')
    .option('--clock <clock>', 'what stamps latencies: auto (default: the TSC where it is invariant and calibrates, else CLOCK_MONOTONIC), tsc, or monotonic')
    .option('--lat <mode>', 'which I/Os are timed: all (default), sample:N (every Nth), or off (IOPS and CPU only)')
    .option('--repeat <n>', 'run every cell n times, interleaved (default 1)')
    .option('--warmup <n>', 'unmeasured runs of every cell before the repeats, interleaved; not recorded (default 0)')
    .option('--force-destroy', 'write even to a device that is mounted, held or carries a signature')
    .option('--vfio-auto-bind', 'vfio: bind the controller to vfio-pci for the run and give it back to its driver afterwards (also on Ctrl-C or an error)')
    .option('--csv [file]', 'append results as CSV (default results/<time>-<workload>.csv)')
    .option('--json [file]', 'write results with full histograms as JSON')
    .option('--md [file]', 'write the results table as Markdown')
    .option('--plot <file>', 'write an SVG chart of IOPS against QD')
    .addOption(new Option('--format <format>', 'stdout format').choices(['table', 'csv', 'json', 'md']).default('table'))
    .option('--quiet', 'no live line and no progress line')
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
}

/** The width to fit the results table to: the terminal's, unless --wide or stdout is not a terminal. */
function terminalWidth(wide: boolean): number | undefined {
  return !wide && process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : undefined;
}

/** Run a prepared plan with live output, Ctrl-C handling and exports. */
export async function executeRun(given: PreparedRun | PreparedRun[], name: string): Promise<RunResult> {
  const preps = Array.isArray(given) ? given : [given];
  const prep = preps[0];
  const { plan } = prep;
  // Every export path is checked here, before anything runs (usage error, exit 2).
  const target = targetNodes(preps);
  let session: ReturnType<typeof createExportSession>;
  let plotOut: ReturnType<typeof checkOutputPath> | undefined;
  try {
    session = createExportSession(exportTargets(plan, name), { target });
    plotOut = plan.plot ? checkOutputPath(plan.plot, { flag: '--plot', target }) : undefined;
  } catch (err) {
    releaseClaims(preps); // nothing ran: the devices go back at once
    throw err;
  }
  for (const skip of prep.skipped) process.stderr.write(`nvmebench: skipping ${skip.engine}: ${skip.reason}: ${skip.fix}\n`);
  // With --ios the ETA comes from the rate so far; otherwise from --ramp and --runtime.
  const progress = RunProgress.forTerminal(plan.quiet, {
    runs: prep.cells.length * (plan.warmup + plan.repeat),
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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let records: RunRecord[] = [];
  try {
    if (!(await waitForStart(plan.startAtMs, say, { requested: () => interrupted }))) return { records, outcome: 'failed' };
    records = await runAll(preps, {
      onRecord: (record) => session.add(record),
      live: LiveLine.forTerminal(plan.quiet, progress && say),
      progress,
      interrupted: () => interrupted,
      setCurrent: (stop) => {
        stopCurrent = stop;
      },
    });
  } finally {
    progress?.stop();
    releaseClaims(preps);
    // Give an auto-bound controller back while our signal handlers still hold off a second Ctrl-C.
    await prep.vfioAutoBind?.restore();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session.close();
  }
  // The table comes whatever happened to the exports.
  const results = buildResults(records);
  if (records.length) printResults(results, plan.format, { width: terminalWidth(plan.wide) });
  let lostExports = session.lost.length;
  if (plotOut && records.length) {
    try {
      const { writePlot } = await import('../export/plot.js');
      await writePlot(results, plotOut, {});
    } catch (err) {
      const why = describeExportError(err, plotOut.given);
      process.stderr.write(`nvmebench: ${why.message}; the plot is lost: ${why.fix}\n`);
      lostExports++;
    }
  }
  for (const file of session.files) process.stderr.write(`nvmebench: results written to ${file}\n`);
  const failed = records.filter((r) => r.status === 'failed');
  if (failed.length) {
    throw runError(`${failed.length} of ${records.length} runs failed; first: ${failed[0].engine}: ${failed[0].errorMessage}`, 'see the message above; --max-errors N tolerates N errors');
  }
  return { records, outcome: interrupted || lostExports > 0 ? 'failed' : 'ok' };
}

export function register(program: Command): void {
  for (const workload of Object.keys(WORKLOAD_HELP) as RwWorkload[]) {
    const cmd = program.command(`${workload}`).description(WORKLOAD_HELP[workload]).argument('[targets...]', 'file, /dev/nvmeXnY, /dev/ngXnY, or a PCI address (vfio); several run every cell on all of them at once');
    addRunOptions(cmd).action(async (targets: string[], raw: RawRunOptions) => {
      const plan = buildPlan(workload, targets.length ? targets : undefined, raw);
      const preps = prepareTargets(plan, { vfioAutoBind: raw.vfioAutoBind });
      return (await executeRun(preps, workload)).outcome;
    });
  }
}
