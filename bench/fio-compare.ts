// nvmebench against fio on the same page-cached file, alternating, so the
// noise of a shared machine hits both alike. The workload is the one t/io_uring
// is known for: 512-byte buffered randread, QD 128, submit and complete
// batches of 32, fixed buffers, registered files, one worker on one CPU.
//
//   npm run bench -- [--rounds 3] [--runtime 5] [--cpu 1] [--file path]
//
// Prints IOPS and IOPS per core for each round and the ratio of the medians.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg, benchCpu, bin, median } from './common.js';


const rounds = Number(arg('rounds', '3'));
const runtime = Number(arg('runtime', '5'));
const cpu = benchCpu();
const sizeMiB = Number(arg('size-mib', '256'));
const file = arg('file', path.join(os.tmpdir(), 'nvmebench-bench.dat'));

interface Sample {
  tool: string;
  iops: number;
  cpuPct: number;
  iopsPerCore: number;
}


function prepareFile(): void {
  if (!fs.existsSync(file) || fs.statSync(file).size !== sizeMiB * 1024 * 1024) {
    const chunk = Buffer.alloc(1024 * 1024, 0x5a);
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < sizeMiB; i++) fs.writeSync(fd, chunk);
    fs.closeSync(fd);
  }
  // Pull it into the page cache: both tools then read from memory.
  fs.readFileSync(file);
}

function runNvmebench(): Sample {
  const r = spawnSync(
    process.execPath,
    [bin, 'randread', '--engine', 'uring', '--bs', '512', '--qd', '128', '--batch-submit', '32', '--batch-complete', '32', '--fixedbufs', '--regfiles', '--buffered', '--cpus', String(cpu), '--runtime', String(runtime), '--format', 'json', '--quiet', file],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`nvmebench failed: ${r.stderr}`);
  const rec = JSON.parse(r.stdout).records[0];
  const cpuPct = rec.cpuUserPct + rec.cpuSysPct;
  return { tool: 'nvmebench', iops: rec.iops, cpuPct, iopsPerCore: rec.iops / (cpuPct / 100) };
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
  return { tool: 'fio', iops: job.read.iops, cpuPct, iopsPerCore: job.read.iops / (cpuPct / 100) };
}

function main(): void {
  if (spawnSync('fio', ['--version']).status !== 0) {
    console.error('fio is not installed: apt-get install fio');
    process.exit(2);
  }
  prepareFile();
  const samples: Sample[] = [];
  console.log(`512B buffered randread, QD128, batch 32/32, fixedbufs, regfiles, 1 worker on CPU ${cpu}, ${runtime}s, ${rounds} rounds, ${file}`);
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so neither always gets the warmer machine.
    const order = i % 2 === 0 ? [runNvmebench, runFio] : [runFio, runNvmebench];
    for (const run of order) {
      const s = run();
      samples.push(s);
      console.log(`round ${i + 1} ${s.tool.padEnd(9)} IOPS=${(s.iops / 1e6).toFixed(3)}M  CPU=${s.cpuPct.toFixed(0)}%  IOPS/core=${(s.iopsPerCore / 1e6).toFixed(3)}M`);
    }
  }
  const med = (tool: string, key: 'iops' | 'iopsPerCore') => median(samples.filter((s) => s.tool === tool).map((s) => s[key]));
  const ratioIops = med('nvmebench', 'iops') / med('fio', 'iops');
  const ratioCore = med('nvmebench', 'iopsPerCore') / med('fio', 'iopsPerCore');
  console.log(`median IOPS/core: nvmebench ${(med('nvmebench', 'iopsPerCore') / 1e6).toFixed(3)}M, fio ${(med('fio', 'iopsPerCore') / 1e6).toFixed(3)}M`);
  console.log(`nvmebench/fio: IOPS ${ratioIops.toFixed(2)}x, IOPS per core ${ratioCore.toFixed(2)}x`);
}

main();
