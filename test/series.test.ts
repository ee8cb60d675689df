// Issue 16 parts 1 and 2: the steady-state rule on synthetic series, the
// series summed from synthetic worker points, and real runs on a page-cache
// file (--interval 100ms): the series, --steady-state ending a run early and
// reporting its window, --series-csv, plot --series, --precondition, and the
// bad input. The native ring has its C test: native/test/series_test.c.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { evaluateSteady, leastSquaresSlope } from '../src/analysis/steady.js';
import { SeriesCollector } from '../src/analysis/series.js';
import { bucketIndex } from '../src/analysis/histogram.js';
import { parseSeriesOptions, parseSteadyRule } from '../src/plan/series-options.js';
import { preconditionSteps } from '../src/run/precondition.js';
import { seriesPlotSpec } from '../src/export/series-plot.js';
import type { NativeSeriesPoint } from '../src/native/addon.js';
import type { RunRecord } from '../src/model.js';
import { BenchError } from '../src/errors.js';
import { spawn } from 'node:child_process';
import { BIN, csvRows, runCli } from './cli.js';

const rule = { slopePct: 10, rounds: 5 };

test('steady: a flat series with small noise holds the rule', () => {
  const v = evaluateSteady([50, 100, 101, 99, 100, 102, 98], rule)!;
  assert.equal(v.steady, true);
  assert.equal(v.start, 2, 'the window is the last 5 rounds');
  assert.ok(Math.abs(v.rangePct - 4) < 1e-9, `range ${v.rangePct}`);
});

test('steady: a sloped series fails on the slope though its range is within 20%', () => {
  // +4% a round: range 16% of the mean (within 20%), line excursion 16% (over 10%).
  const v = evaluateSteady([92, 96, 100, 104, 108], rule)!;
  assert.equal(v.steady, false);
  assert.ok(v.rangePct <= 20, `range ${v.rangePct}`);
  assert.ok(Math.abs(v.slopePct - 16) < 1e-9, `slope ${v.slopePct}`);
  // The same figures, shuffled so the best-fit line is flat: steady.
  assert.equal(evaluateSteady([100, 92, 108, 104, 96], { slopePct: 10, rounds: 5 })!.steady, true);
});

test('steady: a noisy series fails on the range with no slope', () => {
  const v = evaluateSteady([100, 125, 100, 125, 100], rule)!;
  assert.ok(v.rangePct > 20);
  assert.ok(v.slopePct < 10);
  assert.equal(v.steady, false);
});

test('steady: too short a series has no verdict; NaN or a zero mean is not steady', () => {
  assert.equal(evaluateSteady([100, 100, 100, 100], rule), undefined);
  assert.equal(evaluateSteady([100, 100, NaN, 100, 100], rule)!.steady, false);
  assert.equal(evaluateSteady([0, 0, 0, 0, 0], rule)!.steady, false);
  assert.equal(leastSquaresSlope([1, 3, 5, 7]), 2);
});

test('--steady-state and --interval: parsed, and refused when they cannot be evaluated', () => {
  assert.deepEqual(parseSteadyRule('iops:10%:5'), { metric: 'iops', slopePct: 10, rounds: 5, text: 'iops:10%:5' });
  assert.equal(parseSteadyRule('p99:5:3').text, 'p99:5%:3');
  for (const bad of ['iops', 'lat:10%:5', 'iops:0%:5', 'iops:10%:1']) assert.throws(() => parseSteadyRule(bad), BenchError, bad);
  const run = { runtimeMs: 10_000, ioLimit: 0, command: false };
  assert.equal(parseSeriesOptions({}, run).intervalMs, 1000);
  assert.throws(() => parseSeriesOptions({ interval: '50ms' }, run), /under 100 ms/);
  assert.throws(() => parseSeriesOptions({ steadyState: 'iops:10%:11' }, run), /longer than --runtime/);
  assert.equal(parseSeriesOptions({ steadyState: 'iops:10%:11', interval: '100ms' }, run).steady?.rounds, 11);
  assert.equal(parseSeriesOptions({ precondition: 'snia' }, run).steady?.text, 'iops:10%:5', 'snia implies the PTS rule');
  assert.throws(() => parseSeriesOptions({ precondition: 'seq' }, { ...run, command: true }), /not to NVMe command/);
});

