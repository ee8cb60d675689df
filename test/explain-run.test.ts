// --explain on real runs: a file through uring and psync, nop; the layers add
// up to the workers' measured CPU within 10%; JSON, CSV and the table carry
// them; without permission to sample the kernel it refuses before the run.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { RunRecord } from '../src/model.js';
import { BIN, csvRows, runCli } from './cli.js';
import { assertLayersAddUp, runMeasured } from './explain-check.js';

let dir = '';
let file = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-explain-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(32 * 1024 * 1024, 0x5a));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('uring and psync on a file: layers by engine add up to the measured CPU; JSON, table and CSV carry them', () => {
  const json = path.join(dir, 'r.json');
  const run = runMeasured(['randread', '--engine', 'uring,psync', '--qd', '8', '--runtime', '1.5', '--explain', '--json', json, '--quiet', file]);
  assert.equal(run.code, 0, run.stderr);
  const { records } = JSON.parse(fs.readFileSync(json, 'utf8')) as { records: RunRecord[] };
  assert.deepEqual(records.map((r) => r.engine), ['uring', 'psync']);
  for (const r of records) assertLayersAddUp(r, run.stolen);
  const [uring, psync] = records;
  assert.ok(uring.explain!.layers.io_uring.nsPerIo > 0, 'uring spends CPU in io_uring');
  assert.equal(psync.explain!.layers.io_uring.nsPerIo, 0, 'psync never enters io_uring');
  assert.ok(uring.explain!.layers.block.nsPerIo > 0 && psync.explain!.layers.block.nsPerIo > 0, 'O_DIRECT reads go through the block layer');
  assert.ok(psync.explain!.symbols.some((s) => !s.kernel && s.module === 'nvmebench_native.node'), 'user-space samples resolve in the addon');
  assert.ok(psync.explain!.symbols.some((s) => s.kernel && s.symbol !== '[unknown]'), 'kernel samples resolve through kallsyms');
  assert.equal(uring.emptyPollsPerIo, undefined, 'interrupt-driven uring has no polls to count');
  assert.match(run.stdout, /CPU by layer: randread bs=4096/);
  assert.match(run.stdout, /block layer/);
  assert.match(run.stdout, /top 15 symbols, uring/);
  assert.match(run.stdout, /^\s+\d+\.\d\d%\s+nvmebench\s+\[kernel\.vmlinux\]\s+\[k\] \S+/m, 'perf report lines');

  const diff = runCli(['explain', json, '--baseline', 'psync', '--engine', 'uring']);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /^uring (saves|spends) .* than psync; /m);
});

test('--explain --format csv: a ns/IO column per layer, empty_polls_per_io for a polled engine', () => {
  const run = runCli(['randread', '--engine', 'uring', '--qd', '4', '--ios', '20000', '--explain', '--format', 'csv', '--quiet', file]);
  assert.equal(run.code, 0, run.stderr);
  const [row] = csvRows(run.stdout);
  for (const layer of ['app', 'syscall', 'io_uring', 'block', 'nvme', 'other']) assert.ok(`explain_${layer}_ns_per_io` in row, `explain_${layer}_ns_per_io`);
  assert.ok(Number(row.explain_block_ns_per_io) > 0);
  assert.equal(row.empty_polls_per_io, '');
  const plain = runCli(['randread', '--engine', 'uring', '--ios', '2000', '--format', 'csv', '--quiet', file]);
  assert.equal(csvRows(plain.stdout)[0].explain_block_ns_per_io, '', 'no --explain, no figures');
});

test('nop with --explain: user space and io_uring-free, and the layers still add up', () => {
  const run = runMeasured(['randread', '--engine', 'nop', '--runtime', '1', '--explain', '--format', 'json', '--quiet']);
  assert.equal(run.code, 0, run.stderr);
  const [r] = (JSON.parse(run.stdout) as { records: RunRecord[] }).records;
  assertLayersAddUp(r, run.stolen);
  assert.ok(r.explain!.layers.app.pct > 20, `nop is mostly nvmebench itself: ${r.explain!.layers.app.pct}%`);
});

test('without permission to sample the kernel, --explain exits 2 before the run naming the sysctl', (t) => {
  // perf_event_paranoid 2 (Debian's default) is what an ordinary user meets: as root (CI), set it for the test where it is lower.
  const knob = '/proc/sys/kernel/perf_event_paranoid';
  const before = fs.readFileSync(knob, 'utf8').trim();
  const root = process.getuid?.() === 0;
  if (!root && Number(before) <= 1) {
    t.skip(`perf_event_paranoid is ${before}: an unprivileged user may sample here, and only root could raise it`);
    return;
  }
  if (root && Number(before) <= 1) fs.writeFileSync(knob, '2');
  const args = [process.execPath, BIN, 'randread', '--engine', 'nop', '--explain', '--runtime', '1'];
  let r: SpawnSyncReturns<string>;
  try {
    // As root: nobody, no capabilities (setpriv is util-linux's, always there). Otherwise this user already is unprivileged.
    r = root
      ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', ...args], { encoding: 'utf8' })
      : spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  } finally {
    if (root && Number(before) <= 1) fs.writeFileSync(knob, before);
  }
  assert.equal(r.error, undefined, `setpriv: ${r.error?.message}`);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /perf_event_paranoid is \d.*sysctl kernel\.perf_event_paranoid=1, or run nvmebench as root/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(r.stdout, '', 'nothing ran');
});
