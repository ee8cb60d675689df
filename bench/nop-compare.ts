// What timing costs, and what nvmebench costs per I/O with no device under it.
// Two sections, each alternating its runs so the noise of a shared machine
// hits all alike, one worker pinned to one CPU, QD 128, batches of 32:
//   nop:  nvmebench's nop engine (IORING_OP_NOP through its real loop, 4k
//         randread) against fio's null engine (completes I/Os in userspace,
//         no system call) and, when given, t/io_uring -N1;
//   file: 512 B buffered randread of a page-cached file through the uring
//         engine (fixed buffers, registered files), and t/io_uring on it.
// In each, nvmebench runs with --lat all and sample:64 under each clock (tsc,
// monotonic) and with --lat off.
//
//   npm run bench:nop -- [--rounds 3] [--runtime 3] [--cpu 1] [--section nop|file|both] [--t-io-uring PATH]
//
// Prints IOPS and IOPS per core of CPU time for each run (t/io_uring's CPU from
// /usr/bin/time), then the median and range of each, the ratios to the peers,
// and what timing costs as % of the IOPS per core of --lat off: of the medians,
// and as the median of each round's own figure (a round's runs follow each
// other, so a machine that changes speed between rounds moves a round's runs
// together; its own ratio keeps that out). On a shared machine the worker gets
// only part of its CPU: compare per core.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { realSys } from '../src/system/sysfs.js';
import { tscUnusable } from '../src/system/tsc.js';
import { arg, benchCpu, bin, cachedFile, median, nvmebenchFileArgs, runTIoUring, T_IO_URING_FILE_ARGS, tIoUringPath } from './common.js';

const rounds = Number(arg('rounds', '3'));
const runtime = Number(arg('runtime', '3'));
const section = arg('section', 'both');
const cpu = benchCpu();
const tIoUring = tIoUringPath();
const file = arg('file', path.join(os.tmpdir(), 'nvmebench-bench.dat'));

const TIMED = ['all', 'sample:64'] as const;
const noTsc = tscUnusable(realSys);
const CLOCKS = noTsc ? (['monotonic'] as const) : (['tsc', 'monotonic'] as const);

/** IOPS, and IOPS per core of CPU time (NaN where the tool's CPU time is not known). */
interface Sample {
  iops: number;
  perCore: number;
}

interface Variant {
  name: string;
  run: () => Sample;
}

const sample = (iops: number, cpuPct: number): Sample => ({ iops, perCore: iops / (cpuPct / 100) });

