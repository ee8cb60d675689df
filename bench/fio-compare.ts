// nvmebench against fio and, when given, t/io_uring on the same page-cached
// file, alternating, so the noise of a shared machine hits all alike. The
// workload is the one t/io_uring is known for: 512-byte buffered randread, QD
// 128, submit and complete batches of 32, fixed buffers, registered files, one
// worker on one CPU. nvmebench runs twice: every I/O timed, and --lat off (as
// t/io_uring runs by default).
//
//   npm run bench -- [--rounds 3] [--runtime 5] [--cpu 1] [--file path] [--t-io-uring PATH]
//
// Prints IOPS and IOPS per core (t/io_uring's CPU from /usr/bin/time) for each
// round, the median and range of each, the ratios of the medians and the
// median of each round's own ratio (the tools of one round ran back to back,
// so a slow patch of the machine hits them together). On a shared machine the
// worker gets only part of its CPU: compare per core. User ns per I/O is each
// tool's own share (its loop, its clock reads, its accounting); the kernel's
// read path is the rest and the same work for all of them, so that column
// tells the tools apart where the kernel's swing hides it in IOPS.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { arg, benchCpu, bin, cachedFile, median, nvmebenchFileArgs, runTIoUring, T_IO_URING_FILE_ARGS, tIoUringPath } from './common.js';


const rounds = Number(arg('rounds', '3'));
const runtime = Number(arg('runtime', '5'));
const cpu = benchCpu();
const sizeMiB = Number(arg('size-mib', '256'));
const file = arg('file', path.join(os.tmpdir(), 'nvmebench-bench.dat'));
const tIoUring = tIoUringPath();

interface Sample {
  tool: string;
  round: number;
  iops: number;
  cpuPct: number;
  iopsPerCore: number;
  userNsPerIo: number;
}

let round = 0;

/** ns of user CPU time per I/O, from user CPU % of the run and its IOPS. */
function userNs(userPct: number, iops: number): number {
  return (userPct / 100) * (1e9 / iops);
}


