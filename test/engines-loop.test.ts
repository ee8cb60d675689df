// Real block-device I/O through a loop device (needs root, as CI runs):
// every block engine, reads and writes with --verify, and the write safety.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import { BIN, csvRows, runCli } from './cli.js';
import { digestHead, isRoot, sh } from './loop.js';
import { assertLayersAddUp, runMeasured } from './explain-check.js';
import type { RunRecord } from '../src/model.js';

let dir = '';
let loop = '';

before(() => {
  if (!isRoot) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-loop-'));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(0));
  fs.truncateSync(img, 64 * 1024 * 1024);
  loop = sh('losetup', ['--find', '--show', '--direct-io=on', img]);
});

after(() => {
  if (loop) {
    try {
      sh('umount', [path.join(dir, 'mnt')]);
    } catch {
      // not mounted
    }
    sh('losetup', ['-d', loop]);
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// Never skipped: without root every test here fails, this one saying why.
test('the loop tests run as root', () => {
  assert.ok(isRoot, 'run npm test as root: these tests attach a loop device');
});

test('every block engine writes and reads a loop device with --verify', () => {
  const write = runCli(['randwrite', '--engine', 'psync,aio,uring', '--qd', '16', '--size', '16m', '--ios', '2000', '--verify', '--format', 'csv', '--quiet', loop]);
  assert.equal(write.code, 0, write.stderr);
  const rows = csvRows(write.stdout);
  assert.deepEqual(rows.map((r) => r.engine), ['psync', 'aio', 'uring']);
  for (const r of rows) {
    assert.equal(r.target_kind, 'block');
    assert.equal(Number(r.errors), 0);
    assert.ok(Number(r.verified_blocks) > 1000, `${r.engine}: verified ${r.verified_blocks}`);
  }
  // Fill a region sequentially, then every engine reads it back and checks every block.
  const seq = runCli(['write', '--engine', 'uring', '--bs', '128k', '--qd', '8', '--size', '8m', '--ios', '64', '--verify', '--quiet', loop]);
  assert.equal(seq.code, 0, seq.stderr);
  const read = runCli(['read', '--engine', 'psync,aio,uring', '--bs', '128k', '--qd', '8', '--size', '8m', '--ios', '64', '--verify', '--format', 'csv', '--quiet', loop]);
  assert.equal(read.code, 0, read.stderr);
  for (const r of csvRows(read.stdout)) assert.equal(Number(r.verified_blocks), 64, r.engine);
});

test('--explain on a loop device: every block engine\'s layers add up, and the block layer and the loop driver show', () => {
  const run = runMeasured(['randread', '--engine', 'psync,aio,uring', '--qd', '8', '--size', '16m', '--runtime', '1', '--explain', '--format', 'json', '--quiet', loop]);
  assert.equal(run.code, 0, run.stderr);
  const records = (JSON.parse(run.stdout) as { records: RunRecord[] }).records;
  assert.deepEqual(records.map((r) => r.engine), ['psync', 'aio', 'uring']);
  for (const r of records) {
    assertLayersAddUp(r, run.stolen);
    assert.ok(r.explain!.layers.block.nsPerIo > 0, `${r.engine}: block layer`);
    assert.ok(r.explain!.symbols.some((s) => s.symbol.startsWith('loop_') || s.symbol.startsWith('lo_')), `${r.engine}: the loop driver is sampled`);
  }
});

test('uring-poll on a device without poll queues names the fix and exits 2, as on a file', () => {
  const r = runCli(['randread', '--engine', 'uring-poll', '--runtime', '1', loop]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /needs poll queues.*nvme\.poll_queues=N/);
});

test('--engine all lists what cannot run, and why', () => {
  const r = runCli(['randread', '--engine', 'all', '--qd', '4', '--runtime', '0.3', '--format', 'csv', '--quiet', loop]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(csvRows(r.stdout).map((row) => row.engine), ['psync', 'aio', 'uring']);
  assert.match(r.stderr, /skipping uring-poll: .*poll queues/);
  assert.match(r.stderr, /skipping pt: pt needs an NVMe namespace/);
});

test('writes to a mounted device are refused and its data is unchanged', () => {
  // No lazy init: a background thread would otherwise write to the device under the test.
  sh('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', loop]);
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt, { recursive: true });
  sh('mount', [loop, mnt]);
  fs.writeFileSync(path.join(mnt, 'precious.txt'), 'keep me');
  sh('sync', []);
  const before = digestHead(loop);
  for (const workload of ['randwrite', 'write', 'randrw']) {
    const r = runCli([workload, '--engine', 'uring', '--runtime', '1', loop]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`refusing to write to ${loop}: mounted: ${loop} on ${mnt}`));
    assert.match(r.stderr, /--force-destroy/);
  }
  // Reads are fine on a mounted device.
  const read = runCli(['randread', '--engine', 'uring', '--runtime', '0.3', '--quiet', loop]);
  assert.equal(read.code, 0, read.stderr);
  assert.equal(digestHead(loop), before);
  sh('umount', [mnt]);
  assert.equal(fs.readFileSync(path.join(dir, 'disk.img')).includes(Buffer.from('keep me')), true);
});

test('an unmounted device with a filesystem signature is refused until --force-destroy', () => {
  const before = digestHead(loop);
  const r = runCli(['randwrite', '--engine', 'uring', '--runtime', '1', loop]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /carries a signature: ext4 \(filesystem, offset 0x438\)/);
  assert.equal(digestHead(loop), before);
  const forced = runCli(['write', '--engine', 'uring', '--bs', '64k', '--size', '1m', '--ios', '16', '--force-destroy', '--quiet', loop]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(digestHead(loop), before);
});

/** Whether process pid has dev open (its claim or a worker's). */
function holds(pid: number, dev: string): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === dev;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

test('two write runs at once on one device: the second, a run or a plan, is refused while the first holds it; a read runs beside it', async () => {
  const first = spawn(process.execPath, [BIN, 'randwrite', '--engine', 'psync', '--runtime', '8', '--size', '8m', '--quiet', loop], { stdio: ['ignore', 'ignore', 'pipe'] });
  let firstErr = '';
  first.stderr!.on('data', (b: Buffer) => (firstErr += b.toString()));
  const exited = new Promise<number | null>((resolve) => first.on('exit', (code) => resolve(code)));
  let checked = false;
  try {
    // Its claim (an O_EXCL open) comes before its workers: once it has the node open, the device is its.
    const deadline = Date.now() + 20_000;
    while (!holds(first.pid!, loop) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(holds(first.pid!, loop), `the first run never opened ${loop}: ${firstErr}`);

    const second = runCli(['randwrite', '--engine', 'uring', '--runtime', '1', '--size', '8m', '--quiet', loop]);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /refusing to write to \/dev\/loop\d+: \/dev\/loop\d+ is held exclusively by another process \(EBUSY\).*another nvmebench write run/);
    assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);

    const planFile = path.join(dir, 'two.json');
    fs.writeFileSync(planFile, JSON.stringify({ planVersion: 1, runs: [{ name: 'writer', workload: 'randwrite', targets: loop, options: { engine: 'aio', runtime: '1', size: '8m' } }] }));
    const plan = runCli(['plan', 'run', planFile, '--quiet']);
    assert.equal(plan.code, 2, plan.stderr);
    assert.match(plan.stderr, /held exclusively by another process \(EBUSY\)/);

    const read = runCli(['randread', '--engine', 'uring', '--ios', '500', '--size', '8m', '--quiet', loop]);
    assert.equal(read.code, 0, `a read beside the writer: ${read.stderr}`);
    checked = true;
  } finally {
    // A check failed: do not leave the writer running for the rest of its 8 s.
    if (!checked && first.exitCode === null) first.kill('SIGINT');
  }
  assert.equal(await exited, 0, `the first run: ${firstErr}`);
  // Its claim went with it: the next write runs.
  const after = runCli(['randwrite', '--engine', 'uring', '--ios', '500', '--size', '8m', '--quiet', loop]);
  assert.equal(after.code, 0, after.stderr);
});
