// nvmebench plan run|validate|show <plan.json> [targets...]: a list of runs
// from one file (src/plan/plan-file.ts) into one results file, with one run id
// and each record tagged with its entry's name. Every entry is checked, and
// prepared once, before the first one runs: a bad plan runs nothing.
import path from 'node:path';
import type { Command } from 'commander';
import { BenchError, usageError } from '../errors.js';
import type { RunRecord } from '../model.js';
import { buildPlan, type RawRunOptions, type RunPlan } from '../plan/options.js';
import { loadPlanFile, validatePlan, type Plan, type PlanEntry } from '../plan/plan-file.js';
import { mergeOptions, profileCommandLine } from '../plan/profiles.js';
import { hostNamespaces, resolveJobTarget, resolveRole, type HostNamespace } from '../plan/roles.js';
import type { PreparedRun } from '../run/prepare.js';
import { prepareTargets } from '../run/targets.js';
import { prepareJobs, type ResolvedJob } from '../run/jobs.js';
import { newRunId } from '../run/scheduler.js';
import { buildResults } from '../analysis/results.js';
import { printResults } from '../export/stdout.js';
import { createExportSession } from '../export/session.js';
import { defaultResultPath } from '../export/paths.js';
import { addRunOptions, executeRun } from './run.js';
import { renderReference } from './profile.js';
import type { Outcome } from './outcome.js';

/** An entry made concrete on this host: its targets, or its jobs with theirs. */
interface ResolvedEntry {
  entry: PlanEntry;
  options: RawRunOptions;
  targets: string[];
  jobs?: ResolvedJob[];
}

/** Host namespaces, discovered once and only when a role asks. */
function lazyNamespaces(): () => HostNamespace[] {
  let found: HostNamespace[] | undefined;
  return () => (found ??= hostNamespaces());
}

/** Whether some run of the entry writes (a mixed workload counts as writing). */
function writesOf(entry: PlanEntry): boolean {
  const workloads = entry.jobs ? entry.jobs.map((j) => j.workload ?? entry.workload) : [entry.workload];
  return workloads.some((w) => w !== undefined && w !== 'randread' && w !== 'read');
}

/** Targets on the command line take the place of every entry's; otherwise the entry's roles resolve on this host. */
function resolveEntry(entry: PlanEntry, cli: RawRunOptions, cliTargets: string[], found: () => HostNamespace[], say: (line: string) => void): ResolvedEntry {
  const options = mergeOptions(entry.options, cli);
  const writes = writesOf(entry);
  let targets: string[] = cliTargets;
  if (!targets.length && entry.targets) targets = resolveRole(entry.targets, entry.targets.kind === 'paths' ? [] : found(), entry.where, { writes, force: options.forceDestroy === true, skip: say });
  if (!entry.jobs) {
    if (!targets.length) throw usageError(`${entry.where}: no targets`, 'give the entry "targets" (paths or "all-nvme") or "namespaces", or name targets after the plan file');
    return { entry, options, targets };
  }
  const jobs = entry.jobs.map((job): ResolvedJob => {
    const workload = job.workload ?? entry.workload;
    if (job.target !== undefined) return { ...job, workload, target: resolveJobTarget(job.target, found(), job.where) };
    if (targets.length > 1) throw usageError(`${job.where}: no target, and the entry has ${targets.length} (${targets.join(', ')})`, 'give the job its own "target", or the entry one target');
    if (!targets.length) throw usageError(`${job.where}: no target`, 'give the job a "target", the entry "targets", or name a target after the plan file');
    return { ...job, workload, target: targets[0] };
  });
  return { entry, options, targets: [...new Set(jobs.map((j) => j.target))], jobs };
}

async function prepareEntry(r: ResolvedEntry): Promise<PreparedRun[]> {
  if (r.jobs) return await prepareJobs(r.jobs, r.options);
  try {
    return await prepareTargets(buildPlan(r.entry.workload!, r.targets, r.options), { vfioAutoBind: r.options.vfioAutoBind });
  } catch (err) {
    if (err instanceof BenchError && !err.message.startsWith(r.entry.where)) throw new BenchError(err.kind, `${r.entry.where}: ${err.message}`, err.fix);
    throw err;
  }
}

function release(preps: PreparedRun[]): void {
  for (const p of preps) p.claim?.release();
}

/**
 * Prepare every entry and let go at once, so a refusal (a target in use, an
 * engine that cannot run) stops the plan before anything ran. An entry that
 * reads a file an earlier entry writes is prepared when its turn comes.
 */
async function preflight(resolved: ResolvedEntry[]): Promise<string[]> {
  const written = new Set<string>();
  const nodes: string[] = [];
  for (const r of resolved) {
    try {
      const preps = await prepareEntry(r);
      release(preps);
      for (const p of preps) nodes.push(...[p.plan.targetPath, p.target.path, p.target.nvme?.blockPath, p.target.nvme?.charPath].filter((x): x is string => !!x));
    } catch (err) {
      if (!(err instanceof BenchError && r.targets.every((t) => written.has(path.resolve(t))))) throw err;
    }
    if (writesOf(r.entry)) for (const t of r.targets) written.add(path.resolve(t));
  }
  return nodes;
}

