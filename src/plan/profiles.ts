// Run profiles: a JSON file that names a workload and its run options, and
// optionally the reference numbers it reproduces (a seed's table), so
// `nvmebench profile seed001-kiops /dev/ng0n1` reruns a published comparison.
//
// {
//   "description": "one line for --list",
//   "workload": "randread",
//   "options": { "engine": ["uring", "pt"], "qd": [8, 64], "bs": 512, "cpus": { "firstOf": [1, 0] } },
//   "reference": { "source": "where the numbers come from", "unit": "KIOPS", "values": { "8": { "uring": 538, "pt": 589 } } }
// }
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError, usageError } from '../errors.js';
import { ENGINE_NAMES, WORKLOADS, type EngineName, type Workload } from '../model.js';
import { buildPlan, type RawRunOptions } from './options.js';
import { naturalCompare } from '../system/sysfs.js';
import { parseCpuList } from './units.js';
import { checkKeys, isObject, kebab, onlineCpus, parseJsonOptions } from './json-options.js';

export { firstPresentCpu } from './json-options.js';

export interface ProfileReference {
  /** Where the numbers come from, quoted. */
  source: string;
  unit: 'KIOPS';
  /** QD → engine → value. */
  values: Record<string, Partial<Record<EngineName, number>>>;
  /** A perf profile the source took: per symbol, its % of one engine's CPU (printed beside --explain's). */
  perf?: { engine: EngineName; symbols: Record<string, number> };
}

export interface Profile {
  name: string;
  file: string;
  description: string;
  workload: Workload;
  /** The run options as the command line would give them. */
  options: RawRunOptions;
  notes?: string;
  reference?: ProfileReference;
}

const TOP_KEYS = ['description', 'workload', 'options', 'reference', 'notes'] as const;
const REFERENCE_KEYS = ['source', 'unit', 'values', 'perf'] as const;

/** The profiles that ship with nvmebench: <package>/profiles. */
export function builtinProfileDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'profiles');
}

/** Validate a parsed profile document strictly; every error names the file and the key. */
export function parseProfile(doc: unknown, name: string, file: string, online: number[] = onlineCpus()): Profile {
  const where = `profile ${name} (${file})`;
  if (!isObject(doc)) throw usageError(`${where}: the file must hold one JSON object`, 'see profiles/seed001-kiops.json for the shape');
  checkKeys(where, doc, TOP_KEYS, 'a profile');
  if (typeof doc.description !== 'string' || !doc.description.trim()) throw usageError(`${where}: "description" is missing or empty`, 'add a one-line "description"');
  if (typeof doc.workload !== 'string' || !(WORKLOADS as readonly string[]).includes(doc.workload)) {
    throw usageError(`${where}: "workload" must be one of ${WORKLOADS.join(', ')}, not ${JSON.stringify(doc.workload)}`, 'e.g. "workload": "randread"');
  }
  const workload = doc.workload as Workload;
  if (doc.notes !== undefined && typeof doc.notes !== 'string') throw usageError(`${where}: "notes" must be a string`);
  const options = parseJsonOptions(where, doc.options, online);
  // The values themselves: the same checks as the command line, on a stand-in target.
  try {
    buildPlan(workload, '/dev/null', { ...options, cpus: undefined });
    if (options.cpus) parseCpuList(options.cpus);
  } catch (err) {
    if (err instanceof BenchError) throw new BenchError('usage', `${where}: ${err.message}`, err.fix);
    throw err;
  }
  const profile: Profile = { name, file, description: doc.description.trim(), workload, options };
  if (doc.notes !== undefined) profile.notes = doc.notes as string;
  if (doc.reference !== undefined) profile.reference = parseReference(where, doc.reference);
  return profile;
}