test('precondition steps: passes of 128 KiB over the region, then one region of 4 KiB random writes', () => {
  const mib = 1024 * 1024;
  assert.deepEqual(
    preconditionSteps('rand', 2, 64 * mib, 512).map((s) => [s.random, s.blockSize, s.ios]),
    [
      [false, 131072, 1024],
      [true, 4096, 16384],
    ],
  );
  assert.equal(preconditionSteps('seq', 3, 64 * mib, 512).length, 1);
  assert.equal(preconditionSteps('seq', 1, 64 * mib + 4096, 4096)[0].blockSize, 4096, 'a region not a whole number of 128 KiB blocks is written in LBAs');
});

function point(worker: number, index: number, ios: number, latNs: number, extra: Partial<NativeSeriesPoint> = {}): NativeSeriesPoint {
  const startNs = index * 1e8;
  return { worker, index, last: false, startNs, endNs: startNs + 1e8, ios, bytes: ios * 4096, errors: 0, userUs: 5000, sysUs: 5000, latCount: ios, latSumNs: ios * latNs, latMinNs: latNs, latMaxNs: latNs, lat: [bucketIndex(latNs), ios], ...extra };
}

test('series: worker points summed per interval, percentiles from the merged histograms', () => {
  const c = new SeriesCollector(100, 2);
  c.add({ points: [point(0, 0, 900, 10_000), point(1, 0, 100, 1_000_000), point(0, 1, 1000, 10_000)], dropped: 0 });
  assert.equal(c.complete().length, 1, 'interval 1 waits for worker 1');
  c.add({ points: [point(1, 1, 1000, 20_000), point(0, 2, 5, 10_000, { last: true, endNs: 2e8 + 1e6 })], dropped: 2 });
  const rec = c.record();
  assert.equal(rec.points.length, 2, 'a last interval under half an interval is left out');
  assert.equal(rec.dropped, 2);
  assert.equal(rec.workers.length, 4);
  const [p0, p1] = rec.points;
  assert.equal(p0.ios, 1000);
  assert.ok(Math.abs(p0.iops - 10_000) < 1e-6);
  assert.ok(Math.abs(p0.p50Us - 10) < 0.2, `p50 ${p0.p50Us}`);
  assert.ok(p0.p99Us > 900, `p99 ${p0.p99Us}: worker 1's slow 10% dominates the summed p99`);
  assert.ok(Math.abs(p0.cpuPct - 20) < 1e-9);
  assert.ok(Math.abs(p1.p99Us - 20) < 0.4, `p99 ${p1.p99Us}`);
  const w = c.window(0, 2);
  assert.equal(w.ios, 3000);
  assert.ok(Math.abs(w.seconds - 0.2) < 1e-9);
  assert.ok(Math.abs(w.iops - 15_000) < 1e-6);
  assert.equal(w.histogram.reduce((n, [, k]) => n + k, 0), 3000);
});

test('series: a window counts whole intervals, not grid places a stalled worker skipped', () => {
  const c = new SeriesCollector(100, 1);
  // Interval 1 stalled until 0.35 s: the worker's next interval is 3.
  c.add({ points: [point(0, 0, 100, 1000), point(0, 1, 100, 1000, { endNs: 3.5e8 }), point(0, 3, 100, 1000), point(0, 4, 100, 1000)], dropped: 0 });
  assert.deepEqual(c.complete().map((p) => p.index), [0, 1, 3, 4]);
  const w = c.window(1, 3);
  assert.equal(w.ios, 300, 'intervals 1, 3 and 4');
  assert.ok(Math.abs(w.seconds - 0.4) < 1e-9, `${w.seconds}`);
});

