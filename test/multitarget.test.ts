// Several targets in one run, on files: every cell on all of them at once, a
// row per target and an aggregate row; the refusals; --cpus auto and explicit
// lists over the workers of every target; the aggregate's arithmetic.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { csvRows, runCli } from './cli.js';
import { aggregateTargets } from '../src/analysis/targets.js';
import { histogramPercentile } from '../src/analysis/histogram.js';
import { assignCpus, cpusByCore } from '../src/run/cpus.js';
import type { Target } from '../src/target/target.js';
import type { RunRecord } from '../src/model.js';

let dir = '';
const files: string[] = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-multitarget-'));
  for (const name of ['a.dat', 'b.dat', 'c.dat']) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, Buffer.alloc(4 * 1024 * 1024, 0x5a));
    files.push(file);
  }
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const num = (row: Record<string, string>, k: string) => Number(row[k]);

test('three files at once, sequential writes over every block then random verified reads: a row per target and an aggregate that is their sum', () => {
  const csv = path.join(dir, 'w.csv');
  const write = runCli(['write', '--engine', 'psync,uring', '--qd', '4', '--threads', '2', '--ios', '3000', '--verify', '--verify-seed', '77', '--buffered', '--quiet', '--csv', csv, ...files]);
  assert.equal(write.code, 0, write.stderr);
  const read = runCli(['randread', '--engine', 'uring', '--qd', '4', '--threads', '2', '--ios', '2000', '--verify', '--verify-seed', '77', '--buffered', '--quiet', '--format', 'csv', ...files]);
  assert.equal(read.code, 0, read.stderr);
  for (const rows of [csvRows(fs.readFileSync(csv, 'utf8')), csvRows(read.stdout)]) {
    const cells = new Map<string, Array<Record<string, string>>>();
    for (const r of rows) cells.set(`${r.engine}/${r.qd}`, [...(cells.get(`${r.engine}/${r.qd}`) ?? []), r]);
    for (const [key, cell] of cells) {
      assert.equal(cell.length, 4, `${key}: three targets and the aggregate`);
      const perTarget = cell.filter((r) => r.aggregate === 'false');
      const agg = cell.find((r) => r.aggregate === 'true')!;
      assert.deepEqual(perTarget.map((r) => r.target_index), ['0', '1', '2']);
      assert.deepEqual(perTarget.map((r) => r.target), files);
      assert.equal(agg.target_index, '');
      assert.equal(new Set(cell.map((r) => r.run_id)).size, 1);
      for (const r of perTarget) {
        assert.equal(r.status, 'ok');
        assert.equal(r.threads, '2', '--threads is workers per target');
        // --ios is each target's budget, like --threads.
        assert.ok(num(r, 'ios') >= (r.workload === 'write' ? 3000 : 2000));
      }
      for (const k of ['ios', 'iops', 'bw_bytes_s', 'cpu_usr_pct', 'cpu_sys_pct', 'verified_blocks', 'errors']) {
        const total = perTarget.reduce((s, r) => s + num(r, k), 0);
        assert.ok(Math.abs(num(agg, k) - total) <= 1e-6 * Math.max(1, total), `${key} ${k}: aggregate ${agg[k]} is the sum ${total}`);
      }
      if (rows[0].workload === 'randread') assert.ok(num(agg, 'verified_blocks') >= 6000, 'every target read back and checked');
      assert.ok(num(agg, 'lat_max_us') === Math.max(...perTarget.map((r) => num(r, 'lat_max_us'))));
      assert.ok(num(agg, 'lat_p50_us') >= Math.min(...perTarget.map((r) => num(r, 'lat_p50_us'))) && num(agg, 'lat_p50_us') <= Math.max(...perTarget.map((r) => num(r, 'lat_p50_us'))));
    }
  }
});

test('time-based: the targets start and stop together, and the table and matrix show them', () => {
  const run = runCli(['randread', '--engine', 'psync,uring', '--qd', '2', '--runtime', '0.5', '--buffered', '--json', path.join(dir, 't.json'), files[0], files[1]], { env: { COLUMNS: '200' } });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /target 0/);
  assert.match(run.stdout, /all targets/);
  assert.match(run.stdout, /KIOPS by engine/);
  const records = JSON.parse(fs.readFileSync(path.join(dir, 't.json'), 'utf8')).records as RunRecord[];
  for (const engine of ['psync', 'uring']) {
    const rows = records.filter((r) => r.engine === engine && !r.aggregate);
    assert.equal(rows.length, 2);
    // One start instant and one deadline: the measured intervals agree to well under the run.
    assert.ok(Math.abs(rows[0].runtimeS - rows[1].runtimeS) < 0.1, `${engine}: ${rows[0].runtimeS} vs ${rows[1].runtimeS}`);
    const agg = records.find((r) => r.engine === engine && r.aggregate)!;
    assert.equal(agg.histogram.reduce((s, [, c]) => s + c, 0), rows.reduce((s, r) => s + r.histogram.reduce((t, [, c]) => t + c, 0), 0), 'merged histogram');
  }
});

