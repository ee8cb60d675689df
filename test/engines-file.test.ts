// Every file-capable engine doing real I/O on a real file, with --verify.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { BIN, csvRows, runCli } from './cli.js';

let dir = '';
let file = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-file-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(8 * 1024 * 1024, 0xa5));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

for (const engine of ['psync', 'aio', 'uring']) {
  test(`${engine}: random writes verify on read-back, then random reads verify`, () => {
    const write = runCli(['randwrite', '--engine', engine, '--qd', '8', '--bs', '4k', '--ios', '3000', '--verify', '--format', 'csv', '--quiet', file]);
    assert.equal(write.code, 0, write.stderr);
    const [w] = csvRows(write.stdout);
    assert.equal(w.engine, engine);
    assert.equal(w.status, 'ok');
    assert.equal(Number(w.ios), 3000);
    assert.equal(Number(w.errors), 0);
    // The read-back pass checks every block written.
    assert.ok(Number(w.verified_blocks) > 1000, `verified ${w.verified_blocks}`);

    const read = runCli(['randread', '--engine', engine, '--qd', '8', '--ios', '2000', '--verify', '--size', '8m', '--format', 'csv', '--quiet', file]);
    assert.equal(read.code, 1, 'blocks never written carry no stamp, so a strict read-verify of the whole file fails');
    assert.match(read.stderr, /no nvmebench stamp/);
  });
}

test('sequential write then sequential read of the whole region verifies every block, on every engine', () => {
  const blocks = (4 * 1024 * 1024) / 65536;
  const write = runCli(['write', '--engine', 'uring', '--bs', '64k', '--qd', '4', '--size', '4m', '--ios', String(blocks), '--verify', '--format', 'csv', '--quiet', file]);
  assert.equal(write.code, 0, write.stderr);
  assert.equal(Number(csvRows(write.stdout)[0].verified_blocks), blocks);
  const read = runCli(['read', '--engine', 'psync,aio,uring', '--bs', '64k', '--qd', '4', '--size', '4m', '--ios', String(blocks), '--verify', '--format', 'csv', '--quiet', file]);
  assert.equal(read.code, 0, read.stderr);
  const rows = csvRows(read.stdout);
  assert.deepEqual(rows.map((r) => r.engine), ['psync', 'aio', 'uring']);
  for (const r of rows) {
    assert.equal(r.status, 'ok');
    assert.equal(Number(r.verified_blocks), blocks, `${r.engine} verified ${r.verified_blocks}`);
  }
});

test('verify catches a corrupted sector and names its offset', () => {
  const write = runCli(['write', '--engine', 'aio', '--bs', '4k', '--size', '1m', '--ios', '256', '--verify', '--quiet', '--format', 'csv', file]);
  assert.equal(write.code, 0, write.stderr);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from('garbage!'), 0, 8, 40960 + 512 + 100); // inside the payload of a sector
  fs.closeSync(fd);
  const read = runCli(['read', '--engine', 'psync', '--bs', '4k', '--size', '1m', '--ios', '256', '--verify', '--quiet', file]);
  assert.equal(read.code, 1);
  assert.match(read.stderr, /verify failed at byte offset 41472 \(sector 81\): payload differs/);
});

