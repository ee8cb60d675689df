import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBlockSize,
  formatCount,
  formatCountPm,
  formatDeltaPct,
  formatKiops,
  formatMiBs,
  formatP,
  formatPerCall,
  formatUs,
} from '../src/output/format.js';
import { buildMatrix } from '../src/output/matrix.js';
import { buildSummary, compareEngines } from '../src/output/summary.js';
import { buildResultsTable, contextLines } from '../src/output/table.js';
import { fitTable, parseOutputFormat, renderResults, tableWidth } from '../src/output/render.js';
import { printResults } from '../src/export/stdout.js';
import { EXPORTERS } from '../src/export/registry.js';
import { aggregateCells } from '../src/analysis/stats.js';
import { parseCsvRecords } from '../src/export/csv-read.js';
import { BenchError } from '../src/errors.js';
import { makeRecord, makeRepeats, SEED_001, seed001Records } from './fixtures.js';
import { buildResults } from '../src/analysis/results.js';

test('number formats', () => {
  assert.equal(formatCount(1_020_000), '1.02M');
  assert.equal(formatCount(538_000), '538K');
  assert.equal(formatCount(53_800), '53.8K');
  assert.equal(formatCount(999_700), '1.00M', 'rounding carries into the next unit');
  assert.equal(formatCount(950), '950');
  assert.equal(formatCount(12.5), '12.5');
  assert.equal(formatCount(NaN), '-');
  assert.equal(formatCountPm(968_000, 7_200), '968K ± 7.2K');
  assert.equal(formatCountPm(1_280_000, 9_500), '1.28M ± 9.5K');
  assert.equal(formatUs(8.4213), '8.42');
  assert.equal(formatUs(84.21), '84.2');
  assert.equal(formatUs(842.1), '842');
  assert.equal(formatMiBs(538_000 * 4096), '2102');
  assert.equal(formatBlockSize(4096), '4k');
  assert.equal(formatBlockSize(1 << 20), '1m');
  assert.equal(formatBlockSize(512), '512');
  assert.equal(formatBlockSize(6144), '6k');
  assert.equal(formatKiops(588_600), '589');
  assert.equal(formatKiops(5_380), '5.38');
  assert.equal(formatPerCall(32), '32');
  assert.equal(formatPerCall(1.25), '1.3');
  assert.equal(formatPerCall(1), '1');
  assert.equal(formatDeltaPct(-20), '-20.0%');
  assert.equal(formatDeltaPct(4.219), '+4.22%');
  assert.equal(formatP(0.0004), '<0.001');
  assert.equal(formatP(0.0734), '0.07');
});

test('results table: the documented columns and one row per cell', () => {
  const t = buildResultsTable(buildResults(seed001Records()));
  assert.deepEqual(t.headers, ['engine', 'bs', 'QD', 'threads', 'IOPS', 'BW MiB/s', 'mean µs', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'usr%', 'sys%', 'CPU ns/IO', 'sys CPU/IO', 'irqs/IO', 'IOs/call']);
  assert.equal(t.rows.length, 12);
  const ptPoll8 = t.rows.find((r) => r[0] === 'pt-poll' && r[2] === '8')!;
  assert.equal(ptPoll8[4], '902K');
  assert.equal(ptPoll8[t.headers.indexOf('IOs/call')], '8/7', 'IOs per submit/reap call');
  assert.equal(t.rows.find((r) => r[0] === 'pt-poll' && r[2] === '256')![4], '1.43M');
  assert.equal(t.notes.length, 0);
});

test('results table adds workload and config columns only when they vary', () => {
  const t = buildResultsTable(buildResults([
    makeRecord({ workload: 'randread' }),
    makeRecord({ workload: 'randread', options: { fixedBufs: true } }),
    makeRecord({ workload: 'randwrite', readPercent: 0, options: { fixedBufs: true } }),
  ]));
  assert.equal(t.headers[0], 'workload');
  assert.equal(t.headers[2], 'config');
  // read% follows from the workload, so only fixedbufs needs the column.
  assert.deepEqual(t.rows.map((r) => r[2]), ['no fixedbufs', 'fixedbufs', 'fixedbufs']);
});

