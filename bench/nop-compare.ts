// What a benchmark costs per I/O with no device under it: nvmebench's nop
// engine (IORING_OP_NOP through its real loop) with --lat all, sample:64 and
// off, against fio's null engine (which completes I/Os in userspace without a
// system call), alternating so the noise of a shared machine hits all alike.
// QD 128, batches of 32, one worker on one CPU, 4k randread.
//
//   npm run bench:nop -- [--rounds 3] [--runtime 3] [--cpu 1]
//
// Prints IOPS for each run, then the medians, nop/fio-null, and what timing
// every I/O (or one in 64) costs, as % of the IOPS of nop with --lat off.
import { spawnSync } from 'node:child_process';
import { arg, benchCpu, bin, median } from './common.js';

const rounds = Number(arg('rounds', '3'));
const runtime = Number(arg('runtime', '3'));
const cpu = benchCpu();

const LAT_MODES = ['all', 'sample:64', 'off'] as const;
type Tool = `nop --lat ${(typeof LAT_MODES)[number]}` | 'fio null';


function runNop(lat: (typeof LAT_MODES)[number]): number {
  const r = spawnSync(
    process.execPath,
    [bin, 'randread', '--engine', 'nop', '--qd', '128', '--batch-submit', '32', '--batch-complete', '32', '--cpus', String(cpu), '--lat', lat, '--runtime', String(runtime), '--format', 'json', '--quiet'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`nvmebench --engine nop --lat ${lat} failed: ${r.stderr}`);
  return JSON.parse(r.stdout).records[0].iops;
}

function runFioNull(): number {
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
  return JSON.parse(r.stdout).jobs[0].read.iops;
}

function main(): void {
  if (spawnSync('fio', ['--version']).status !== 0) {
    console.error('fio is not installed: apt-get install fio');
    process.exit(2);
  }
  const runs: Array<[Tool, () => number]> = [
    ...LAT_MODES.map((lat): [Tool, () => number] => [`nop --lat ${lat}`, () => runNop(lat)]),
    ['fio null', runFioNull],
  ];
  const samples = new Map<Tool, number[]>(runs.map(([tool]) => [tool, []]));
  console.log(`4k randread, QD128, batch 32/32, 1 worker on CPU ${cpu}, ${runtime}s, ${rounds} rounds`);
  for (let i = 0; i < rounds; i++) {
    // Rotate the order, so no run always gets the warmer machine.
    const order = runs.map((_, k) => runs[(k + i) % runs.length]);
    for (const [tool, run] of order) {
      const iops = run();
      samples.get(tool)!.push(iops);
      console.log(`round ${i + 1} ${tool.padEnd(19)} IOPS=${(iops / 1e6).toFixed(2)}M`);
    }
  }
  const med = (tool: Tool) => median(samples.get(tool)!);
  for (const [tool] of runs) console.log(`median ${tool.padEnd(19)} ${(med(tool) / 1e6).toFixed(2)}M IOPS`);
  const off = med('nop --lat off');
  console.log(`nop/fio-null (--lat all): ${(med('nop --lat all') / med('fio null')).toFixed(2)}x; (--lat off): ${(off / med('fio null')).toFixed(2)}x`);
  for (const lat of ['all', 'sample:64'] as const) {
    console.log(`cost of --lat ${lat}: ${(((off - med(`nop --lat ${lat}`)) / off) * 100).toFixed(1)}% of nop --lat off IOPS`);
  }
}

main();