test('a read with --verify-seed rejects data stamped by another run', () => {
  const write = runCli(['write', '--engine', 'uring', '--bs', '4k', '--size', '256k', '--ios', '64', '--verify', '--verify-seed', '77', '--quiet', file]);
  assert.equal(write.code, 0, write.stderr);
  const same = runCli(['read', '--engine', 'uring', '--bs', '4k', '--size', '256k', '--ios', '64', '--verify', '--verify-seed', '77', '--quiet', file]);
  assert.equal(same.code, 0, same.stderr);
  const other = runCli(['read', '--engine', 'uring', '--bs', '4k', '--size', '256k', '--ios', '64', '--verify', '--verify-seed', '78', '--quiet', file]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /another run's seed/);
});

test('mixed random read/write with several workers verifies what it reads', () => {
  const r = runCli(['randrw', '--engine', 'uring', '--rwmix-read', '70', '--threads', '2', '--qd', '16', '--size', '2m', '--runtime', '1', '--verify', '--format', 'csv', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  const [row] = csvRows(r.stdout);
  assert.equal(row.read_pct, '70');
  assert.equal(row.threads, '2');
  assert.ok(Number(row.ios) > 0);
  assert.equal(Number(row.errors), 0);
});

test('buffered I/O, fixed buffers off, registered files and sqpoll all run', () => {
  for (const extra of [['--buffered'], ['--no-fixedbufs', '--regfiles'], ['--sqpoll']]) {
    const r = runCli(['randread', '--engine', 'uring', '--bs', '512', '--qd', '32', '--runtime', '0.5', '--format', 'csv', '--quiet', ...extra, file]);
    assert.equal(r.code, 0, `${extra.join(' ')}: ${r.stderr}`);
    const [row] = csvRows(r.stdout);
    assert.ok(Number(row.iops) > 0, extra.join(' '));
    if (extra.includes('--buffered')) assert.equal(row.direct, 'false');
    if (extra.includes('--regfiles')) assert.equal(row.regfiles, 'true');
    if (extra.includes('--sqpoll')) assert.equal(row.sqpoll, 'true');
  }
});

test('sqpoll at qd 32 on page-cached I/O: completions posted before the SQ head moves do not look like a full SQ', () => {
  // Buffered randrw completes most I/Os inline in the SQPOLL thread; before the SQ
  // was sized at twice the depth this aborted with "submission queue full".
  for (const extra of [['--buffered'], []]) {
    const r = runCli(['randrw', '--engine', 'uring', '--sqpoll', '--qd', '32', '--size', '8m', '--ios', '20000', '--repeat', '5', '--format', 'csv', '--quiet', ...extra, file]);
    assert.equal(r.code, 0, `${extra.join(' ')}: ${r.stderr}`);
    const rows = csvRows(r.stdout);
    assert.equal(rows.length, 5);
    for (const row of rows) assert.equal(row.status, 'ok', `${extra.join(' ')}: ${row.error ?? ''}`);
  }
});

test('errors during --ramp are not in the measured error count', async () => {
  // Reads past the end of a file come back short: cut the file during the 3 s ramp and restore it
  // before measuring starts, so every error happens in the ramp.
  const cut = path.join(dir, 'cut.dat');
  fs.writeFileSync(cut, Buffer.alloc(4 * 1024 * 1024, 0x5a));
  const child = spawn(process.execPath, [BIN, 'randread', '--engine', 'psync', '--ramp', '3', '--runtime', '0.5', '--size', '4m', '--max-errors', '1000000000', '--format', 'json', '--quiet', cut]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  await sleep(1200);
  fs.truncateSync(cut, 1024 * 1024);
  await sleep(500);
  fs.truncateSync(cut, 4 * 1024 * 1024);
  assert.equal(await exited, 0, stderr);
  const record = JSON.parse(stdout).records[0];
  assert.ok(record.ios > 0);
  assert.equal(record.errors, 0, 'the short reads of the ramp are not measured');
});

test('a write never grows or truncates a file past --size', () => {
  const small = path.join(dir, 'small.dat');
  fs.writeFileSync(small, Buffer.alloc(1024 * 1024));
  const r = runCli(['randwrite', '--engine', 'psync', '--size', '512k', '--ios', '100', '--quiet', small]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.statSync(small).size, 1024 * 1024);
});

test('a write with --size lays out a new file', () => {
  const fresh = path.join(dir, 'fresh.dat');
  const r = runCli(['randwrite', '--engine', 'uring', '--size', '2m', '--ios', '100', '--verify', '--quiet', fresh]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.statSync(fresh).size, 2 * 1024 * 1024);
});

test('Ctrl-C stops the workers and still reports', async () => {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('./cli.js');
  const child = spawn(process.execPath, [BIN, 'randread', '--engine', 'uring', '--runtime', '60', '--format', 'csv', '--quiet', file]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  // Node can take over a second to start on a loaded machine: leave room.
  await new Promise((r) => setTimeout(r, 4000));
  child.kill('SIGINT');
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  assert.equal(code, 1, err);
  assert.match(err, /interrupted/);
  const [row] = csvRows(out);
  assert.equal(row.status, 'interrupted');
  assert.ok(Number(row.runtime_s) < 30, `stopped after ${row.runtime_s}s`);
  assert.ok(Number(row.ios) > 0);
});
