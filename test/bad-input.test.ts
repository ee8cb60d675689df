// Bad input: exit code 2, one line that names the problem and the fix, no
// stack trace, and nothing written.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './cli.js';

let dir = '';
let file = '';

function digest(p: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-bad-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, crypto.randomBytes(1024 * 1024));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function assertBadInput(args: string[], pattern: RegExp): void {
  const before = digest(file);
  const r = runCli(args);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0], /^nvmebench: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(digest(file), before, 'nothing written');
}

test('a missing target', () => {
  assertBadInput(['randwrite', '--runtime', '1', path.join(dir, 'nope.dat')], /does not exist: check the path/);
});

test('no target at all', () => {
  assertBadInput(['randread'], /no target given: name a file or device/);
});

test('a directory', () => {
  assertBadInput(['randwrite', '--runtime', '1', dir], /is a directory: give a file/);
});

test('a block size that is not a multiple of 512', () => {
  assertBadInput(['randwrite', '--bs', '1000', file], /block size 1000 is not a multiple of 512: .*use 512, 4k/);
});

test('queue depth 0', () => {
  assertBadInput(['randwrite', '--qd', '0', file], /--qd 0 is out of range: give an integer from 1/);
});

test('an unknown engine', () => {
  assertBadInput(['randwrite', '--engine', 'uring,spdk', file], /unknown engine 'spdk': choose from psync, aio, uring/);
});

test('a polled engine on a regular file', () => {
  assertBadInput(['randwrite', '--engine', 'uring-poll', file], /uring-poll needs O_DIRECT on a block device with poll queues/);
});

test('a passthrough engine on a regular file', () => {
  assertBadInput(['randwrite', '--engine', 'pt', file], /pt needs an NVMe namespace.*point it at \/dev\/ngXnY/);
});

test('a region past the end of the file', () => {
  assertBadInput(['randread', '--offset', '512k', '--size', '1m', file], /goes past the end/);
});

test('an unknown option and a bad --format come from the parser with exit 2', () => {
  const r = runCli(['randread', '--bogus', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--bogus'/);
  const f = runCli(['randread', '--format', 'xml', file]);
  assert.equal(f.code, 2);
  assert.match(f.stderr, /xml/);
});

test('--verify-seed without --verify', () => {
  assertBadInput(['randread', '--verify-seed', '5', file], /--verify-seed needs --verify: add --verify/);
});

test('a rate one worker cannot schedule (issue 16)', () => {
  assertBadInput(['randread', '--rate-iops', '20m', file], /--rate-iops 20m asks 2\.00e\+7 I\/Os per second of one worker, more than the 10M .*: give each worker 10000000 or less/);
  assertBadInput(['randread', '--rate-iops', 'total:30m', '--threads', '2', file], /more than the 10M a worker can schedule .*: share it over more workers \(--threads 3 or more\)/);
});

test('a latency target without a unit (issue 16)', () => {
  assertBadInput(['randread', '--latency-target', 'p99:100', file], /--latency-target p99:100 has no unit: say ns, us, ms or s: --latency-target p99:100us/);
});

test('a latency target with --repeat or --warmup: a search runs each probe once, so neither would happen', () => {
  assertBadInput(['randread', '--latency-target', 'p99:1ms', '--repeat', '3', file], /--latency-target runs each probe once, so --repeat does not apply: drop --repeat/);
  assertBadInput(['randread', '--latency-target', 'p99:1ms', '--warmup', '1', file], /--latency-target runs each probe once, with no warmup runs: drop --warmup/);
});

test('--pi-* that cannot apply: an unknown PI field, a tag over 16 bits, a target without PI', () => {
  assertBadInput(['randread', '--runtime', '1', '--pi-check', 'guard,crc', file], /--pi-check guard,crc: 'crc' is not a PI field: list guard, apptag and reftag/);
  assertBadInput(['randread', '--runtime', '1', '--pi-apptag', '0x10000', file], /--pi-apptag 0x10000 is not a 16-bit tag: give 0 to 0xffff/);
  assertBadInput(['randwrite', '--runtime', '1', '--pi-act', file], /--pi-act needs an NVMe namespace formatted with protection information, and .* is not one: drop --pi-act/);
});