test('options that follow from the engine and axes do not split rows', () => {
  const t = buildResultsTable(buildResults([
    makeRecord({ engine: 'psync', ioDepth: 1, options: { batchSubmit: 1, batchComplete: 1, fixedBufs: false } }),
    makeRecord({ engine: 'uring', ioDepth: 32, options: { batchSubmit: 8, batchComplete: 8, fixedBufs: true } }),
  ]));
  assert.ok(!t.headers.includes('config'), t.headers.join(','));
});

test('emulated device: the header says so, real devices do not', () => {
  const emu = contextLines([makeRecord({ target: { emulated: true, model: 'QEMU NVMe Ctrl' } })]);
  assert.ok(emu.includes('figures from an emulated device (QEMU NVMe Ctrl): they show function, not hardware speed'), emu.join('\n'));
  const real = contextLines([makeRecord()]);
  assert.ok(!real.some((l) => l.includes('emulated')), real.join('\n'));
  assert.match(renderResults(buildResults([makeRecord({ target: { emulated: true, model: 'QEMU NVMe Ctrl' } })])), /emulated device/);
});

test('matrix: seed 001 layout, KIOPS with ratios to the first engine', () => {
  const m = buildMatrix(buildResults(seed001Records()))!;
  assert.deepEqual(m.headers, ['QD', 'uring', 'pt', 'uring-poll', 'pt-poll']);
  assert.deepEqual(m.rows.map((r) => r[0]), ['8', '64', '256']);
  assert.deepEqual(m.rows[0], ['8', '538', '589 (1.09×)', '831 (1.54×)', '902 (1.68×)']);
  assert.deepEqual(m.rows[2], ['256', '1043', '1230 (1.18×)', '1376 (1.32×)', '1429 (1.37×)']);
  for (const [i, qd] of [8, 64, 256].entries()) {
    assert.deepEqual(m.values[i], Object.values(SEED_001[qd]));
  }
  const text = renderResults(buildResults(seed001Records()));
  assert.match(text, /│ 8\s+│\s+538 │\s+589 \(1\.09×\) │\s+831 \(1\.54×\) │\s+902 \(1\.68×\) │/);
});

test('matrix: rows by bs when bs varies; none for a single cell', () => {
  const recs = [4096, 131072].flatMap((bs) => ['uring', 'pt'].map((e) => makeRecord({ engine: e as 'uring', blockSize: bs, iops: e === 'pt' ? 110e3 : 100e3 })));
  const m = buildMatrix(buildResults(recs))!;
  assert.equal(m.headers[0], 'bs');
  assert.deepEqual(m.rows.map((r) => r[0]), ['4k', '128k']);
  assert.equal(m.rows[1][2], '110 (1.10×)');
  assert.equal(buildMatrix(buildResults([makeRecord()])), null);
  assert.equal(buildMatrix(buildResults(makeRepeats([1, 2, 3]))), null, 'repeats of one cell are still one cell');
});

test('repeats: mean ± σ for IOPS and p99, n column, outliers flagged', () => {
  const recs = [
    ...makeRepeats([1_000_000, 1_010_000, 990_000, 1_000_000, 700_000], { engine: 'uring', ioDepth: 64 }),
    ...makeRepeats([1_320_000, 1_330_000, 1_310_000], { engine: 'pt-poll', ioDepth: 64 }),
  ];
  const t = buildResultsTable(buildResults(recs));
  const n = t.headers.indexOf('n');
  const iops = t.headers.indexOf('IOPS');
  const p99 = t.headers.indexOf('p99 µs');
  assert.ok(n >= 0);
  assert.equal(t.rows[0][n], '5');
  assert.equal(t.rows[0][iops], '940K ± 134K (14%) !');
  assert.equal(t.rows[1][iops], '1.32M ± 10K (0.76%)');
  assert.match(t.rows[1][p99], /^97\.0 ± 0\.7\d$/);
  assert.ok(t.notes.some((l) => /uring.*repeat 4 is an outlier at 700K IOPS/.test(l)), t.notes.join('\n'));
  assert.ok(!t.notes.some((l) => /pt-poll.*outlier/.test(l)));
});

