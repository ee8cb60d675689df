// Plans: one JSON file for a whole comparison, run by `nvmebench plan run`.
//
// {
//   "planVersion": 1,
//   "description": "one line",
//   "options": { "runtime": "10s" },                       // every entry's defaults
//   "runs": [
//     { "name": "qd-sweep", "workload": "randread", "targets": "all-nvme",
//       "options": { "engine": ["uring", "pt"], "qd": [1, 32] } },
//     { "name": "mixed", "namespaces": { "model": "QEMU*" }, "options": { "verify": true },
//       "jobs": [ { "name": "reader", "workload": "randread", "engine": "pt-poll", "qd": 1, "size": "1g" },
//                 { "name": "writer", "workload": "randwrite", "engine": "uring", "qd": 32, "offset": "1g", "size": "1g" } ] }
//   ]
// }
//
// A profile (profiles/*.json) is a plan of one entry: loadPlanFile reads both.
// Every error names the file and the JSON path of the key, with the fix.
import fs from 'node:fs';
import path from 'node:path';
import { BenchError, usageError } from '../errors.js';
import { WORKLOADS, type RwWorkload } from '../model.js';
import { buildPlan, type RawRunOptions } from './options.js';
import { isObject, onlineCpus, parseJsonOptions } from './json-options.js';
import { parseCpuList } from './units.js';
import { checkJobSet, jobPlan, parseJsonJob, type JobSpec } from './jobs.js';
import { parseTargetRole, type TargetRole } from './roles.js';
import { mergeOptions, parseProfile, type Profile } from './profiles.js';

export const PLAN_VERSION = 1;

export interface PlanEntry {
  name: string;
  /** For messages: "plan p.json: runs[1] (mixed)". */
  where: string;
  workload?: RwWorkload;
  targets?: TargetRole;
  /** The plan's options with the entry's on top. */
  options: RawRunOptions;
  /** Jobs side by side; absent for an ordinary run. */
  jobs?: JobSpec[];
}

export interface Plan {
  file: string;
  description: string;
  entries: PlanEntry[];
  /** When the file is a profile: the profile (its reference numbers). */
  profile?: Profile;
}

const TOP_KEYS = ['planVersion', 'description', 'options', 'runs'];
const ENTRY_KEYS = ['name', 'description', 'workload', 'targets', 'namespaces', 'options', 'jobs'];
const ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SHAPE = 'see the plan format in the README ("Plans"): { "planVersion": 1, "runs": [ { "name": "a", "workload": "randread", "targets": "all-nvme" } ] }';

function unknownKey(file: string, at: string, key: string, allowed: string[]): BenchError {
  return usageError(`${file}: unknown key "${key}"${at ? ` in ${at}` : ''}`, `${at || 'a plan'} may have: ${allowed.join(', ')}`);
}

function parseEntry(file: string, index: number, doc: unknown, defaults: RawRunOptions, online: number[]): PlanEntry {
  const at = `runs[${index}]`;
  if (!isObject(doc)) throw usageError(`${file}: ${at} must be an object`, SHAPE);
  for (const key of Object.keys(doc)) if (!ENTRY_KEYS.includes(key)) throw unknownKey(file, at, key, ENTRY_KEYS);
  if (typeof doc.name !== 'string' || !ENTRY_NAME.test(doc.name)) {
    throw usageError(`${file}: ${at}.name ${doc.name === undefined ? 'is missing' : `${JSON.stringify(doc.name)} is not a name`}`, 'name every entry with letters, digits, _ . - : "name": "qd-sweep"');
  }
  const where = `${file}: ${at} (${doc.name})`;
  let workload: RwWorkload | undefined;
  if (doc.workload !== undefined) {
    if (typeof doc.workload !== 'string' || !(WORKLOADS as readonly string[]).includes(doc.workload)) {
      throw usageError(`${file}: ${at}.workload must be one of ${WORKLOADS.join(', ')}, not ${JSON.stringify(doc.workload)}`, 'e.g. "workload": "randread"');
    }
    workload = doc.workload as RwWorkload;
  }
  if (doc.description !== undefined && typeof doc.description !== 'string') throw usageError(`${file}: ${at}.description must be a string`);
  const own = doc.options === undefined ? {} : parseJsonOptions(file, doc.options, online, `${at}.options`, 'plan');
  const entry: PlanEntry = { name: doc.name, where, workload, targets: parseTargetRole(file, at, doc.targets, doc.namespaces), options: mergeOptions(defaults, own) };
  if (doc.jobs !== undefined) {
    if (!Array.isArray(doc.jobs) || !doc.jobs.length) throw usageError(`${file}: ${at}.jobs must be a non-empty list of jobs`, 'e.g. "jobs": [ { "name": "reader", "workload": "randread", "qd": 1 } ]');
    entry.jobs = doc.jobs.map((j, i) => parseJsonJob(file, `${at}.jobs[${i}]`, j, online));
    checkJobSet(entry.jobs, where);
  } else if (!workload) {
    throw usageError(`${file}: ${at}.workload is missing`, 'e.g. "workload": "randread" (or give the entry "jobs")');
  }
  return entry;
}