function runNvmebench(lat: 'all' | 'off'): Sample {
  const r = spawnSync(process.execPath, [bin, ...nvmebenchFileArgs(cpu, runtime, file), '--lat', lat], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nvmebench failed: ${r.stderr}`);
  const rec = JSON.parse(r.stdout).records[0];
  const cpuPct = rec.cpuUserPct + rec.cpuSysPct;
  return {
    tool: lat === 'all' ? 'nvmebench' : 'nvmebench --lat off', round, iops: rec.iops, cpuPct,
    iopsPerCore: rec.iops / (cpuPct / 100), userNsPerIo: userNs(rec.cpuUserPct, rec.iops),
  };
}

/** t/io_uring's CPU is its process's, from /usr/bin/time (NaN without it). */
function runPeer(binary: string): Sample {
  const { iops, cpuPct, userPct } = runTIoUring(binary, [...T_IO_URING_FILE_ARGS, file], runtime, cpu);
  return { tool: 't/io_uring', round, iops, cpuPct, iopsPerCore: iops / (cpuPct / 100), userNsPerIo: userNs(userPct, iops) };
}

function runFio(): Sample {
  const r = spawnSync(
    'fio',
    [
      '--name=bench', `--filename=${file}`, '--rw=randread', '--bs=512', '--ioengine=io_uring', '--iodepth=128',
      '--iodepth_batch_submit=32', '--iodepth_batch_complete_min=32', '--iodepth_batch_complete_max=32',
      '--fixedbufs=1', '--registerfiles=1', '--direct=0', '--invalidate=0', `--cpus_allowed=${cpu}`,
      '--time_based=1', `--runtime=${runtime}`, `--size=${sizeMiB}m`, '--output-format=json',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  const job = JSON.parse(r.stdout).jobs[0];
  const cpuPct = job.usr_cpu + job.sys_cpu;
  return { tool: 'fio', round, iops: job.read.iops, cpuPct, iopsPerCore: job.read.iops / (cpuPct / 100), userNsPerIo: userNs(job.usr_cpu, job.read.iops) };
}

function main(): void {
  if (spawnSync('fio', ['--version']).status !== 0) {
    console.error('fio is not installed: apt-get install fio');
    process.exit(2);
  }
  cachedFile(file, sizeMiB);
  const runs: Array<() => Sample> = [() => runNvmebench('all'), runFio, () => runNvmebench('off')];
  if (tIoUring) runs.push(() => runPeer(tIoUring));
  else console.log('no t/io_uring given (--t-io-uring PATH or NVMEBENCH_T_IO_URING): fio is the yardstick');
  const samples: Sample[] = [];
  console.log(`512B buffered randread, QD128, batch 32/32, fixedbufs, regfiles, 1 worker on CPU ${cpu}, ${runtime}s, ${rounds} rounds, ${file}`);
  for (let i = 0; i < rounds; i++) {
    round = i;
    // Rotate the order, so no tool always gets the warmer machine.
    for (const run of runs.map((_, k) => runs[(k + i) % runs.length])) {
      const s = run();
      samples.push(s);
      const core = Number.isNaN(s.cpuPct) ? '' : `  CPU=${s.cpuPct.toFixed(0)}%  IOPS/core=${(s.iopsPerCore / 1e6).toFixed(3)}M  user=${s.userNsPerIo.toFixed(1)} ns/IO`;
      console.log(`round ${i + 1} ${s.tool.padEnd(19)} IOPS=${(s.iops / 1e6).toFixed(3)}M${core}`);
    }
  }
  const of = (tool: string, key: 'iops' | 'iopsPerCore') => samples.filter((s) => s.tool === tool).map((s) => s[key]);
  const med = (tool: string, key: 'iops' | 'iopsPerCore' = 'iops') => median(of(tool, key));
  const tools = [...new Set(samples.map((s) => s.tool))];
  for (const tool of tools) {
    const xs = of(tool, 'iops');
    console.log(`median ${tool.padEnd(19)} ${(med(tool) / 1e6).toFixed(3)}M IOPS (range ${(Math.min(...xs) / 1e6).toFixed(3)}–${(Math.max(...xs) / 1e6).toFixed(3)}M)`);
  }
  for (const tool of tools) {
    const xs = of(tool, 'iopsPerCore').filter((x) => !Number.isNaN(x));
    if (xs.length) console.log(`median ${tool.padEnd(19)} ${(median(xs) / 1e6).toFixed(3)}M IOPS per core (range ${(Math.min(...xs) / 1e6).toFixed(3)}–${(Math.max(...xs) / 1e6).toFixed(3)}M)`);
  }
  for (const tool of tools) {
    const xs = samples.filter((s) => s.tool === tool).map((s) => s.userNsPerIo).filter((x) => !Number.isNaN(x));
    if (xs.length) console.log(`median ${tool.padEnd(19)} ${median(xs).toFixed(1)} ns of user CPU per I/O (range ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`);
  }
  // On a shared machine the worker gets only part of its CPU: per core is the figure to compare, IOPS the one to doubt.
  for (const peer of tools.filter((t) => !t.startsWith('nvmebench'))) {
    const ratio = (tool: string, key: 'iops' | 'iopsPerCore') => (med(tool, key) / med(peer, key)).toFixed(2);
    console.log(`nvmebench/${peer}: every I/O timed ${ratio('nvmebench', 'iopsPerCore')}x per core (${ratio('nvmebench', 'iops')}x IOPS), --lat off ${ratio('nvmebench --lat off', 'iopsPerCore')}x per core (${ratio('nvmebench --lat off', 'iops')}x IOPS)`);
    // Each round's own ratio, then their median: the pairs ran back to back.
    const paired = (tool: string) => {
      const rs = [];
      for (let i = 0; i < rounds; i++) {
        const a = samples.find((s) => s.tool === tool && s.round === i);
        const b = samples.find((s) => s.tool === peer && s.round === i);
        if (a && b && !Number.isNaN(a.iopsPerCore) && !Number.isNaN(b.iopsPerCore)) rs.push(a.iopsPerCore / b.iopsPerCore);
      }
      return rs.length ? `${median(rs).toFixed(2)}x (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})` : 'n/a';
    };
    console.log(`nvmebench/${peer}, median of the rounds' ratios per core: every I/O timed ${paired('nvmebench')}, --lat off ${paired('nvmebench --lat off')}`);
  }
}

main();