test('hyperfine-style summary with propagated error and significance', () => {
  const recs = [
    ...makeRepeats([1_000_000, 1_010_000, 990_000], { engine: 'uring' }),
    ...makeRepeats([1_320_000, 1_340_000, 1_300_000], { engine: 'pt-poll' }),
    ...makeRepeats([1_000_000, 1_200_000, 800_000], { engine: 'pt' }),
  ];
  const comps = compareEngines(aggregateCells(recs));
  assert.equal(comps.length, 1);
  assert.equal(comps[0].fastest, 'pt-poll');
  const vsUring = comps[0].slower.find((s) => s.engine === 'uring')!;
  assert.ok(Math.abs(vsUring.ratio - 1.32) < 1e-12);
  const expected = 1.32 * Math.sqrt((20_000 / 1_320_000) ** 2 + (10_000 / 1_000_000) ** 2);
  assert.ok(Math.abs(vsUring.sd - expected) < 1e-12, `${vsUring.sd} vs ${expected}`);
  const lines = buildSummary(buildResults(recs));
  assert.deepEqual(lines.slice(0, 2), ['Summary (IOPS, mean ± σ over repeats)', '  pt-poll ran']);
  assert.ok(lines.includes('    1.32 ± 0.02 times faster than uring'), lines.join('\n'));
  assert.ok(lines.some((l) => /1\.32 ± 0\.\d\d times faster than pt \(not significant, p = 0\.\d\d\)/.test(l)), lines.join('\n'));
  assert.deepEqual(buildSummary(buildResults(seed001Records())), [], 'no summary without repeats');
});

test('summary groups by QD when QD varies', () => {
  const recs = [8, 64].flatMap((qd) => [
    ...makeRepeats([100e3, 101e3], { engine: 'uring', ioDepth: qd }),
    ...makeRepeats([150e3, 151e3], { engine: 'pt', ioDepth: qd }),
  ]);
  const lines = buildSummary(buildResults(recs));
  assert.ok(lines.includes('  QD 8: pt ran'), lines.join('\n'));
  assert.ok(lines.includes('  QD 64: pt ran'), lines.join('\n'));
});

test('failed cells show their status and the error under the table', () => {
  const t = buildResultsTable(buildResults([makeRecord(), makeRecord({ engine: 'vfio', status: 'failed', errorMessage: 'no IOMMU group' })]));
  assert.equal(t.rows[1][4], 'failed');
  assert.ok(t.notes.includes('vfio: failed: no IOMMU group'), t.notes.join('\n'));
});

test('a cell interrupted before any repeat finished shows its partial figures, marked', () => {
  const t = buildResultsTable(buildResults([makeRecord({ engine: 'uring' }), makeRecord({ engine: 'pt', status: 'interrupted', iops: 250_000 })]));
  assert.equal(t.rows[1][4], '250K *');
  assert.ok(t.notes.includes('* interrupted: the figures cover only the time it ran'), t.notes.join('\n'));
  const none = buildResultsTable(buildResults([makeRecord({ engine: 'pt', status: 'interrupted', ios: 0, iops: 0 })]));
  assert.equal(none.rows[0][4], 'interrupted');
});

test('printResults writes each format to stdout, through the exporters', () => {
  const results = buildResults(seed001Records());
  const capture = (format: 'table' | 'csv' | 'json' | 'md'): string => {
    let s = '';
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array): boolean => {
      s += Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof process.stdout.write;
    try {
      printResults(results, format);
    } finally {
      process.stdout.write = write;
    }
    return s;
  };
  assert.equal(parseCsvRecords(capture('csv')).length, 12);
  assert.equal(JSON.parse(capture('json')).records.length, 12);
  assert.match(capture('md'), /^\| engine \|/m);
  assert.match(capture('table'), /KIOPS by engine/);
  assert.equal(EXPORTERS.csv.render(results), capture('csv'));
  assert.equal(renderResults(results), capture('table'));
  assert.equal(parseOutputFormat('md'), 'md');
  assert.throws(() => parseOutputFormat('xml'), (e: unknown) => e instanceof BenchError && e.kind === 'usage');
});

