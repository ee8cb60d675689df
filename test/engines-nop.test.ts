// The nop engine (IORING_OP_NOP through the worker loop, no target) and --lat.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { csvRows, runCli } from './cli.js';
import type { RunRecord } from '../src/model.js';

let dir = '';
let file = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-nop-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(1024 * 1024, 0xa5));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function jsonRecord(args: string[]): RunRecord {
  const run = runCli([...args, '--format', 'json', '--quiet']);
  assert.equal(run.code, 0, run.stderr);
  const parsed = JSON.parse(run.stdout) as RunRecord[] | { records: RunRecord[] };
  const records = Array.isArray(parsed) ? parsed : parsed.records;
  assert.equal(records.length, 1);
  return records[0];
}

const histogramCount = (r: RunRecord) => r.histogram.reduce((sum, [, n]) => sum + n, 0);

test('nop runs without a target: exact --ios, IOPS, a histogram of every I/O', () => {
  const r = jsonRecord(['randread', '--engine', 'nop', '--qd', '128', '--ios', '50000']);
  assert.equal(r.engine, 'nop');
  assert.equal(r.status, 'ok');
  assert.equal(r.ios, 50000);
  assert.ok(r.iops > 0);
  assert.equal(histogramCount(r), 50000);
  assert.ok(r.latency.p50Us > 0);
  assert.equal(r.target.kind, 'none');
  assert.equal(r.target.path, '');
  assert.equal(r.options.latency, 'all');
});

test('nop with a target ignores it: nothing is opened or written', () => {
  const before = fs.readFileSync(file);
  const r = jsonRecord(['randwrite', '--engine', 'nop', '--qd', '32', '--ios', '20000', file]);
  assert.equal(r.ios, 20000);
  assert.equal(r.target.kind, 'none');
  assert.ok(fs.readFileSync(file).equals(before));
});

test('nop by time, in CSV: target_kind none, the schema unchanged', () => {
  const run = runCli(['randread', '--engine', 'nop', '--runtime', '300ms', '--format', 'csv', '--quiet']);
  assert.equal(run.code, 0, run.stderr);
  const [row] = csvRows(run.stdout);
  assert.equal(row.engine, 'nop');
  assert.equal(row.target_kind, 'none');
  assert.ok(Number(row.iops) > 0);
  assert.ok(!('latency' in row) && !('lat' in row));
});

test('--engine all leaves nop out', () => {
  const run = runCli(['randread', '--engine', 'all', '--ios', '2000', '--size', '1m', '--format', 'csv', '--quiet', file]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(!csvRows(run.stdout).some((r) => r.engine === 'nop'));
});

test('nop with another engine runs both on the target', () => {
  const run = runCli(['randread', '--engine', 'uring,nop', '--ios', '2000', '--size', '1m', '--format', 'csv', '--quiet', file]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(csvRows(run.stdout).map((r) => [r.engine, r.target_kind]), [['uring', 'file'], ['nop', 'none']]);
});

test('refusals: nop beside an engine with no target, --verify with nop (exit 2, one line)', () => {
  for (const args of [
    ['randread', '--engine', 'nop,uring'],
    ['randwrite', '--engine', 'nop', '--verify'],
    ['randread'],
  ]) {
    const run = runCli(args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
  assert.match(runCli(['randread', '--engine', 'nop,uring']).stderr, /only nop runs without a target/);
});

test('--lat off: IOPS and CPU, no latency figures, dashes in the table', () => {
  const r = jsonRecord(['randread', '--engine', 'nop', '--ios', '30000', '--lat', 'off']);
  assert.equal(r.ios, 30000);
  assert.ok(r.iops > 0);
  assert.equal(r.options.latency, 'off');
  assert.equal(histogramCount(r), 0);
  assert.equal(r.latency.p50Us, 0);
  const table = runCli(['randread', '--engine', 'nop', '--ios', '30000', '--lat', 'off', '--quiet', '--format', 'md']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /\| – \| – \| – \| – \| – \|/);
});

test('--lat sample:64 times one I/O in 64', () => {
  const r = jsonRecord(['randread', '--engine', 'nop', '--qd', '64', '--ios', '64000', '--lat', 'sample:64']);
  assert.equal(r.ios, 64000);
  assert.equal(r.options.latency, 'sample:64');
  const count = histogramCount(r);
  assert.ok(Math.abs(count - 1000) <= 2, `histogram holds ${count}`);
});

test('--lat sample:N on a real engine too', () => {
  const r = jsonRecord(['randread', '--engine', 'uring', '--ios', '4000', '--size', '1m', '--lat', 'sample:8', file]);
  assert.equal(r.ios, 4000);
  assert.ok(Math.abs(histogramCount(r) - 500) <= 2);
});

test('bad --lat values exit 2 with one line', () => {
  for (const value of ['sample:0', 'sample:x', 'bogus', 'sample:', '']) {
    const run = runCli(['randread', '--engine', 'nop', '--lat', value]);
    assert.equal(run.code, 2, `--lat '${value}': ${run.stderr}`);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /--lat/);
  }
});

/** This kernel's release as [major, minor]. */
function kernelVersion(): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

const atLeast = (major: number, minor: number) => {
  const [a, b] = kernelVersion();
  return a > major || (a === major && b >= minor);
};

test('the ring flags the kernel took are recorded: single issuer and deferred task work where it has them, none of that with SQPOLL, nothing for psync', () => {
  const nop = jsonRecord(['randread', '--engine', 'nop', '--ios', '20000']);
  const uring = jsonRecord(['randread', '--engine', 'uring', '--ios', '2000', '--buffered', file]);
  const sqpoll = jsonRecord(['randread', '--engine', 'uring', '--sqpoll', '--ios', '2000', '--buffered', file]);
  const psync = jsonRecord(['randread', '--engine', 'psync', '--ios', '2000', file]);
  for (const r of [nop, uring]) {
    assert.ok(Array.isArray(r.ringFlags), `${r.engine}: ringFlags ${JSON.stringify(r.ringFlags)}`);
    // Linux 6.1 has SINGLE_ISSUER and DEFER_TASKRUN, 6.6 NO_SQARRAY; an older kernel falls back to COOP_TASKRUN (5.19) or nothing.
    if (atLeast(6, 1)) assert.ok(r.ringFlags!.includes('SINGLE_ISSUER') && r.ringFlags!.includes('DEFER_TASKRUN'), `${r.engine}: ${r.ringFlags}`);
    else assert.ok(!r.ringFlags!.includes('DEFER_TASKRUN'));
    assert.equal(r.ringFlags!.includes('NO_SQARRAY'), atLeast(6, 6), `${r.engine}: ${r.ringFlags}`);
    assert.ok(!r.ringFlags!.includes('SQPOLL'));
  }
  assert.deepEqual(sqpoll.ringFlags, ['SQPOLL']);
  assert.equal(psync.ringFlags, undefined);
  // The deferred completions still arrive: every I/O of the runs above was counted and timed.
  assert.equal(histogramCount(nop), 20000);
  assert.equal(histogramCount(uring), 2000);
});