function nvmebench(args: string[], extra: string[]): Sample {
  const r = spawnSync(process.execPath, [bin, ...args, ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nvmebench ${[...args, ...extra].join(' ')} failed: ${r.stderr}`);
  const rec = JSON.parse(r.stdout).records[0];
  return sample(rec.iops, rec.cpuUserPct + rec.cpuSysPct);
}

function runFioNull(): Sample {
  // fio --enghelp=null: the null engine takes no options of its own.
  const r = spawnSync(
    'fio',
    [
      '--name=null', '--ioengine=null', '--iodepth=128', '--iodepth_batch_submit=32', '--iodepth_batch_complete_min=32',
      '--rw=randread', '--bs=4k', '--size=1g', '--time_based', `--runtime=${runtime}`, `--cpus_allowed=${cpu}`, '--output-format=json',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  const job = JSON.parse(r.stdout).jobs[0];
  return sample(job.read.iops, job.usr_cpu + job.sys_cpu);
}

function peer(args: string[]): Sample {
  const { iops, cpuPct } = runTIoUring(tIoUring!, args, runtime, cpu);
  return sample(iops, cpuPct);
}

/** nvmebench with each --lat and clock, and --lat off, on the given arguments. */
function nvmebenchVariants(label: string, args: string[]): Variant[] {
  const timed = TIMED.flatMap((lat) => CLOCKS.map((clock) => ({ name: `${label} --lat ${lat} --clock ${clock}`, run: () => nvmebench(args, ['--lat', lat, '--clock', clock]) })));
  return [...timed, { name: `${label} --lat off`, run: () => nvmebench(args, ['--lat', 'off']) }];
}

function sectionVariants(which: 'nop' | 'file'): { title: string; label: string; variants: Variant[]; peers: string[] } {
  if (which === 'nop') {
    const args = ['randread', '--engine', 'nop', '--qd', '128', '--batch-submit', '32', '--batch-complete', '32', '--cpus', String(cpu), '--runtime', String(runtime), '--format', 'json', '--quiet'];
    const variants = nvmebenchVariants('nop', args);
    variants.push({ name: 'fio null', run: runFioNull });
    // t/io_uring wants a file even for NOPs; it opens it and never reads it.
    if (tIoUring) variants.push({ name: 't/io_uring -N1', run: () => peer(['-N1', '-d128', '-c32', '-s32', file]) });
    return { title: '4k randread on nop', label: 'nop', variants, peers: ['fio null', 't/io_uring -N1'] };
  }
  const variants = nvmebenchVariants('uring', nvmebenchFileArgs(cpu, runtime, file));
  if (tIoUring) variants.push({ name: 't/io_uring', run: () => peer([...T_IO_URING_FILE_ARGS, file]) });
  return { title: '512 B buffered randread of a page-cached file, fixed buffers, registered files', label: 'uring', variants, peers: ['t/io_uring'] };
}

const fmt = (iops: number) => `${(iops / 1e6).toFixed(2)}M`;

function runSection(which: 'nop' | 'file'): void {
  const { title, label, variants, peers } = sectionVariants(which);
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  const width = Math.max(...variants.map((v) => v.name.length));
  console.log(`\n== ${title}: QD128, batch 32/32, 1 worker on CPU ${cpu}, ${runtime}s, ${rounds} rounds`);
  for (let i = 0; i < rounds; i++) {
    // Rotate the order, so no run always gets the warmer machine.
    const order = variants.map((_, k) => variants[(k + i) % variants.length]);
    for (const v of order) {
      const s = v.run();
      samples.get(v.name)!.push(s);
      console.log(`round ${i + 1} ${v.name.padEnd(width)} IOPS=${fmt(s.iops)} per core=${fmt(s.perCore)}`);
    }
  }
  const of = (name: string, key: keyof Sample) => samples.get(name)!.map((s) => s[key]).filter((x) => !Number.isNaN(x));
  const med = (name: string, key: keyof Sample = 'perCore') => median(of(name, key));
  const range = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
  for (const v of variants) {
    const core = of(v.name, 'perCore');
    const perCore = core.length ? `, ${fmt(median(core))} per core (${range(core)})` : '';
    console.log(`median ${v.name.padEnd(width)} ${fmt(med(v.name, 'iops'))} IOPS (${range(of(v.name, 'iops'))})${perCore}`);
  }
  // Each round's own a/b per core, then their median and range: the rounds' runs are neighbours in time.
  const paired = (a: string, b: string, f: (x: number) => number = (x) => x, digits = 2) => {
    const rs = samples.get(a)!.map((s, i) => s.perCore / samples.get(b)![i].perCore).filter((x) => !Number.isNaN(x)).map(f);
    return rs.length ? `${median(rs).toFixed(digits)} (${Math.min(...rs).toFixed(digits)}–${Math.max(...rs).toFixed(digits)})` : 'n/a';
  };
  // On a shared machine the worker gets only part of its CPU: per core is the figure to compare.
  const off = `${label} --lat off`;
  for (const p of peers.filter((x) => samples.has(x))) {
    const ratio = (name: string) => `${(med(name) / med(p)).toFixed(2)}x per core (${(med(name, 'iops') / med(p, 'iops')).toFixed(2)}x IOPS)`;
    const all = CLOCKS.map((clock) => `--lat all --clock ${clock} ${ratio(`${label} --lat all --clock ${clock}`)}`).join(', ');
    console.log(`${label}/${p}: ${all}, --lat off ${ratio(off)}`);
    const pairs = CLOCKS.map((clock) => `--lat all --clock ${clock} ${paired(`${label} --lat all --clock ${clock}`, p)}x`).join(', ');
    console.log(`${label}/${p}, median of the rounds' ratios per core: ${pairs}, --lat off ${paired(off, p)}x`);
  }
  for (const lat of TIMED) {
    for (const clock of CLOCKS) {
      const name = `${label} --lat ${lat} --clock ${clock}`;
      const cost = (key: keyof Sample) => (((med(off, key) - med(name, key)) / med(off, key)) * 100).toFixed(1);
      const roundCost = paired(name, off, (r) => (1 - r) * 100, 1);
      console.log(`cost of --lat ${lat} --clock ${clock}: ${cost('perCore')}% of ${off} IOPS per core (${cost('iops')}% of its IOPS); median of the rounds' own: ${roundCost}%`);
    }
  }
}

function main(): void {
  if (spawnSync('fio', ['--version']).status !== 0) {
    console.error('fio is not installed: apt-get install fio');
    process.exit(2);
  }
  if (!['nop', 'file', 'both'].includes(section)) {
    console.error(`--section ${section} is not nop, file or both`);
    process.exit(2);
  }
  if (noTsc) console.log(`no TSC clock here (${noTsc}): CLOCK_MONOTONIC only`);
  if (!tIoUring) console.log('no t/io_uring given (--t-io-uring PATH or NVMEBENCH_T_IO_URING): fio is the only peer');
  cachedFile(file, Number(arg('size-mib', '256')));
  if (section !== 'file') runSection('nop');
  if (section !== 'nop') runSection('file');
}

main();
