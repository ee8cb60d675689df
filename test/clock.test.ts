// --clock: which clock stamps latencies. The option's checks against a
// made-up /proc/cpuinfo and architecture, then real runs with each clock on
// this machine: the record names the clock and its calibration, and the
// latencies it measured are plausible. (native/test/clock_test.c checks the
// TSC's conversion and its agreement with CLOCK_MONOTONIC.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BenchError } from '../src/errors.js';
import type { RunRecord } from '../src/model.js';
import { buildPlan, parseClock } from '../src/plan/options.js';
import { cellKey } from '../src/analysis/stats.js';
import { realSys } from '../src/system/sysfs.js';
import { tscUnusable } from '../src/system/tsc.js';
import { runCli } from './cli.js';
import { makeRecord } from './fixtures.js';

const cpuinfo = (flags: string) => ({ read: (f: string) => (f === '/proc/cpuinfo' ? `processor\t: 0\nflags\t\t: fpu ${flags} sse2\n` : undefined) });
const INVARIANT = cpuinfo('tsc constant_tsc nonstop_tsc');

const usage = (pattern: RegExp) => (err: unknown) => err instanceof BenchError && err.exitCode === 2 && pattern.test(err.message);

test('--clock: auto and tsc use the TSC where it is invariant on x86-64; monotonic never', () => {
  assert.deepEqual(parseClock('auto', INVARIANT, 'x64'), { clock: 'auto', clockMode: 1, clockFallback: undefined });
  assert.deepEqual(parseClock('tsc', INVARIANT, 'x64'), { clock: 'tsc', clockMode: 2, clockFallback: undefined });
  assert.deepEqual(parseClock('monotonic', INVARIANT, 'x64'), { clock: 'monotonic', clockMode: 0, clockFallback: undefined });
  assert.equal(buildPlan('randread', 'x', {}, INVARIANT).clock, 'auto');
});

test('--clock auto falls back to CLOCK_MONOTONIC and says why; --clock tsc is refused (exit 2, the reason and the fix)', () => {
  const cases: Array<[ReturnType<typeof cpuinfo>, string, RegExp]> = [
    [cpuinfo('tsc constant_tsc'), 'x64', /lack nonstop_tsc/],
    [cpuinfo('tsc'), 'x64', /lack constant_tsc and nonstop_tsc/],
    [INVARIANT, 'arm64', /x86-64 clock and this is arm64/],
    [{ read: () => undefined }, 'x64', /\/proc\/cpuinfo cannot be read/],
  ];
  for (const [sys, arch, why] of cases) {
    const auto = parseClock('auto', sys, arch);
    assert.equal(auto.clockMode, 0);
    assert.match(auto.clockFallback ?? '', why);
    assert.throws(() => parseClock('tsc', sys, arch), usage(new RegExp(`--clock tsc cannot be used: .*${why.source}`)));
  }
  assert.throws(() => parseClock('rdtsc', INVARIANT, 'x64'), usage(/--clock rdtsc is not auto, tsc or monotonic/));
  assert.throws(() => buildPlan('randread', 'x', { clock: 'tsc' }, cpuinfo('')), usage(/--clock tsc cannot be used/));
});

test('--clock bogus on the command line: exit 2, one line', () => {
  const run = runCli(['randread', '--engine', 'nop', '--clock', 'bogus']);
  assert.equal(run.code, 2, run.stderr);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /--clock bogus is not auto, tsc or monotonic: use --clock auto/);
});

test('the clock is recorded but not a cell key: a TSC-timed run compares with a CLOCK_MONOTONIC one (both are correct clocks), old records included', () => {
  // Keying on it would make every run on a TSC host (the default there) a stranger to every earlier record and CSV row.
  const unsaid = makeRecord({});
  const mono = makeRecord({ clock: { source: 'monotonic' } });
  const tsc = makeRecord({ clock: { source: 'tsc', tscHz: 2.1e9 } });
  assert.equal(cellKey(unsaid), cellKey(mono));
  assert.equal(cellKey(mono), cellKey(tsc));
});

let dir = '';
let file = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-clock-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(1024 * 1024, 0x5a));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): RunRecord {
  const out = runCli([...args, '--format', 'json', '--quiet']);
  assert.equal(out.code, 0, out.stderr);
  const parsed = JSON.parse(out.stdout) as RunRecord[] | { records: RunRecord[] };
  const records = Array.isArray(parsed) ? parsed : parsed.records;
  assert.equal(records.length, 1);
  return records[0];
}

/** Latencies that can be real: ordered, above 0, none longer than the run, and (Little's law) no more in flight on average than the depth. */
function assertPlausible(r: RunRecord, qd: number): void {
  const l = r.latency;
  assert.ok(l.minUs > 0 && l.minUs <= l.p50Us && l.p50Us <= l.p99Us && l.p99Us <= l.maxUs, JSON.stringify(l));
  assert.ok(l.meanUs >= l.minUs && l.meanUs <= l.maxUs, JSON.stringify(l));
  assert.ok(l.maxUs < r.runtimeS * 1e6 + 1000, `max ${l.maxUs} µs in a ${r.runtimeS} s run`);
  const inFlight = (l.meanUs / 1e6) * r.iops;
  assert.ok(inFlight <= qd * 1.1, `mean ${l.meanUs} µs at ${r.iops} IOPS is ${inFlight} in flight at QD ${qd}`);
}

const why = tscUnusable(realSys);

for (const [engine, target, qd] of [['nop', [], 32], ['uring', ['--buffered', '--size', '1m', file], 4]] as const) {
  test(`${engine}: --clock monotonic and --clock tsc both record their clock, with plausible latencies that agree`, () => {
    const common = ['randread', '--engine', engine, '--qd', String(qd), '--ios', '40000', ...target];
    const mono = run([...common, '--clock', 'monotonic']);
    assert.equal(mono.options.clock, 'monotonic');
    assert.deepEqual(mono.clock, { source: 'monotonic' });
    assertPlausible(mono, qd);
    if (why) {
      // Not invariant here: tsc is refused, auto falls back and says so.
      const refused = runCli([...common, '--clock', 'tsc']);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /--clock tsc cannot be used/);
      const auto = run(common);
      assert.equal(auto.clock?.source, 'monotonic');
      assert.equal(auto.clock?.fallback, why);
      return;
    }
    const tsc = run([...common, '--clock', 'tsc']);
    assert.equal(tsc.options.clock, 'tsc');
    assert.equal(tsc.clock?.source, 'tsc');
    assert.ok((tsc.clock?.tscHz ?? 0) > 1e8 && (tsc.clock?.tscHz ?? 0) < 1e10, `TSC at ${tsc.clock?.tscHz} Hz`);
    assertPlausible(tsc, qd);
    // The same loop timed by two clocks: medians within a factor of 3 (a TSC read as ns unconverted would be 2-4× off).
    const ratio = tsc.latency.p50Us / mono.latency.p50Us;
    assert.ok(ratio > 1 / 3 && ratio < 3, `p50 ${tsc.latency.p50Us} µs by the TSC, ${mono.latency.p50Us} µs by CLOCK_MONOTONIC`);
    // auto, the default, takes the TSC here too, and the table says which clock timed the run.
    assert.equal(run(common).clock?.source, 'tsc');
    const table = runCli([...common, '--quiet', '--format', 'md']);
    assert.match(table.stdout, /latencies timed by the TSC \(\d\.\d{3} GHz, calibrated against CLOCK_MONOTONIC\)/);
  });
}