function parseReference(where: string, ref: unknown): ProfileReference {
  if (!isObject(ref)) throw usageError(`${where}: "reference" must be an object`, 'e.g. "reference": { "source": "...", "unit": "KIOPS", "values": { "8": { "uring": 538 } } }');
  checkKeys(where, ref, REFERENCE_KEYS, 'reference');
  if (typeof ref.source !== 'string' || !ref.source.trim()) throw usageError(`${where}: reference.source is missing`, 'say where the numbers come from');
  if (ref.unit !== 'KIOPS') throw usageError(`${where}: reference.unit must be "KIOPS", not ${JSON.stringify(ref.unit)}`);
  if (!isObject(ref.values) || !Object.keys(ref.values).length) throw usageError(`${where}: reference.values must map QD to { engine: KIOPS }`, 'e.g. "values": { "8": { "uring": 538 } }');
  const values: ProfileReference['values'] = {};
  for (const [qd, row] of Object.entries(ref.values)) {
    if (!/^[1-9]\d*$/.test(qd)) throw usageError(`${where}: reference.values key "${qd}" is not a queue depth`, 'key the rows by QD: "8", "64"');
    if (!isObject(row)) throw usageError(`${where}: reference.values["${qd}"] must map engines to KIOPS`);
    values[qd] = {};
    for (const [engine, v] of Object.entries(row)) {
      if (!(ENGINE_NAMES as readonly string[]).includes(engine)) throw usageError(`${where}: reference.values["${qd}"] names unknown engine "${engine}"`, `choose from ${ENGINE_NAMES.join(', ')}`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw usageError(`${where}: reference.values["${qd}"]["${engine}"] must be a number of KIOPS, not ${JSON.stringify(v)}`);
      values[qd][engine as EngineName] = v;
    }
  }
  const out: ProfileReference = { source: ref.source.trim(), unit: 'KIOPS', values };
  if (ref.perf !== undefined) out.perf = parsePerf(where, ref.perf);
  return out;
}

function parsePerf(where: string, perf: unknown): NonNullable<ProfileReference['perf']> {
  const example = 'e.g. "perf": { "engine": "pt-poll", "symbols": { "nvme_poll": 7.9 } }';
  if (!isObject(perf) || typeof perf.engine !== 'string' || !isObject(perf.symbols)) throw usageError(`${where}: reference.perf must name an engine and map symbols to % of its CPU`, example);
  if (!(ENGINE_NAMES as readonly string[]).includes(perf.engine)) throw usageError(`${where}: reference.perf names unknown engine "${perf.engine}"`, `choose from ${ENGINE_NAMES.join(', ')}`);
  const symbols: Record<string, number> = {};
  for (const [sym, v] of Object.entries(perf.symbols)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) throw usageError(`${where}: reference.perf.symbols["${sym}"] must be a percentage, not ${JSON.stringify(v)}`, example);
    symbols[sym] = v;
  }
  return { engine: perf.engine as EngineName, symbols };
}

export function loadProfileFile(file: string, online?: number[]): Profile {
  const name = path.basename(file).replace(/\.json$/, '');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read profile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path; nvmebench profile --list shows the built-in profiles');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw usageError(`profile ${name} (${file}) is not valid JSON: ${(err as Error).message}`, 'fix the JSON syntax');
  }
  return parseProfile(doc, name, file, online);
}

export function builtinProfileNames(dir = builtinProfileDir()): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort(naturalCompare);
  } catch {
    return [];
  }
}

/** A built-in profile's name, or a path to a profile file. */
export function resolveProfile(nameOrFile: string, dir = builtinProfileDir()): Profile {
  const looksLikeFile = nameOrFile.includes('/') || nameOrFile.endsWith('.json');
  if (looksLikeFile || (fs.existsSync(nameOrFile) && fs.statSync(nameOrFile).isFile())) return loadProfileFile(nameOrFile);
  const file = path.join(dir, `${nameOrFile}.json`);
  if (!fs.existsSync(file)) {
    const names = builtinProfileNames(dir);
    throw usageError(`no profile named "${nameOrFile}"`, names.length ? `choose one of ${names.join(', ')}, or give a profile file (nvmebench profile --list)` : 'give a profile file');
  }
  return loadProfileFile(file);
}

/** The profile's options with the ones the user typed on top. */
export function mergeOptions(profile: RawRunOptions, commandLine: RawRunOptions): RawRunOptions {
  const merged: RawRunOptions = { ...profile };
  for (const [key, value] of Object.entries(commandLine)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** The profile as the equivalent command line, for --list and the run's header. */
export function profileCommandLine(p: Profile): string {
  const parts: string[] = [p.workload];
  for (const [key, value] of Object.entries(p.options)) {
    if (value === true) parts.push(`--${kebab(key)}`);
    else if (value === false) parts.push(key === 'fixedbufs' ? '--no-fixedbufs' : '');
    else parts.push(`--${kebab(key)} ${value}`);
  }
  return parts.filter(Boolean).join(' ');
}