test('plot --series spec: one line per engine, the steady window shaded; none without a series', () => {
  const rec = (engine: string, steady: boolean): RunRecord =>
    ({
      engine, workload: 'randread', ioDepth: 8, blockSize: 4096, repeat: 0,
      series: { intervalMs: 100, dropped: 0, workers: [], points: [0, 1, 2].map((i) => ({ index: i, startS: i / 10, endS: (i + 1) / 10, ios: 10, iops: 100, bandwidthBps: 1, p50Us: 1, p99Us: 2, p999Us: 3, cpuPct: 1 })) },
      steady: { rule: 'iops:10%:2', steady, windowStart: 1, windowStartS: 0.1, windowRounds: 2, windowS: 0.2, rangePct: 0, slopePct: 0 },
    }) as unknown as RunRecord;
  const spec = seriesPlotSpec([rec('uring', true), rec('psync', false)]) as { data: { values: Array<{ line: string }> }; vconcat: Array<{ layer: Array<{ data?: { values: unknown[] } }> }> };
  assert.deepEqual([...new Set(spec.data.values.map((d) => d.line))], ['uring', 'psync']);
  assert.equal(spec.vconcat.length, 2);
  assert.equal(spec.vconcat[0].layer[0].data?.values.length, 2, 'one shaded window per line');
  assert.throws(() => seriesPlotSpec([{ ...rec('uring', true), series: undefined }]), /no time series/);
});

let dir = '';
let file = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-series-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(8 * 1024 * 1024, 0xa5));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a real run keeps a series per interval, summed and per worker, that adds up to the run', () => {
  const json = path.join(dir, 'run.json');
  const seriesCsv = path.join(dir, 'series.csv');
  const r = runCli(['randread', '--engine', 'uring', '--buffered', '--qd', '4', '--threads', '2', '--interval', '100ms', '--runtime', '1500ms', '--json', json, '--series-csv', seriesCsv, '--quiet', '--format', 'csv', file]);
  assert.equal(r.code, 0, r.stderr);
  const [record] = JSON.parse(fs.readFileSync(json, 'utf8')).records as RunRecord[];
  const s = record.series!;
  assert.equal(s.intervalMs, 100);
  assert.equal(s.dropped, 0);
  // A worker starved of CPU for over an interval (a loaded machine) skips grid places: fewer points, never more.
  assert.ok(s.points.length >= 8 && s.points.length <= 16, `${s.points.length} intervals in 1.5 s`);
  assert.ok(s.points.every((p, i) => i === 0 || p.index > s.points[i - 1].index), 'intervals in grid order');
  assert.ok(s.points.at(-1)!.index <= 16 && s.points.at(-1)!.endS >= 1.4, `ends at ${s.points.at(-1)!.endS} s`);
  // Every measured I/O is in exactly one interval (a short last one may be left out).
  const summed = s.points.reduce((n, p) => n + p.ios, 0);
  assert.ok(summed <= record.ios && summed >= record.ios * 0.9, `${summed} of ${record.ios}`);
  assert.equal(s.workers.reduce((n, p) => n + p.ios, 0), summed);
  assert.deepEqual([...new Set(s.workers.map((p) => p.worker))], [0, 1]);
  for (const p of s.points) assert.ok(p.iops > 0 && p.p99Us >= p.p50Us && p.p50Us > 0, JSON.stringify(p));
  assert.equal(csvRows(r.stdout)[0].steady, '', 'no rule: the v3 columns are empty');
  const rows = csvRows(fs.readFileSync(seriesCsv, 'utf8'));
  assert.equal(rows.length, s.points.length + s.workers.length);
  assert.equal(rows[0].series_version, '1');
  assert.equal(rows[0].worker, '');
  assert.equal(Number(rows[0].ios), s.points[0].ios);
});

