// Messages that contradicted each other or the run: doctor and the run share one
// engine check; one fix for an empty file; one line per error; exit 2 for an
// engine that cannot run, on a file as on a device.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../cli.js';
import { tmpDir } from '../fixtures.js';

const dir = tmpDir();
const image = join(dir, 'loop.img');
writeFileSync(image, '');
execFileSync('truncate', ['-s', '64M', image]);
const loop = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
after(() => {
  execFileSync('losetup', ['-d', loop]);
  rmSync(dir, { recursive: true, force: true });
});

function errorLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line:\n${stderr}`);
  return lines[0].replace(/^nvmebench: /, '');
}

test('doctor --engine fails on a loop device for the reason, and with the fix, that the run refuses it', () => {
  for (const engine of ['uring-poll', 'pt']) {
    const run = runCli(['randread', '--engine', engine, '--runtime', '1', '--quiet', loop]);
    assert.equal(run.code, 2, `${engine}: an engine that cannot run is bad input: ${run.stderr}`);
    const refused = errorLine(run.stderr);
    const doc = runCli(['doctor', '--json', '--engine', engine, loop]);
    assert.equal(doc.code, 1, `${engine}: doctor fails: ${doc.stdout}`);
    const report = JSON.parse(doc.stdout) as { counts: { fail: number }; checks: Array<{ status: string; message: string; fix?: string }> };
    const failed = report.checks.filter((c) => c.status === 'fail');
    assert.equal(failed.length, 1, JSON.stringify(failed));
    assert.equal(`${failed[0].message}: ${failed[0].fix}`, refused);
  }
  const ok = runCli(['doctor', '--engine', 'psync,aio,uring', loop]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /engines that can run on it: psync, aio, uring\n/);
});

test('an engine that cannot run is exit 2 on a file as on a block device', () => {
  const file = join(dir, 'f.img');
  execFileSync('truncate', ['-s', '1M', file]);
  for (const target of [file, loop]) {
    const r = runCli(['randread', '--engine', 'uring-poll', '--runtime', '1', '--quiet', target]);
    assert.equal(r.code, 2, `${target}: ${r.stderr}`);
  }
});

test('an empty or missing file: one fix, and following it works', () => {
  const empty = join(dir, 'empty.img');
  writeFileSync(empty, '');
  const read = runCli(['randread', '--runtime', '1', '--quiet', empty]);
  assert.equal(read.code, 2);
  assert.match(errorLine(read.stderr), /the file is empty: lay it out first with a write \(nvmebench write --size 1g .*empty\.img\) or as a sparse file \(truncate -s 1G .*empty\.img\)$/);
  const sized = runCli(['randread', '--runtime', '1', '--size', '1m', '--quiet', empty]);
  assert.equal(sized.code, 2);
  assert.doesNotMatch(sized.stderr, /give --size/, 'never send the user back to --size');
  assert.match(errorLine(sized.stderr), /lay it out first with a write \(nvmebench write --size 1m /);
  const missing = join(dir, 'missing.img');
  const absent = runCli(['randread', '--runtime', '1', '--size', '1m', '--quiet', missing]);
  assert.equal(absent.code, 2);
  assert.match(errorLine(absent.stderr), /missing\.img does not exist, and a read has nothing to read: lay it out first/);
  assert.ok(!existsSync(missing), 'a read never creates the file');
  const write = runCli(['randwrite', '--runtime', '1', '--quiet', empty]);
  assert.equal(write.code, 2);
  assert.match(errorLine(write.stderr), /give --size, e\.g\. --size 1g, and the write lays it out$/);
  // Following the advice: the write lays the file out, then the read runs.
  const layout = runCli(['write', '--size', '1m', '--ios', '16', '--quiet', '--format', 'csv', empty]);
  assert.equal(layout.code, 0, layout.stderr);
  assert.equal(statSync(empty).size, 1 << 20);
  const again = runCli(['randread', '--ios', '16', '--quiet', '--format', 'csv', empty]);
  assert.equal(again.code, 0, again.stderr);
});

test('--runtime 0 with --ios does not suggest --ios', () => {
  const file = join(dir, 'r.img');
  execFileSync('truncate', ['-s', '1M', file]);
  const r = runCli(['randread', '--runtime', '0', '--ios', '50', file]);
  assert.equal(r.code, 2);
  const line = errorLine(r.stderr);
  assert.doesNotMatch(line, /use --ios/);
  assert.match(line, /--runtime 0 would stop before --ios 50 is reached: leave out --runtime/);
});

test('an invalid profile is a one-line error, whatever its values hold', () => {
  const file = join(dir, 'bad-profile.json');
  writeFileSync(file, JSON.stringify({ description: 'x', workload: 'randread', options: { qd: 'abc\nxyz' } }));
  const r = runCli(['profile', file, loop]);
  assert.equal(r.code, 2);
  assert.match(errorLine(r.stderr), /--qd 'abc\\nxyz' is not a whole number/);
});

test('--cpus listing more CPUs than a run can pin is one line, exit 2, before anything runs', () => {
  const file = join(dir, 'cpus.dat');
  writeFileSync(file, Buffer.alloc(1 << 20));
  const r = runCli(['randread', '--ios', '10', '--cpus', Array(257).fill('0').join(','), file]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--cpus lists 257 CPUs; a run pins at most 256/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
