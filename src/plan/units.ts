// fio-style sizes and durations, and comma lists. Pure functions, unit-tested.
import { usageError } from '../errors.js';

const SIZE_SUFFIX: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Parse 512, 4k, 128K, 1m, 1GiB into bytes (powers of 1024, as fio does by default). */
export function parseSize(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const suffix = match ? match[2].toLowerCase() : '';
  if (!match || !(suffix in SIZE_SUFFIX)) {
    throw usageError(`${what} '${text}' is not a size`, 'use bytes or a suffix: 512, 4k, 128k, 1m, 1g');
  }
  const bytes = Number(match[1]) * SIZE_SUFFIX[suffix];
  if (!Number.isSafeInteger(bytes)) {
    throw usageError(`${what} '${text}' is not a whole number of bytes`, 'use an integer size such as 4k');
  }
  return bytes;
}

/** Parse a non-negative integer option. */
export function parseCount(text: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw usageError(`${what} '${text}' is not a whole number`, `give an integer from ${min} to ${max}`);
  }
  const value = Number(text);
  if (value < min || value > max) {
    throw usageError(`${what} ${value} is out of range`, `give an integer from ${min} to ${max}`);
  }
  return value;
}

/** Parse 10, 10s, 500ms, 2m into milliseconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!match) {
    throw usageError(`${what} '${text}' is not a duration`, 'use seconds, or a suffix: 500ms, 10s, 2m');
  }
  const scale: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const ms = Math.round(Number(match[1]) * scale[(match[2] ?? 's').toLowerCase()]);
  if (!Number.isSafeInteger(ms)) throw usageError(`${what} '${text}' is too long a duration`, 'use seconds, or a suffix: 500ms, 10s, 2m');
  return ms;
}

/** Split a comma list, dropping empty items; every item parsed by fn. */
export function parseList<T>(text: string, fn: (item: string) => T): T[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return items.map(fn);
}

const MAX_CPU = 8191;

/** 0-3,8,10-11 → [0,1,2,3,8,10,11] */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const item of parseList(text, (s) => s)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!range) throw usageError(`--cpus item '${item}' is not a CPU number or range`, 'use a list such as 0,2 or 0-3');
    const lo = Number(range[1]);
    const hi = range[2] === undefined ? lo : Number(range[2]);
    // Linux numbers at most 8192 CPUs (NR_CPUS); a bigger number is a typo, and expanding it would exhaust memory.
    if (hi > MAX_CPU) throw usageError(`--cpus '${item}' names CPU ${range[2] ?? range[1]}, past the largest CPU number Linux has (${MAX_CPU})`, 'use a list such as 0,2 or 0-3');
    if (hi < lo) throw usageError(`--cpus range '${item}' runs backwards`, `write it as ${hi}-${lo}`);
    for (let cpu = lo; cpu <= hi; cpu++) cpus.push(cpu);
  }
  return cpus;
}
