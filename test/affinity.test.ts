// --cpus against the CPUs this process may use (taskset, cgroup cpusets):
// TypeScript refuses a CPU outside them, and native reports a pin that fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BIN } from './cli.js';
import { BenchError } from '../src/errors.js';
import { native } from '../src/native/addon.js';
import { buildPlan } from '../src/plan/options.js';
import { prepareRun } from '../src/run/prepare.js';
import { buildJob } from '../src/run/scheduler.js';
import { readAllowedCpus } from '../src/system/sysfs.js';

const status = (list: string) => ({ read: (file: string) => (file === '/proc/self/status' ? `Name:\tnode\nCpus_allowed:\t3\nCpus_allowed_list:\t${list}\nMems_allowed:\t1\n` : undefined) });
const twoCpus = os.cpus().length >= 2 && spawnSync('taskset', ['--version']).status === 0;

let dir = '';
let file = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-affinity-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(1024 * 1024, 0xa5));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the allowed CPUs come from Cpus_allowed_list', () => {
  assert.deepEqual(readAllowedCpus(status('0-2,5')), { cpus: [0, 1, 2, 5], list: '0-2,5' });
  assert.deepEqual(readAllowedCpus({ read: () => undefined }).cpus, []);
});

test('--cpus naming a CPU outside the allowed set is a usage error naming the CPU and the set', () => {
  assert.throws(
    () => buildPlan('randread', 'x', { cpus: '0' }, status('1-3')),
    (err: unknown) => err instanceof BenchError && err.exitCode === 2 && /--cpus names CPU 0, but this process may run only on CPUs 1-3/.test(err.message),
  );
  assert.deepEqual(buildPlan('randread', 'x', { cpus: '0' }, status('0-3')).cpus, [0]);
  // Unknown (no /proc): nothing to check against.
  assert.deepEqual(buildPlan('randread', 'x', { cpus: '0' }, { read: () => undefined }).cpus, [0]);
});

test('taskset -c 0 nvmebench randread --cpus 1 exits 2 before running', () => {
  // Every machine of this project has 2 cores and util-linux: fail, never skip, where that is not so.
  assert.ok(twoCpus, 'needs 2 CPUs and taskset (util-linux)');
  const r = spawnSync('taskset', ['-c', '0', process.execPath, BIN, 'randread', '--cpus', '1', '--buffered', '--runtime', '0.2', '--quiet', file], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim(), /^nvmebench: --cpus names CPU 1, but this process may run only on CPUs 0\b/);
  assert.equal(r.stdout, '');
});

test('native: a worker that cannot be pinned fails the run naming the CPU, not run unpinned', async () => {
  // TypeScript refuses a CPU past the last one; the addon must still not ignore the failed pin.
  const prep = await prepareRun(buildPlan('randread', file, { engine: 'psync', buffered: true, runtime: '0.2', cpus: '0' }));
  const missing = os.cpus().length;
  const engine = native();
  const result = await engine.wait(engine.start({ ...buildJob(prep, prep.cells[0]), cpus: [missing] }));
  assert.equal(result.stopped, 'error');
  assert.match(result.errorMessage, new RegExp(`cannot pin worker thread 0 to CPU ${missing}: Invalid argument`));
  assert.equal(result.workers.reduce((sum, w) => sum + w.ios, 0), 0);
});
