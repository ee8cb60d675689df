// nvmebench compat: the cell rules on hand-made step results, the rendering,
// bad input, and the real matrix on Linux 6.1 and 6.12 in the lab, where no
// cell may fail (a failure is a bug in our version table: nvmebench ran
// something the kernel could not do) and the cells that differ between the
// kernels are the ones the version table says differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildMatrix, cellFor, failedCells, kernelColumn, type CompatMatrix } from '../src/compat/matrix.js';
import { renderCompatMarkdown, renderCompatTable } from '../src/compat/render.js';
import { COMPAT_ENGINES, COMPAT_WORKLOADS, compatSteps } from '../src/compat/steps.js';
import type { StepResult } from '../src/lab/steps.js';
import { runCli } from './cli.js';

const step = (over: Partial<StepResult>): StepResult => ({ name: 's', code: 0, stdout: '', stderr: '', ms: 1, ...over });
const json = (records: Array<{ engine: string; status: string; errors?: number; errorMessage?: string }>) =>
  JSON.stringify({ records: records.map((r) => ({ errors: 0, errorMessage: '', ...r })) });

test('compat cells: a clean record is ok, a failed one or one with errors failed, a skip line refused', () => {
  const s = step({
    code: 1,
    stdout: json([{ engine: 'pt', status: 'ok' }, { engine: 'ioctl', status: 'failed', errorMessage: 'EINVAL from the kernel' }, { engine: 'aio', status: 'ok', errors: 3 }]),
    stderr: 'nvmebench: skipping pt-poll: Linux 6.1 polls by bio: use pt\nnvmebench: 1 of 3 runs failed\n',
  });
  assert.deepEqual(cellFor('pt', s), { state: 'ok', detail: '' });
  assert.deepEqual(cellFor('ioctl', s), { state: 'failed', detail: 'EINVAL from the kernel' });
  assert.deepEqual(cellFor('aio', s), { state: 'failed', detail: '3 I/O errors' });
  assert.deepEqual(cellFor('pt-poll', s), { state: 'refused', detail: 'Linux 6.1 polls by bio: use pt' });
  // Not in the records nor skipped: something went wrong, never a silent ✓.
  assert.equal(cellFor('vfio', s).state, 'failed');
  // A run refused as a whole (exit 2) refuses each engine with its message.
  assert.deepEqual(cellFor('uring', step({ code: 2, stderr: 'nvmebench: no engine can run on /dev/x: uring: no\n' })), { state: 'refused', detail: 'no engine can run on /dev/x: uring: no' });
  assert.deepEqual(cellFor('uring', undefined).state, 'failed');
});

test('compat matrix: every engine × workload row, failed cells listed, footnotes shared, Markdown escapes pipes', () => {
  const results = new Map<string, StepResult>();
  for (const s of compatSteps(8)) {
    if (!s.args) continue;
    results.set(s.name, step({ stdout: json(COMPAT_ENGINES.map((engine) => ({ engine, status: 'ok' }))) }));
  }
  results.set('kernel:trim', step({ stdout: json([{ engine: 'psync', status: 'ok' }]), stderr: COMPAT_ENGINES.filter((e) => e !== 'psync').map((e) => `nvmebench: skipping ${e}: no | trim here: use psync`).join('\n') }));
  results.delete('kernel:flush');
  const m: CompatMatrix = buildMatrix([{ kernel: { spec: '6.1', release: '6.1.0-56-amd64', seconds: 1 }, cells: kernelColumn(results) }]);
  assert.equal(m.rows.length, COMPAT_ENGINES.length * COMPAT_WORKLOADS.length);
  const failed = failedCells(m);
  assert.deepEqual(failed.map((f) => `${f.engine} ${f.workload}`).sort(), COMPAT_ENGINES.filter((e) => e !== 'vfio').map((e) => `${e} flush`).sort());
  const table = renderCompatTable(m);
  const n = /│ uring +│ trim +│ refused \[(\d+)\] +│/.exec(table)?.[1];
  assert.ok(n, table);
  assert.match(table, new RegExp(`\\[${n}\\] no \\| trim here: use psync`));
  assert.match(table, /│ aio +│ trim +│ refused \[\d+\] +│/);
  assert.equal(table.match(/\] no \| trim here/g)?.length, 1, 'one footnote for the cells that share a reason');
  assert.match(table, /│ vfio +│ zone-append +│ – +│/);
  const md = renderCompatMarkdown(m);
  assert.match(md, new RegExp(`\\| uring \\| trim \\| refused \\[${n}\\] \\|`));
  assert.match(md, /^\| engine \| workload \| 6\.1\.0-56-amd64 \|$/m);
});

