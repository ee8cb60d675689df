// What protection information costs in software.
//   crc:  the CRC-16 T10-DIF of native/core/pi.c (slice-by-8) per 4 KiB on
//         this host, from native/test/pi_test.c --bench (built -O2), beside
//         the bit-at-a-time definition.
//   lab:  one `nvmebench lab` boot with a 4096+8 PI type 1 namespace
//         (separate metadata) and a 4096+8 one without PI: 4k random writes
//         and reads on pt with the PI made and checked by the worker, with
//         PRACT (the controller makes it), and with no PI at all, alternating,
//         each reporting the workers' CPU ns per I/O.
//
//   npm run bench:pi -- [--section crc|lab|both] [--rounds 3] [--runtime 3]
//
// Reads that check PI in software need --verify, which also checks the data
// stamps: every variant runs under --verify, so the difference is the PI alone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeSteps, parseResults, type Step } from '../src/lab/steps.js';
import { arg, bin, median, root } from './common.js';

const section = arg('section', 'both');
const rounds = Number(arg('rounds', '3'));
const runtime = arg('runtime', '3');

function crcSection(): void {
  const exe = path.join(os.tmpdir(), 'nvmebench-pi-bench');
  const cc = spawnSync('cc', ['-std=gnu11', '-D_GNU_SOURCE', '-O2', '-I', path.join(root, 'native', 'core'), path.join(root, 'native', 'test', 'pi_test.c'), '-o', exe], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
  const lines: string[] = [];
  for (let i = 0; i < rounds; i++) lines.push(spawnSync(exe, ['--bench'], { encoding: 'utf8' }).stdout);
  fs.rmSync(exe, { force: true });
  const fast = lines.map((l) => Number(/slice-by-8: (\d+) ns/.exec(l)?.[1]));
  const slow = lines.map((l) => Number(/bit at a time: (\d+) ns/.exec(l)?.[1]));
  console.log(`crc16 t10-dif per 4 KiB on this host (${os.cpus()[0]?.model ?? '?'}): slice-by-8 median ${median(fast)} ns (${fast.join(', ')}), bit at a time ${median(slow)} ns`);
}

function labSection(): void {
  const common = ['--engine', 'pt', '--verify', '--qd', '16', '--runtime', runtime, '--size', '32m', '--quiet', '--format', 'json'];
  // Every run verifies (stamps written blocks, checks reads): software PI checks only under --verify, so all
  // variants pay the same stamping and the differences are the PI alone.
  const variants: Array<[string, string, string[]]> = [
    ['write, PI in software', 'randwrite', ['/dev/ng0n1']],
    ['write, --pi-act', 'randwrite', ['--pi-act', '/dev/ng0n1']],
    ['write, no PI format', 'randwrite', ['/dev/ng0n2']],
    ['read, PI in software', 'randread', ['/dev/ng0n1']],
    ['read, --pi-act', 'randread', ['--pi-act', '/dev/ng0n1']],
    ['read, no PI format', 'randread', ['/dev/ng0n2']],
  ];
  // Lay the regions out first, stamped, so the reads find data and PI that were written.
  const steps: Step[] = [1, 2].map((n) => ({ name: `layout ${n}`, args: ['write', '--engine', 'pt', '--qd', '16', '--size', '32m', '--verify', '--quiet', '--format', 'json', `/dev/ng0n${n}`] }));
  for (let r = 0; r < rounds; r++) for (const [name, workload, args] of variants) steps.push({ name: `${name} #${r}`, args: [workload, ...common, ...args] });
  const exec = `${process.execPath} ${path.join(root, 'dist', 'src', 'lab', 'driver.js')} ${encodeSteps(steps)}`;
  const lab = spawnSync(process.execPath, [bin, 'lab', '--quiet', '--lba-size', '4096', '--namespaces', '2', '--ns-size', '64m', '--ns-props', '1:ms=8,mset=0,pi=1', '--ns-props', '2:ms=8,mset=0,pi=0', '--timeout', '900', '--exec', exec], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const results = parseResults(lab.stdout);
  for (const [name] of variants) {
    const ns: number[] = [];
    const iops: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const res = results.get(`${name} #${r}`);
      if (!res || res.code !== 0) throw new Error(`${name} #${r} failed: ${res?.stderr ?? lab.stderr.slice(-2000)}`);
      const rec = JSON.parse(res.stdout).records[0];
      ns.push(rec.cpuNsPerIo);
      iops.push(rec.iops);
    }
    console.log(`${name.padEnd(26)} CPU ${Math.round(median(ns))} ns/IO (${ns.map(Math.round).join(', ')}), ${Math.round(median(iops))} IOPS`);
  }
}

if (section === 'crc' || section === 'both') crcSection();
if (section === 'lab' || section === 'both') labSection();