/** An entry as the command lines it amounts to (output options left out: they are the plan run's). */
function entryWords(r: ResolvedEntry): string[] {
  const line = (workload: string, options: RawRunOptions) => {
    const { format: _f, quiet: _q, wide: _w, csv: _c, json: _j, md: _m, plot: _p, ...run } = options;
    return profileCommandLine({ workload, options: run } as Parameters<typeof profileCommandLine>[0]);
  };
  if (!r.jobs) return [`  nvmebench ${line(r.entry.workload!, r.options)} ${r.targets.join(' ')}`];
  return [`  run options: ${line('', r.options).trim() || '(defaults)'}`, ...r.jobs.map((j) => `  job ${j.name}: ${line(j.workload!, j.options)} ${j.target}`)];
}

type PlanCliOptions = RawRunOptions;

function loadAndResolve(file: string, opts: PlanCliOptions, targets: string[], say: (line: string) => void): { plan: Plan; resolved: ResolvedEntry[] } {
  const plan = loadPlanFile(file);
  validatePlan(plan, opts);
  const found = lazyNamespaces();
  return { plan, resolved: plan.entries.map((e) => resolveEntry(e, opts, targets, found, say)) };
}

async function runPlan(file: string, targets: string[], opts: PlanCliOptions): Promise<Outcome> {
  if (opts.plot) throw usageError('--plot draws one run; a plan holds several', `write --json and draw it afterwards: nvmebench plot results.json -o chart.svg`);
  const say = (line: string) => process.stderr.write(`nvmebench: ${line}\n`);
  const { plan, resolved } = loadAndResolve(file, opts, targets, say);
  const nodes = await preflight(resolved);
  const name = `plan-${path.basename(file).replace(/\.json$/, '')}`;
  const pick = (value: string | boolean | undefined, ext: string) => (value === true ? defaultResultPath(ext, name) : value || undefined);
  const session = createExportSession({ csv: pick(opts.csv, 'csv'), json: pick(opts.json, 'json'), md: pick(opts.md, 'md') }, { target: { paths: [...new Set(nodes)] } });
  const runId = newRunId();
  const format = (opts.format ?? 'table') as RunPlan['format'];
  const table = format === 'table';
  const all: RunRecord[] = [];
  let failed = 0;
  let outcome: Outcome = 'ok';
  try {
    for (const r of resolved) {
      if (table) process.stdout.write(`\nplan entry ${r.entry.name}${r.jobs ? `: ${r.jobs.length} jobs side by side` : ''}\n`);
      const preps = await prepareEntry(r);
      try {
        const result = await executeRun(preps, name, { session, runId, planEntry: r.entry.name, print: table });
        all.push(...result.records);
        if (result.outcome !== 'ok') outcome = 'failed';
        if (result.interrupted) break;
      } catch (err) {
        // A failed run is reported and the plan goes on; a usage error stops it.
        if (!(err instanceof BenchError && err.kind === 'run')) throw err;
        say(`plan entry ${r.entry.name}: ${err.toLine()}`);
        failed++;
      }
    }
  } finally {
    session.close();
  }
  if (!table && all.length) printResults(buildResults(all), format);
  if (table && plan.profile?.reference && all.length) process.stdout.write(renderReference(plan.profile, all));
  for (const f of session.files) say(`results written to ${f}`);
  if (session.lost.length) outcome = 'failed';
  if (failed) say(`${failed} of ${resolved.length} plan entries failed (run id ${runId})`);
  return failed ? 'failed' : outcome;
}

export function register(program: Command): void {
  const plan = program.command('plan').description('run a plan: several runs from one JSON file into one results file (nvmebench plan run plan.json)');
  addRunOptions(
    plan
      .command('run')
      .description("run every entry of a plan, in order, into one results file (--csv/--json); run options given here override the plan's")
      .argument('<plan>', 'a plan file (or a profile file, a plan of one entry)')
      .argument('[targets...]', "targets that take the place of every entry's"),
  ).action(async (file: string, targets: string[], opts: PlanCliOptions) => runPlan(file, targets, opts));
  addRunOptions(
    plan
      .command('validate')
      .description('check a plan without running it or looking at this host: exit 2 with the key and the fix when it is bad')
      .argument('<plan>', 'a plan file'),
  ).action((file: string, opts: PlanCliOptions) => {
    const p = loadPlanFile(file);
    validatePlan(p, opts);
    process.stdout.write(`${file}: a valid plan of ${p.entries.length} entr${p.entries.length === 1 ? 'y' : 'ies'} (${p.entries.map((e) => e.name).join(', ')})\n`);
  });
  addRunOptions(
    plan
      .command('show')
      .description('what a plan would run on this host: every entry with its targets resolved, as command lines')
      .argument('<plan>', 'a plan file')
      .argument('[targets...]', "targets that take the place of every entry's"),
  ).action((file: string, targets: string[], opts: PlanCliOptions) => {
    const lines: string[] = [];
    const { plan: p, resolved } = loadAndResolve(file, opts, targets, (line) => lines.push(`  (${line})`));
    const out = [`plan ${file}${p.description ? `: ${p.description}` : ''}`];
    for (const r of resolved) out.push(`${r.entry.name}${r.jobs ? ' (jobs side by side)' : ''}:`, ...entryWords(r));
    process.stdout.write([...out, ...lines].join('\n') + '\n');
  });
}
