// What the benchmarks share: where the binary is, their --name value options,
// the CPU they pin to, and the median they report.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = path.join(root, 'bin', 'nvmebench.js');

/** The value after --name on the command line, or the fallback. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** --cpu, by default CPU 1 (CPU 0 where there is only one). */
export function benchCpu(): number {
  return Number(arg('cpu', String(Math.min(1, os.cpus().length - 1))));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
