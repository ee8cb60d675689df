// Instructions per I/O of nvmebench's worker thread, counted by callgrind:
// the one figure of the loop's own cost that a shared, noisy machine does not
// move. IOPS on such a machine swing ±15–30% between rounds, more than any
// timing mode or loop change costs; an instruction count is the same on every
// run to within how the I/Os fall into batches.
//
//   npm run bench:instr -- [--ios 2000000] [--file path]
//
// Runs the nop engine (4k randread, QD 128, batches of 32) and the uring engine
// on a page-cached file (512 B buffered randread, fixed buffers, registered
// files) under `valgrind --tool=callgrind`, collecting only inside the worker
// thread (__worker_main), for each --lat mode, and prints instructions per I/O
// and what each timing mode adds over --lat off. Needs valgrind (apt-get install
// valgrind). It counts user-space instructions only: the kernel's side of each
// I/O, and how long an instruction takes (a TSC read is one instruction of
// 20–40 ns in a VM), are not in it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg, bin, cachedFile } from './common.js';

const ios = Number(arg('ios', '2000000'));
const file = arg('file', path.join(os.tmpdir(), 'nvmebench-bench.dat'));
const sizeMiB = Number(arg('size-mib', '256'));

interface Count {
  label: string;
  ios: number;
  instructions: number;
}

/** The worker's instructions over ios I/Os of nvmebench with args. */
function count(label: string, args: string[]): Count {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-cg-')), 'callgrind.out');
  const r = spawnSync(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${out}`, '--toggle-collect=__worker_main', process.execPath, bin,
      'randread', '--qd', '128', '--batch-submit', '32', '--batch-complete', '32', '--cpus', '0',
      '--ios', String(ios), '--runtime', '600', '--format', 'json', '--quiet', ...args],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`${label}: valgrind failed: ${r.stderr.split('\n').slice(-5).join('\n')}`);
  const done = JSON.parse(r.stdout).records[0].ios as number;
  // callgrind's summary line: "summary: N" (events: Ir).
  const summary = /^summary:\s+(\d+)/m.exec(fs.readFileSync(out, 'utf8'));
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  if (!summary) throw new Error(`${label}: no callgrind summary`);
  return { label, ios: done, instructions: Number(summary[1]) };
}

function main(): void {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.error('valgrind is not installed: apt-get install valgrind');
    process.exit(2);
  }
  cachedFile(file, sizeMiB);
  const fileArgs = ['--engine', 'uring', '--bs', '512', '--fixedbufs', '--regfiles', '--buffered', file];
  const sections: Array<{ name: string; args: string[] }> = [
    { name: 'nop', args: ['--engine', 'nop'] },
    { name: 'uring 512 B page-cached file', args: fileArgs },
  ];
  const modes: Array<{ label: string; args: string[] }> = [
    { label: '--lat off', args: ['--lat', 'off'] },
    { label: '--lat all --clock tsc', args: ['--lat', 'all', '--clock', 'tsc'] },
    { label: '--lat all --clock monotonic', args: ['--lat', 'all', '--clock', 'monotonic'] },
    { label: '--lat sample:64 --clock tsc', args: ['--lat', 'sample:64', '--clock', 'tsc'] },
  ];
  console.log(`user-space instructions per I/O of the worker thread (callgrind), ${ios} I/Os, QD128, batches 32/32`);
  for (const section of sections) {
    const counts = modes.map((m) => count(`${section.name} ${m.label}`, [...section.args, ...m.args]));
    const off = counts[0].instructions / counts[0].ios;
    for (const c of counts) {
      const per = c.instructions / c.ios;
      const extra = c === counts[0] ? '' : `  (${per - off >= 0 ? '+' : ''}${(per - off).toFixed(1)}, ${(((per - off) / off) * 100).toFixed(1)}% of --lat off)`;
      console.log(`${c.label.padEnd(57)} ${per.toFixed(1)} instructions/IO${extra}`);
    }
  }
}

main();
