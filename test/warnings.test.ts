// Warnings about a cell's repeats (analysis/warnings.ts): computed once in the
// results, printed under the table, kept in the JSON export, absent from CSV.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRepeats } from './fixtures.js';
import { buildResults } from '../src/analysis/results.js';
import { repeatOutliers } from '../src/analysis/stats.js';
import { coefficientOfVariation } from '../src/analysis/warnings.js';
import { toCsv } from '../src/export/csv.js';
import { toJsonDocument } from '../src/export/json.js';
import { buildResultsTable } from '../src/output/table.js';
import { formatShare } from '../src/output/warnings.js';

const kinds = (values: number[]) => buildResults(makeRepeats(values)).cells[0].warnings.map((w) => w.kind);

test('a first repeat more than 2σ and 10% below the rest is a slow first repeat, suggesting --warmup', () => {
  assert.deepEqual(kinds([700e3, 1_000e3, 1_010e3, 990e3]), ['slow-first', 'high-cv']);
  const r = buildResults(makeRepeats([700e3, 1_000e3, 1_010e3, 990e3]));
  const [w] = r.cells[0].warnings;
  assert.deepEqual({ ...w, restSd: undefined }, { kind: 'slow-first', repeat: 0, iops: 700e3, restMean: 1_000e3, restSd: undefined });
  const notes = buildResultsTable(r).notes;
  assert.ok(notes.some((l) => /^! uring: the first repeat \(0\) ran at 700K IOPS, well below the rest \(1.00M ± 10K\).*--warmup/.test(l)), notes.join('\n'));
  // The slow first repeat is also the Tukey outlier: said once, with the fix.
  assert.ok(!notes.some((l) => /repeat 0 is an outlier/.test(l)), notes.join('\n'));
  // 8% slower: beyond 2σ of a tight rest, but not 10%.
  assert.deepEqual(kinds([920e3, 1_000e3, 1_001e3, 999e3]), ['outlier']);
  // 20% slower but within 2σ of a wide rest: no slow-first (the spread is its own warning).
  assert.deepEqual(kinds([800e3, 700e3, 1_300e3]), ['high-cv']);
  // Only with two repeats besides the first.
  assert.deepEqual(kinds([500e3, 1_000e3]), ['high-cv']);
  assert.deepEqual(kinds([1_000e3, 1_010e3, 990e3]), []);
});

test('outliers from 3 repeats by the modified z-score; Tukey from 4', () => {
  assert.deepEqual(repeatOutliers([1_000, 1_010, 1_300]), [2]);
  assert.deepEqual(repeatOutliers([1_000, 1_100, 1_300]), [], 'evenly spread: none stands out');
  assert.deepEqual(repeatOutliers([1_000, 1_000, 1_030]), [], 'within the 1% MAD floor');
  assert.deepEqual(repeatOutliers([1_000, 1_000, 1_100]), [2]);
  assert.deepEqual(repeatOutliers([1_000, 1_300]), []);
  assert.deepEqual(repeatOutliers([1_000, 1_010, 990, 1_000, 700]), [4]);
  const r = buildResults(makeRepeats([1_000e3, 1_010e3, 1_300e3]));
  assert.ok(buildResultsTable(r).notes.some((l) => /repeat 2 is an outlier at 1.30M IOPS \(modified z-score over 3.5 among the cell's 3 repeats\)/.test(l)));
});

test('a coefficient of variation over 10% is a warning; CV shows next to ±σ', () => {
  assert.ok(Math.abs(coefficientOfVariation({ n: 3, mean: 100, sd: 11 }) - 0.11) < 1e-12);
  assert.ok(Number.isNaN(coefficientOfVariation({ n: 1, mean: 100, sd: 0 })));
  assert.equal(formatShare(0.143), '14%');
  assert.equal(formatShare(0.0076), '0.76%');
  const wide = buildResults(makeRepeats([1_000e3, 1_250e3, 800e3, 1_100e3]));
  assert.deepEqual(wide.cells[0].warnings.map((w) => w.kind), ['high-cv']);
  const t = buildResultsTable(wide);
  assert.match(t.rows[0][t.headers.indexOf('IOPS')], /^1\.04M ± 189K \(18%\) !$/);
  assert.ok(t.notes.some((l) => /IOPS vary by 18% \(σ\/mean over 4 repeats, more than 10%\): run more repeats, pin workers with --cpus, or see what nvmebench doctor finds/.test(l)), t.notes.join('\n'));
  assert.deepEqual(kinds([1_000e3, 1_080e3, 920e3, 1_040e3, 960e3]), [], 'under 10%');
});

test('the JSON export keeps the warnings with their cell key; CSV is unchanged', () => {
  const recs = [...makeRepeats([700e3, 1_000e3, 1_010e3, 990e3]), ...makeRepeats([500e3, 501e3, 499e3], { engine: 'pt' })];
  const results = buildResults(recs);
  const doc = toJsonDocument(recs, results);
  assert.equal(doc.warnings.length, 2);
  assert.deepEqual(doc.warnings.map((w) => [w.cell, w.kind]), [[results.cells[0].key, 'slow-first'], [results.cells[0].key, 'high-cv']]);
  assert.match(doc.warnings[0].message, /--warmup/);
  assert.deepEqual(toJsonDocument(makeRepeats([1e3, 1e3, 1e3])).warnings, []);
  assert.ok(!/warmup|warning/i.test(toCsv(recs)));
});
