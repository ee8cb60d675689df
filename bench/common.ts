// What the benchmarks share: where the binary is, their --name value options,
// the CPU they pin to, the median they report, the page-cached file and
// t/io_uring (fio's peak-rate tool, built from fio's source; never part of this repository).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
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

/** t/io_uring from fio's source, when given: --t-io-uring PATH or NVMEBENCH_T_IO_URING. */
export function tIoUringPath(): string | undefined {
  const p = arg('t-io-uring', process.env.NVMEBENCH_T_IO_URING ?? '');
  return p || undefined;
}

/**
 * t/io_uring with args for runtime seconds, pinned to cpu with taskset (it
 * pins itself only to a NUMA node). It prints IOPS= once a second; the mean of
 * those lines is its IOPS over the run (give it 3 s or more). Its CPU time
 * (all its threads; the main one only sleeps and prints) comes from
 * /usr/bin/time where that is installed, NaN otherwise.
 */
export function runTIoUring(binary: string, args: string[], runtime: number, cpu: number): { iops: number; cpuPct: number; userPct: number } {
  const timed = fs.existsSync('/usr/bin/time');
  const command = ['taskset', '-c', String(cpu), binary, ...args, `-r${runtime}`];
  const r = timed
    ? spawnSync('/usr/bin/time', ['-f', 'nvmebench-time %e %U %S', ...command], { encoding: 'utf8' })
    : spawnSync(command[0], command.slice(1), { encoding: 'utf8' });
  const rate = (m: RegExpMatchArray) => Number(m[1]) * (m[2] === 'M' ? 1e6 : m[2] === 'K' ? 1e3 : 1);
  // A run under two seconds may print no full second: then its maximum is all there is.
  let rates = [...r.stdout.matchAll(/^IOPS=([\d.]+)([MK]?)/gm)].map(rate);
  if (!rates.length) rates = [...r.stdout.matchAll(/^Maximum IOPS=([\d.]+)([MK]?)/gm)].map(rate).filter((x) => x > 0);
  if (r.status !== 0 || !rates.length) throw new Error(`t/io_uring ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  const time = /nvmebench-time ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  const cpuPct = time ? ((Number(time[2]) + Number(time[3])) / Number(time[1])) * 100 : NaN;
  const userPct = time ? (Number(time[2]) / Number(time[1])) * 100 : NaN;
  return { iops: rates.reduce((a, b) => a + b, 0) / rates.length, cpuPct, userPct };
}

/** A file of sizeMiB, pulled into the page cache, for the buffered benchmarks. */
export function cachedFile(file: string, sizeMiB: number): void {
  if (!fs.existsSync(file) || fs.statSync(file).size !== sizeMiB * 1024 * 1024) {
    const chunk = Buffer.alloc(1024 * 1024, 0x5a);
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < sizeMiB; i++) fs.writeSync(fd, chunk);
    fs.closeSync(fd);
  }
  fs.readFileSync(file);
}

/** t/io_uring's options for the file benchmark: 512 B random reads, QD 128, batches 32/32, fixed buffers, registered files, buffered, no polling. */
export const T_IO_URING_FILE_ARGS = ['-b512', '-d128', '-s32', '-c32', '-p0', '-B1', '-F1', '-O0', '-R1', '-n1'];

/** nvmebench's options for the same workload, and its one worker pinned. */
export function nvmebenchFileArgs(cpu: number, runtime: number, file: string): string[] {
  return ['randread', '--engine', 'uring', '--bs', '512', '--qd', '128', '--batch-submit', '32', '--batch-complete', '32', '--fixedbufs', '--regfiles', '--buffered', '--cpus', String(cpu), '--runtime', String(runtime), '--format', 'json', '--quiet', file];
}
