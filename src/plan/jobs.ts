// Jobs side by side: different workloads at the same time, each with its own
// engine, QD, block size, threads, region and target. A job comes from a
// --job flag (name=reader,workload=randread,engine=pt-poll,qd=1,target=/dev/ng0n1)
// or from a plan entry's "jobs" list; either way it ends as a JobSpec whose
// options buildPlan checks like the command line's.
import { BenchError, usageError } from '../errors.js';
import { WORKLOADS, type RwWorkload } from '../model.js';
import { buildPlan, type RawRunOptions, type RunPlan } from './options.js';
import { isObject, kebab, optionValue } from './json-options.js';
import { parseSelector, type NamespaceSelector } from './roles.js';

export interface JobSpec {
  name: string;
  workload?: RwWorkload;
  /** A path, or (plans) a selector that must name one namespace on the host. */
  target?: string | NamespaceSelector;
  /** The job's own options; the run's fill in the rest. */
  options: RawRunOptions;
  /** Where it was given, for messages: "--job reader", "plan p.json: runs[1].jobs[0]". */
  where: string;
}

/**
 * The options a job may set for itself. The others (--runtime, --ramp, --repeat,
 * --verify, --lat, --clock…) are the run's: the jobs start and stop together.
 * Issue 16's --rate-iops, once it exists, belongs here too (add 'rateIops').
 */
export const JOB_OPTION_KEYS: readonly string[] = [
  'engine', 'qd', 'bs', 'threads', 'cpus', 'size', 'offset', 'ios', 'batchSubmit', 'batchComplete',
  'fixedbufs', 'regfiles', 'sqpoll', 'buffered', 'rwmixRead', 'nsid', 'vectored', 'maxErrors',
];
const JOB_KEYS = ['name', 'workload', 'target', ...JOB_OPTION_KEYS];
const BOOL_KEYS = ['fixedbufs', 'regfiles', 'sqpoll', 'buffered', 'vectored'];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const EXAMPLE = "--job 'name=reader,workload=randread,engine=pt-poll,qd=1,target=/dev/ng0n1'";

function camel(key: string): string {
  return key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function checkName(where: string, name: string): string {
  if (!NAME.test(name)) throw usageError(`${where}: job name "${name}" is not a name`, 'use letters, digits, _ . - (at most 64), e.g. name=reader');
  return name;
}

function checkWorkload(where: string, value: string): RwWorkload {
  if (!(WORKLOADS as readonly string[]).includes(value)) throw usageError(`${where}: workload "${value}" is not one of ${WORKLOADS.join(', ')}`, 'e.g. workload=randread');
  return value as RwWorkload;
}

/** One --job flag: comma-separated key=value pairs (values hold no commas: one engine, QD and bs per job). */
export function parseJobFlag(text: string, index: number): JobSpec {
  let where = `--job ${index + 1}`;
  const spec: JobSpec = { name: `job${index + 1}`, options: {}, where };
  const seen = new Set<string>();
  const pairs = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (!pairs.length) throw usageError(`${where} is empty`, `give key=value pairs: ${EXAMPLE}`);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`${where}: "${pair}" is not key=value`, `give key=value pairs separated by commas: ${EXAMPLE}`);
    const key = camel(pair.slice(0, eq).trim());
    const value = pair.slice(eq + 1).trim();
    if (!JOB_KEYS.includes(key)) {
      throw usageError(`${where}: unknown key "${pair.slice(0, eq).trim()}"`, `a job takes ${JOB_KEYS.map(kebab).join(', ')}; the run's own options (--runtime, --verify, --repeat…) go outside --job`);
    }
    if (seen.has(key)) throw usageError(`${where}: "${kebab(key)}" is given twice`, 'give each key once');
    seen.add(key);
    if (value === '') throw usageError(`${where}: "${kebab(key)}" has no value`, `e.g. ${kebab(key)}=${key === 'target' ? '/dev/ng0n1' : '1'}`);
    if (key === 'name') {
      spec.name = checkName(where, value);
      spec.where = where = `job ${value}`;
    } else if (key === 'workload') spec.workload = checkWorkload(where, value);
    else if (key === 'target') spec.target = value;
    else if (BOOL_KEYS.includes(key)) {
      if (value !== 'true' && value !== 'false') throw usageError(`${where}: ${kebab(key)}=${value} is not true or false`, `e.g. ${kebab(key)}=true`);
      (spec.options as Record<string, unknown>)[key] = value === 'true';
    } else (spec.options as Record<string, unknown>)[key] = value;
  }
  return spec;
}