test('matrix: the baseline is the first engine with a figure in every row', () => {
  const m = buildMatrix(buildResults([
    makeRecord({ engine: 'psync', ioDepth: 1, iops: 10_000 }),
    makeRecord({ engine: 'uring', ioDepth: 1, iops: 20_000 }),
    makeRecord({ engine: 'uring', ioDepth: 16, iops: 80_000 }),
    makeRecord({ engine: 'pt', ioDepth: 1, iops: 30_000 }),
    makeRecord({ engine: 'pt', ioDepth: 16, iops: 120_000 }),
  ]))!;
  assert.match(m.title, /relative to uring/);
  assert.deepEqual(m.rows[0], ['1', '10.0 (0.50×)', '20.0', '30.0 (1.50×)']);
  assert.deepEqual(m.rows[1], ['16', '-', '80.0', '120 (1.50×)']);
});

test('buildResults: cells once, with pooled histograms and the figures of a cell ^C stopped', () => {
  const recs = [...makeRepeats([500e3, 505e3, 495e3], { engine: 'uring' }), makeRecord({ engine: 'pt', status: 'interrupted', iops: 250_000 })];
  const results = buildResults(recs);
  assert.equal(results.records, recs);
  assert.deepEqual(results.cells.map((c) => [c.config.engine, c.n, c.all.length]), [['uring', 3, 3], ['pt', 0, 1]]);
  const pooled = results.cells[0].histogram.reduce((s, [, n]) => s + n, 0);
  const repeats = recs.slice(0, 3).reduce((s, r) => s + r.histogram.reduce((t, [, n]) => t + n, 0), 0);
  assert.equal(pooled, repeats, 'the histogram pools the repeats');
  assert.equal(results.cells[0].partial, undefined);
  assert.equal(results.cells[1].partial?.iops.mean, 250_000);
  assert.deepEqual(results.varying, ['engine']);
  // Every renderer reads the one object: the table row for the ^C cell comes from its partial figures.
  assert.equal(buildResultsTable(results).rows[1][5], '250K *');
});

test('fitTable: the least telling columns go first until the table fits; engine, QD, IOPS, p50, p99, CPU ns/IO stay', () => {
  const results = buildResults(makeRepeats([500e3, 505e3, 495e3], { engine: 'uring' }).concat(makeRepeats([900e3, 905e3, 895e3], { engine: 'pt' })));
  const table = buildResultsTable(results);
  assert.ok(tableWidth(table) > 120, `the full table is wide (${tableWidth(table)})`);
  const { model, omitted } = fitTable(table, 80);
  assert.ok(tableWidth(model) <= 80, `fits 80 columns: ${tableWidth(model)}`);
  assert.deepEqual(omitted.slice(0, 3), ['IOs/call', 'usr%', 'sys%']);
  for (const kept of ['engine', 'QD', 'IOPS', 'p50 µs', 'p99 µs', 'CPU ns/IO']) assert.ok(model.headers.includes(kept), kept);
  assert.equal(model.rows[0].length, model.headers.length);
  assert.deepEqual(fitTable(table, 500).omitted, [], 'nothing goes when it fits');
  const narrow = renderResults(results, { width: 80 });
  assert.match(narrow, /^left out to fit 80 columns: IOs\/call, usr%, sys%.* \(--wide shows every column\)$/m);
  assert.ok(narrow.split('\n').filter((l) => l.startsWith('│') || l.startsWith('┌')).every((l) => l.length <= 80));
  assert.equal(renderResults(results), renderResults(results, {}), 'no width: every column, as before');
  assert.doesNotMatch(renderResults(results), /left out/);
});