test('compat: bad input is one line and exit 2, before any lab boots', () => {
  for (const [args, re] of [
    [['--kernel', '6.1,6.1'], /names a kernel twice/],
    [['--kernel', 'latest'], /not a kernel series/],
    [['--kernel', ''], /names no kernel/],
    [['--ios', '0'], /--ios "0" is not a count from 1 to 8192/],
    [['--ios', '9000'], /--ios "9000"/],
  ] as const) {
    const r = runCli(['compat', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('compat on Linux 6.1 and 6.12 in the lab: nothing fails; the cells that differ are the version table\'s', { timeout: 900_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-compat-test-'));
  try {
    const r = runCli(['compat', '--kernel', '6.1,6.12', '--ios', '32', '--quiet', '--json', path.join(dir, 'c.json'), '--md', path.join(dir, 'c.md')], { timeoutMs: 880_000 });
    assert.equal(r.code, 0, `compat exit ${r.code}:\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-3000)}`);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'c.json'), 'utf8')) as CompatMatrix;
    assert.deepEqual(m.kernels.map((k) => k.spec), ['6.1', '6.12']);
    assert.match(m.kernels[0].release, /^6\.1\./);
    assert.match(m.kernels[1].release, /^6\.12\./);
    assert.deepEqual(failedCells(m), []);
    const cell = (engine: string, workload: string, kernel: string) => m.rows.find((x) => x.engine === engine && x.workload === workload)!.cells[kernel];
    // Every path reads and writes, verified, on both kernels.
    for (const engine of COMPAT_ENGINES) {
      for (const w of ['write', 'randread', 'randrw']) {
        for (const k of ['6.1', '6.12']) assert.equal(cell(engine, w, k).state, 'ok', `${engine} ${w} on ${k}: ${cell(engine, w, k).detail}`);
      }
    }
    // What changed between the kernels: pt-poll commands without data (6.5), uring discard on a block device (6.12).
    for (const w of ['write-zeroes', 'verify', 'flush']) {
      assert.equal(cell('pt-poll', w, '6.1').state, 'refused');
      assert.match(cell('pt-poll', w, '6.1').detail, /6\.5/);
      assert.equal(cell('pt-poll', w, '6.12').state, 'ok', `pt-poll ${w} on 6.12: ${cell('pt-poll', w, '6.12').detail}`);
    }
    assert.equal(cell('uring', 'trim', '6.1').state, 'refused');
    assert.match(cell('uring', 'trim', '6.1').detail, /6\.12/);
    assert.equal(cell('uring', 'trim', '6.12').state, 'ok');
    // And nothing else differs.
    const differ = m.rows.filter((x) => x.cells['6.1'].state !== x.cells['6.12'].state).map((x) => `${x.engine} ${x.workload}`);
    assert.deepEqual(differ.sort(), ['pt-poll flush', 'pt-poll verify', 'pt-poll write-zeroes', 'uring trim']);
    assert.match(fs.readFileSync(path.join(dir, 'c.md'), 'utf8'), /\| pt-poll \| write-zeroes \| refused \[\d+\] \| ✓ \|/);
    assert.match(r.stdout, /│ uring +│ trim +│ refused \[\d+\] +│ ✓ +│/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