/** One job of a plan entry: { "name", "workload", "target", and JOB_OPTION_KEYS as in "options" }. */
export function parseJsonJob(file: string, at: string, doc: unknown, online: number[]): JobSpec {
  if (!isObject(doc)) throw usageError(`${file}: ${at} must be an object`, `e.g. { "name": "reader", "workload": "randread", "engine": "pt-poll", "qd": 1, "target": "/dev/ng0n1" }`);
  for (const key of Object.keys(doc)) {
    if (!JOB_KEYS.includes(key)) {
      throw usageError(`${file}: unknown key "${key}" in ${at}`, `a job may have: ${JOB_KEYS.join(', ')}; the run's options (runtime, verify, repeat…) go in the entry's "options"`);
    }
  }
  if (typeof doc.name !== 'string') throw usageError(`${file}: ${at}.name is missing`, 'name every job: "name": "reader"');
  const name = checkName(`${file}: ${at}.name`, doc.name);
  const spec: JobSpec = { name, options: {}, where: `${file}: ${at} (job ${name})` };
  if (doc.workload !== undefined) {
    if (typeof doc.workload !== 'string') throw usageError(`${file}: ${at}.workload must be a string`, 'e.g. "workload": "randread"');
    spec.workload = checkWorkload(`${file}: ${at}.workload`, doc.workload);
  }
  if (doc.target !== undefined) {
    if (typeof doc.target === 'string' && doc.target.trim()) spec.target = doc.target.trim();
    else spec.target = parseSelector(file, `${at}.target`, doc.target);
  }
  for (const key of JOB_OPTION_KEYS) {
    if (doc[key] !== undefined) (spec.options as Record<string, unknown>)[key] = optionValue(file, key, doc[key], online, at, 'plan');
  }
  return spec;
}

/** Names are unique among the jobs of one run; at most 64 jobs (the native run limit). */
export function checkJobSet(specs: JobSpec[], where: string): void {
  if (specs.length > 64) throw usageError(`${where}: ${specs.length} jobs; at most 64 run side by side`, 'split them over several runs');
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) throw usageError(`${where}: two jobs are named "${spec.name}"`, 'give every job its own name');
    seen.add(spec.name);
  }
}

/**
 * A job's RunPlan: the run's options with the job's on top, checked by buildPlan
 * as the command line is. A job runs one engine, one QD and one block size.
 */
export function jobPlan(spec: JobSpec, common: RawRunOptions, target: string | undefined): RunPlan {
  const workload = spec.workload;
  if (!workload) throw usageError(`${spec.where}: no workload`, 'give the job workload=randread (or run it under a workload command: nvmebench randread --job …)');
  if (target === undefined || target === '') {
    throw usageError(`${spec.where}: no target`, 'give the job target=/dev/ng0n1 (or name one target after the options, which every job without its own uses)');
  }
  let plan: RunPlan;
  try {
    plan = buildPlan(workload, target, { ...common, ...definedOnly(spec.options) });
  } catch (err) {
    if (err instanceof BenchError) throw new BenchError(err.kind, `${spec.where}: ${err.message}`, err.fix);
    throw err;
  }
  const one = (what: string, values: unknown[] | 'all', example: string) => {
    if (values === 'all' || values.length > 1) {
      throw usageError(`${spec.where}: a job runs one ${what}, not ${values === 'all' ? 'all' : values.join(',')}`, `give the job one (${example}), or one job each`);
    }
  };
  one('engine', plan.engines, 'engine=pt-poll');
  one('queue depth', plan.ioDepths, 'qd=1');
  one('block size', plan.blockSizes, 'bs=4k');
  return plan;
}

function definedOnly(o: RawRunOptions): RawRunOptions {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as RawRunOptions;
}