test('bad input: the same target twice, a file beside a device node, a missing target: one line naming it, exit 2', () => {
  const twice = runCli(['randread', '--engine', 'psync', '--ios', '10', files[0], path.join(dir, '.', 'a.dat')]);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /a\.dat is given twice: name each target once/);
  const link = path.join(dir, 'link.dat');
  fs.symlinkSync(files[0], link);
  const same = runCli(['randread', '--engine', 'psync', '--ios', '10', files[0], link]);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /link\.dat is the same target as .*a\.dat/);
  const mixed = runCli(['randread', '--engine', 'psync', '--ios', '10', files[0], '/dev/null']);
  assert.equal(mixed.code, 2, mixed.stderr);
  assert.match(mixed.stderr, /\/dev\/null/);
  const missing = runCli(['randread', '--engine', 'psync', '--size', '1m', '--ios', '10', files[0], path.join(dir, 'nope.dat')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.dat does not exist/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  // An export over any target's file is refused before anything runs.
  const over = runCli(['randread', '--engine', 'psync', '--ios', '10', '--csv', files[1], files[0], files[1]]);
  assert.equal(over.code, 2);
  assert.match(over.stderr, /b\.dat/);
  assert.equal(fs.statSync(files[1]).size, 4 * 1024 * 1024, 'the target is untouched');
});

const sys = (files: Record<string, string>) => ({ read: (f: string) => files[f] });
const topology = (cpu: number, core: number, pkg = 0) => ({
  [`/sys/devices/system/cpu/cpu${cpu}/topology/core_id`]: String(core),
  [`/sys/devices/system/cpu/cpu${cpu}/topology/physical_package_id`]: String(pkg),
});
// Two nodes, each two cores with two threads: node 0 has CPUs 0,1 (cores) and 4,5 (their siblings).
const machine = sys({
  '/proc/self/status': 'Cpus_allowed_list:\t0-7\n',
  '/sys/devices/system/node/node0/cpulist': '0-1,4-5',
  '/sys/devices/system/node/node1/cpulist': '2-3,6-7',
  '/sys/bus/pci/devices/0000:01:00.0/numa_node': '0',
  '/sys/bus/pci/devices/0000:02:00.0/numa_node': '1',
  '/sys/bus/pci/devices/0000:03:00.0/numa_node': '0',
  ...topology(0, 0), ...topology(4, 0), ...topology(1, 1), ...topology(5, 1),
  ...topology(2, 0, 1), ...topology(6, 0, 1), ...topology(3, 1, 1), ...topology(7, 1, 1),
});
const pciTarget = (address: string): Target => ({ given: address, path: address, kind: 'pci', sizeBytes: 0, logicalBlockSize: 512, model: '', serial: '', firmware: '', emulated: false, pci: { address } });

test('--cpus auto: the device\'s node, cores before hyperthreads, targets on one node take turns; explicit lists go round-robin', () => {
  assert.deepEqual(cpusByCore(0, machine), [0, 1, 4, 5]);
  const targets = ['0000:01:00.0', '0000:02:00.0', '0000:03:00.0'].map(pciTarget);
  assert.deepEqual(assignCpus(targets, 2, [], true, machine), [
    { cpus: [0, 1], node: 0 },
    { cpus: [2, 3], node: 1 },
    { cpus: [4, 5], node: 0 },
  ]);
  // A file has no device: every allowed CPU, by core.
  const file = { ...pciTarget('x'), kind: 'file' as const, pci: undefined };
  assert.deepEqual(assignCpus([file], 3, [], true, machine), [{ cpus: [0, 1, 2], node: -1 }]);
  assert.deepEqual(assignCpus(targets.slice(0, 2), 2, [8, 9, 10], false, machine).map((c) => c.cpus), [[8, 9], [10, 8]]);
});

test('the aggregate sums IOPS and CPU, and takes percentiles from the merged histograms, not their mean', () => {
  const base = (iops: number, hist: Array<[number, number]>, p50: number): RunRecord =>
    ({
      ios: iops, iops, bandwidthBps: iops * 4096, runtimeS: 1, status: 'ok', errorMessage: '', errors: 0, verifiedBlocks: 0,
      cpuUserPct: 10, cpuSysPct: 20, cpuNsPerIo: 100, sysCpuNsPerIo: NaN, irqsPerIo: NaN, ctxswPerIo: 0, iosPerSubmitCall: 1, iosPerReapCall: 1,
      latency: { minUs: hist[0][0] / 1000, meanUs: p50, p50Us: p50, p90Us: p50, p99Us: p50, p999Us: p50, maxUs: hist[hist.length - 1][0] / 1000 },
      histogram: hist, options: { cpus: [0] }, target: { path: 'x', kind: 'file', sizeBytes: 1, logicalBlockSize: 512, model: 'm', serial: 's', firmware: 'f', emulated: false },
    }) as unknown as RunRecord;
  const fast = base(9000, [[1000, 9000]], 1);
  const slow = base(1000, [[100_000, 1000]], 100);
  const agg = aggregateTargets([fast, slow]);
  assert.equal(agg.iops, 10000);
  assert.equal(agg.cpuSysPct, 40);
  assert.equal(agg.aggregate, true);
  assert.ok(agg.latency.p50Us < 2, 'nine in ten I/Os took 1 µs: the median is there, not at the mean of medians (50.5)');
  assert.equal(agg.latency.p99Us, histogramPercentile(agg.histogram, 99, agg.latency.minUs, agg.latency.maxUs));
  assert.ok(agg.latency.p99Us > 90);
  assert.equal(agg.latency.meanUs, (9000 * 1 + 1000 * 100) / 10000);
});
