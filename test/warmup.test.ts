// --warmup: unmeasured rounds of every cell before the measured repeats.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './cli.js';
import { BenchError } from '../src/errors.js';
import type { LiveLine } from '../src/output/live.js';
import { buildPlan } from '../src/plan/options.js';
import { prepareRun } from '../src/run/prepare.js';
import { runAll } from '../src/run/scheduler.js';

let dir = '';
let file = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-warmup-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(1024 * 1024, 0xa5));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('--warmup takes 0 to 1000 and defaults to 0', () => {
  assert.equal(buildPlan('randread', 'x', {}).warmup, 0);
  assert.equal(buildPlan('randread', 'x', { warmup: '3' }).warmup, 3);
  for (const bad of ['-1', '1001', 'x']) {
    assert.throws(() => buildPlan('randread', 'x', { warmup: bad }), (err: unknown) => err instanceof BenchError && err.exitCode === 2 && /--warmup/.test(err.message), bad);
  }
});

test('warmup rounds run every cell first, interleaved like repeats, and are not recorded', async () => {
  const prep = await prepareRun(buildPlan('randread', file, { engine: 'psync,uring', buffered: true, ios: '200', warmup: '2', repeat: '2' }));
  const labels: string[] = [];
  const live = { begin: (label: string) => labels.push(label), tick: () => {}, end: () => {} } as unknown as LiveLine;
  const recorded: number[] = [];
  const records = await runAll(prep, { onRecord: (r) => recorded.push(r.repeat), live, interrupted: () => false, setCurrent: () => {} });
  assert.deepEqual(labels, [
    'psync bs=4096 qd=1 warmup #1',
    'uring bs=4096 qd=32 warmup #1',
    'psync bs=4096 qd=1 warmup #2',
    'uring bs=4096 qd=32 warmup #2',
    'psync bs=4096 qd=1 #1',
    'uring bs=4096 qd=32 #1',
    'psync bs=4096 qd=1 #2',
    'uring bs=4096 qd=32 #2',
  ]);
  assert.deepEqual(records.map((r) => `${r.engine} ${r.repeat}`), ['psync 0', 'uring 0', 'psync 1', 'uring 1']);
  assert.deepEqual(recorded, [0, 0, 1, 1]);
});

test('the CLI exports only the measured repeats', () => {
  const r = runCli(['randread', '--engine', 'psync', '--buffered', '--ios', '100', '--warmup', '2', '--repeat', '2', '--format', 'json', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).records.map((rec: { repeat: number }) => rec.repeat), [0, 1]);
});
