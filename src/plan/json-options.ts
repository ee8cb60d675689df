// Run options written in JSON (profiles and plans): which keys a file may set,
// and each value turned into the string the command line would have given, so
// that buildPlan (options.ts) checks them exactly as it checks the flags.
import os from 'node:os';
import { usageError } from '../errors.js';
import type { RawRunOptions } from './options.js';
import { readCpuList, realSys } from '../system/sysfs.js';

type Kind = 'list' | 'int' | 'size' | 'duration' | 'bool' | 'cpus';

/** Every run option a profile or plan may set, and how it is written. Output and --force-destroy stay on the command line. */
export const OPTION_KINDS: Record<string, Kind> = {
  engine: 'list',
  qd: 'list',
  bs: 'list',
  threads: 'int',
  cpus: 'cpus',
  runtime: 'duration',
  ramp: 'duration',
  ios: 'int',
  size: 'size',
  offset: 'size',
  batchSubmit: 'int',
  batchComplete: 'int',
  fixedbufs: 'bool',
  regfiles: 'bool',
  sqpoll: 'bool',
  buffered: 'bool',
  verify: 'bool',
  verifySeed: 'int',
  rwmixRead: 'int',
  nsid: 'int',
  vectored: 'bool',
  maxErrors: 'int',
  repeat: 'int',
  warmup: 'int',
  explain: 'bool',
};

/** Options a file cannot hold, and the flag that gives them. */
export const COMMAND_LINE_ONLY: Record<string, string> = {
  forceDestroy: '--force-destroy',
  csv: '--csv',
  json: '--json',
  md: '--md',
  plot: '--plot',
  format: '--format',
  quiet: '--quiet',
  wide: '--wide',
};

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The first CPU of the list that this machine has online. */
export function firstPresentCpu(candidates: number[], online: number[]): number | undefined {
  return candidates.find((c) => online.includes(c));
}

export function onlineCpus(): number[] {
  const online = readCpuList(realSys, '/sys/devices/system/cpu/online');
  return online.length ? online : os.cpus().map((_, i) => i);
}

function exampleFor(kind: Kind | undefined): string {
  switch (kind) {
    case 'bool':
      return 'true';
    case 'int':
      return '1';
    case 'size':
      return '"1g"';
    case 'duration':
      return '"10s"';
    case 'list':
      return '[8, 64]';
    case 'cpus':
      return '{ "firstOf": [1, 0] }';
    default:
      return '...';
  }
}

/**
 * One option value from JSON to the string commander would have handed over.
 * `where` names the file (and entry), `at` the JSON path of the object holding
 * the key ("options"), `noun` what to fix ("profile", "plan").
 */
export function optionValue(where: string, key: string, value: unknown, online: number[], at = 'options', noun = 'profile'): string | boolean {
  const kind = OPTION_KINDS[key];
  const bad = (want: string) => usageError(`${where}: ${at}.${key} must be ${want}, not ${JSON.stringify(value)}`, `fix the ${noun}, e.g. "${key}": ${exampleFor(kind)}`);
  const scalar = (v: unknown) => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.trim() !== '');
  switch (kind) {
    case 'bool':
      if (typeof value !== 'boolean') throw bad('true or false');
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw bad('a whole number');
      return String(value);
    case 'size':
    case 'duration':
      if (!scalar(value)) throw bad(kind === 'size' ? 'a size (a number of bytes or a string such as "1g")' : 'a duration (seconds, or a string such as "10s")');
      return String(value);
    case 'list':
      if (Array.isArray(value)) {
        if (!value.length || !value.every(scalar)) throw bad('a non-empty list of values');
        return value.join(',');
      }
      if (!scalar(value)) throw bad('a value or a list of values');
      return String(value);
    case 'cpus': {
      if (isObject(value)) {
        const keys = Object.keys(value);
        const list = value.firstOf;
        if (keys.length !== 1 || keys[0] !== 'firstOf' || !Array.isArray(list) || !list.length || !list.every((c) => Number.isInteger(c) && (c as number) >= 0)) {
          throw bad('a CPU list, or { "firstOf": [1, 0] } for the first of those CPUs this machine has');
        }
        const cpu = firstPresentCpu(list as number[], online);
        if (cpu === undefined) throw usageError(`${where}: none of the CPUs ${list.join(', ')} (${at}.cpus.firstOf) is online here`, 'give --cpus on the command line');
        return String(cpu);
      }
      if (Array.isArray(value)) {
        if (!value.length || !value.every((c) => Number.isInteger(c) && c >= 0)) throw bad('a CPU list');
        return value.join(',');
      }
      if (!scalar(value)) throw bad('a CPU list such as "0-3" or [0, 2]');
      return String(value);
    }
  }
  throw usageError(`${where}: unknown option "${key}"`);
}

/** Every key of obj must be allowed; `what` names the object in the message ("options", "a profile"…). */
export function checkKeys(where: string, obj: Record<string, unknown>, allowed: readonly string[], what: string, noun = 'profile'): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      const hint = COMMAND_LINE_ONLY[key] ? `${COMMAND_LINE_ONLY[key]} goes on the command line, not in a ${noun}` : `${what} may have: ${allowed.join(', ')}`;
      // "a profile", "a plan": the document itself; otherwise the JSON path of the object.
      const inWhat = what.startsWith('a ') ? '' : ` in ${what}`;
      throw usageError(`${where}: unknown key "${key}"${inWhat}`, hint);
    }
  }
}

/** A JSON options object as RawRunOptions, every key and value checked. */
export function parseJsonOptions(where: string, obj: unknown, online: number[], at = 'options', noun = 'profile', allowed: readonly string[] = Object.keys(OPTION_KINDS)): RawRunOptions {
  if (!isObject(obj)) throw usageError(`${where}: "${at}" must be an object of run options`, 'e.g. "options": { "engine": ["uring", "pt"], "qd": [8, 64] }');
  checkKeys(where, obj, allowed, at, noun);
  const options: RawRunOptions = {};
  for (const [key, value] of Object.entries(obj)) (options as Record<string, unknown>)[key] = optionValue(where, key, value, online, at, noun);
  return options;
}