test('--steady-state ends the run once steady and reports the window; an impossible rule runs out --runtime', () => {
  const json = path.join(dir, 'steady.json');
  const started = Date.now();
  // A loose rule on a page-cache file: steady within a few intervals, long before 20 s.
  const r = runCli(['randread', '--engine', 'uring', '--buffered', '--qd', '4', '--interval', '100ms', '--runtime', '20s', '--steady-state', 'iops:50%:3', '--json', json, '--quiet', '--format', 'csv', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 15_000, 'stopped once steady');
  const [row] = csvRows(r.stdout);
  assert.equal(row.status, 'ok');
  assert.equal(row.steady, 'true');
  assert.equal(row.steady_rule, 'iops:50%:3');
  const [rec] = JSON.parse(fs.readFileSync(json, 'utf8')).records as RunRecord[];
  assert.equal(rec.steady!.windowRounds, 3);
  // 3 intervals of 100 ms; longer when a loaded machine starves the worker past a boundary.
  assert.ok(Number(row.steady_window_s) >= 0.29 && Number(row.steady_window_s) < 3, `window ${row.steady_window_s} s`);
  assert.ok(Math.abs(Number(row.runtime_s) - Number(row.steady_window_s)) < 1e-9, 'the row reports the window');
  const { windowStartS: from, windowS: len } = rec.steady!;
  const window = rec.series!.points.filter((p) => p.startS >= from - 1e-6 && p.endS <= from + len + 1e-6);
  assert.equal(window.length, 3);
  assert.equal(Number(row.ios), window.reduce((n, p) => n + p.ios, 0));
  assert.ok(rec.series!.points.length < 40);

  const never = runCli(['randread', '--engine', 'uring', '--buffered', '--qd', '4', '--interval', '100ms', '--runtime', '1s', '--steady-state', 'iops:0.0001%:3', '--quiet', '--format', 'csv', file]);
  assert.equal(never.code, 0, never.stderr);
  const [n] = csvRows(never.stdout);
  assert.equal(n.steady, 'false');
  assert.ok(Number(n.steady_window_start_s) + Number(n.steady_window_s) > 0.6, 'the last window looked at');

  const svg = path.join(dir, 'ts.svg');
  const plot = runCli(['plot', '--series', json, '-o', svg]);
  assert.equal(plot.code, 0, plot.stderr);
  const text = fs.readFileSync(svg, 'utf8');
  assert.match(text, /mark-rect/, 'the steady window is shaded');
  assert.match(text, /p99 latency/);
});

test('--precondition writes the region before measuring', () => {
  const before = fs.readFileSync(file);
  assert.ok(before.every((b) => b === 0xa5));
  const r = runCli(['randread', '--engine', 'psync', '--buffered', '--precondition', 'rand', '--runtime', '200ms', '--quiet', '--format', 'csv', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /preconditioned: 24\.0 MiB written/);
  const after = fs.readFileSync(file);
  let same = 0;
  for (let i = 0; i < after.length; i += 4096) same += after[i] === 0xa5 && after[i + 1] === 0xa5 ? 1 : 0;
  assert.equal(same, 0, 'every block was written');
  assert.equal(csvRows(r.stdout)[0].status, 'ok');
});

test('Ctrl-C stops preconditioning cleanly: it says how far it got, measures nothing, exit 1', async () => {
  const big = path.join(dir, 'big.dat');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, 256 * 1024 * 1024);
  const child = spawn(process.execPath, [BIN, 'randread', '--engine', 'psync', '--precondition', 'seq:16', '--runtime', '1s', '--format', 'csv', big], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => {
    stderr += c;
    if (/preconditioning \(seq\)/.test(stderr)) setTimeout(() => child.kill('SIGINT'), 300);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  fs.rmSync(big);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /preconditioning interrupted after [\d.]+ [KMG]?i?B: nothing measured/);
  assert.equal(stdout, '', 'no run measured');
});

test('bad input: exit 2, one line that names the fix', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--interval', '50ms'], /--interval 50ms is under 100 ms: give --interval 100ms or more/],
    [['--runtime', '2s', '--steady-state', 'iops:10%:5'], /needs 5 intervals of 1000 ms .* longer than --runtime 2s.*: give --runtime/],
    [['--steady-state', 'iops:10'], /not METRIC:PCT%:ROUNDS/],
    [['--precondition', 'fill'], /--precondition fill is not seq, rand or snia/],
  ];
  for (const [args, re] of cases) {
    const r = runCli(['randread', '--engine', 'uring', ...args, file]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const json = runCli(['plot', '--series', path.join(dir, 'missing.csv')]);
  assert.equal(json.code, 2);
});