/** Validate a parsed plan document strictly; every error names the file and the key's JSON path. */
export function parsePlan(doc: unknown, file: string, online: number[] = onlineCpus()): Plan {
  if (!isObject(doc)) throw usageError(`${file}: the file must hold one JSON object`, SHAPE);
  // A profile: a plan of one entry.
  if (doc.planVersion === undefined && doc.workload !== undefined) {
    const name = path.basename(file).replace(/\.json$/, '');
    const profile = parseProfile(doc, name, file, online);
    return { file, description: profile.description, profile, entries: [{ name, where: `${file} (profile ${name})`, workload: profile.workload as RwWorkload, options: profile.options }] };
  }
  for (const key of Object.keys(doc)) if (!TOP_KEYS.includes(key)) throw unknownKey(file, '', key, TOP_KEYS);
  if (doc.planVersion !== PLAN_VERSION) {
    throw usageError(`${file}: "planVersion" is ${doc.planVersion === undefined ? 'missing' : JSON.stringify(doc.planVersion)}; this nvmebench reads plan version ${PLAN_VERSION}`, `add "planVersion": ${PLAN_VERSION} (a profile instead has "workload" and "options")`);
  }
  if (doc.description !== undefined && typeof doc.description !== 'string') throw usageError(`${file}: "description" must be a string`);
  const defaults = doc.options === undefined ? {} : parseJsonOptions(file, doc.options, online, 'options', 'plan');
  if (!Array.isArray(doc.runs) || !doc.runs.length) throw usageError(`${file}: "runs" must be a non-empty list of entries`, SHAPE);
  const entries = doc.runs.map((e, i) => parseEntry(file, i, e, defaults, online));
  const names = new Set<string>();
  for (const [i, e] of entries.entries()) {
    if (names.has(e.name)) throw usageError(`${file}: runs[${i}].name "${e.name}" is used twice`, 'give every entry its own name: the records carry it (plan_entry)');
    names.add(e.name);
  }
  return { file, description: typeof doc.description === 'string' ? doc.description : '', entries };
}

export function loadPlanFile(file: string, online?: number[]): Plan {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read plan ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw usageError(`${file} is not valid JSON: ${(err as Error).message}`, 'fix the JSON syntax');
  }
  return parsePlan(doc, file, online);
}

/**
 * Every entry and job through buildPlan, the command line's own checks, with
 * the command line's options on top and a stand-in for targets not known until
 * the host is: nothing runs, and an error names the entry.
 */
export function validatePlan(plan: Plan, commandLine: RawRunOptions): void {
  // CPU lists are checked for their form only: the host that runs the plan may have CPUs this one lacks.
  const noCpus = (o: RawRunOptions): RawRunOptions => {
    if (o.cpus !== undefined && o.cpus.trim() !== 'auto') parseCpuList(o.cpus);
    return { ...o, cpus: undefined };
  };
  for (const entry of plan.entries) {
    const options = mergeOptions(entry.options, commandLine);
    try {
      if (entry.jobs) {
        for (const job of entry.jobs) jobPlan({ ...job, workload: job.workload ?? entry.workload, options: noCpus(job.options) }, noCpus(options), '/dev/null');
        continue;
      }
      buildPlan(entry.workload!, '/dev/null', noCpus(options));
    } catch (err) {
      if (err instanceof BenchError && err.message.startsWith(entry.where)) throw err;
      if (err instanceof BenchError) throw new BenchError(err.kind, `${entry.where}: ${err.message}`, err.fix);
      throw err;
    }
  }
}
