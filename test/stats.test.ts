import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateCells, cellKey, ratioWithError, summarize, tukeyOutliers } from '../src/analysis/stats.js';
import { studentTCdf, tTwoSidedP, welchTTest } from '../src/analysis/welch.js';
import { bucketLow, histogramPercentile, mergeHistograms } from '../src/analysis/histogram.js';
import { makeRecord, makeRepeats } from './fixtures.js';

function close(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} is not within ${tol} of ${expected}`);
}

// Reference values computed with SciPy 1.17.1 on this machine (python3):
//   2 * scipy.stats.t.sf(t, df)                    two-sided p
//   scipy.stats.t.cdf(t, df)                       one-sided CDF
//   scipy.stats.ttest_ind(a, b, equal_var=False)   Welch: t, df (Welch–Satterthwaite), p
// The t distribution itself is @stdlib/stats-base-dists-t-cdf's; these check
// that welch.ts calls it the right way round (tails, sides, df).

test('two-sided p for t = 2.1 at fractional df, as SciPy gives it', () => {
  const cases: Array<[number, number, number]> = [
    [2.1, 7.3, 0.0722467134248534],
    [2.1, 1, 0.282926056243018],
    [0.3, 2.5, 0.7873423714951973],
    [6, 4.4, 0.0028464904106327783],
    [40, 3, 3.4380680789158506e-5],
    [2.1, 1e6, 0.03572909097463506],
  ];
  for (const [t, df, p] of cases) close(tTwoSidedP(t, df), p, Math.max(1e-12, p * 1e-9), `p(t=${t}, df=${df})`);
  close(studentTCdf(2.1, 7.3), 0.9638766432875733, 1e-12, 'cdf(2.1, 7.3)');
  assert.ok(Number.isNaN(tTwoSidedP(1, 0)), 'df 0 is no distribution');
  close(tTwoSidedP(2, Infinity), 0.04550026389635839, 1e-12, 'infinite df is the normal: 2·norm.sf(2)');
});

test('two-sided t p-values match scipy', () => {
  const cases: Array<[number, number, number]> = [
    [2.0, 10, 0.07338803477074037],
    [2.228138851986274, 10, 0.05],
    [12.706204736174698, 1, 0.05],
    [0.5, 3, 0.651447964848151],
    [5, 2.5, 0.02345118997086185],
    [1.0, 100, 0.31972415578412333],
    [3.5, 7.3, 0.009343138528485555],
    [-2.0, 10, 0.07338803477074037],
    [10, 30, 4.575251408229618e-11],
  ];
  for (const [t, df, p] of cases) close(tTwoSidedP(t, df), p, Math.max(1e-10, p * 1e-8), `p(t=${t}, df=${df})`);
  assert.equal(tTwoSidedP(0, 5), 1);
  assert.equal(tTwoSidedP(Infinity, 5), 0);
  close(tTwoSidedP(1.959963984540054, 1e9), 0.05, 1e-6, 'normal limit');
});

test('Student t CDF is one-sided and symmetric', () => {
  close(studentTCdf(2, 10), 0.9633059826146299, 1e-10);
  close(studentTCdf(-2, 10), 0.03669401738537018, 1e-10);
  close(studentTCdf(0, 5), 0.5, 1e-15);
});

test("Welch's t-test: t, df and p as scipy's ttest_ind(equal_var=False)", () => {
  const a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
  const w = welchTTest(a, b)!;
  close(w.t, -2.455356398286006, 1e-10, 't');
  close(w.df, 24.988529290231416, 1e-8, 'df');
  close(w.p, 0.021378001462866992, 1e-9, 'p');

  const w2 = welchTTest([538e3, 541e3, 536e3], [902e3, 899e3, 905e3, 901e3])!;
  close(w2.t, -189.60869565217388, 1e-7, 't2');
  close(w2.df, 4.436076280455906, 1e-8, 'df2');
  close(w2.p, 7.662610307596103e-10, 1e-15, 'p2');

  const w3 = welchTTest([100, 102, 98, 101], [101, 99, 103, 100, 97])!;
  close(w3.p, 0.8546140471715592, 1e-9, 'p3');

  // Unequal sizes and spreads, where Welch and the pooled Student test part:
  // ttest_ind(equal_var=False) gives t -0.18178, df 6.0549, p 0.86169;
  // equal_var=True would give t -0.13447, df 9, p 0.89599.
  const w4 = welchTTest([101.2, 99.8, 100.5, 100.1], [90.0, 112.0, 95.5, 108.0, 99.0, 118.0, 86.0])!;
  close(w4.t, -0.18177942214797657, 1e-12, 't4');
  close(w4.df, 6.054941564630071, 1e-10, 'df4 (Welch–Satterthwaite, not n1 + n2 - 2 = 9)');
  close(w4.p, 0.8616888236862886, 1e-10, 'p4');
});

test("Welch's t-test edge cases", () => {
  assert.equal(welchTTest([1], [1, 2]), null);
  assert.equal(welchTTest([5, 5], [5, 5])!.p, 1);
  assert.equal(welchTTest([5, 5], [6, 6])!.p, 0);
  assert.equal(welchTTest([1, 2, NaN], [1, NaN]), null, 'NaN values are dropped before counting');
});

test('summarize uses the sample standard deviation and skips NaN', () => {
  const s = summarize([2, 4, 4, 4, 5, 5, 7, 9, NaN]);
  assert.equal(s.n, 8);
  assert.equal(s.mean, 5);
  close(s.sd, 2.138089935299395, 1e-12, 'sd');
  assert.equal(s.median, 4.5);
  assert.equal(summarize([3]).sd, 0);
  assert.equal(summarize([]).n, 0);
});

test('ratio error: relative errors add in quadrature', () => {
  const a = summarize([130, 132, 134]); // mean 132, sd 2
  const b = summarize([99, 100, 101]); // mean 100, sd 1
  const r = ratioWithError(a, b);
  close(r.ratio, 1.32, 1e-12);
  close(r.sd, 1.32 * Math.sqrt((2 / 132) ** 2 + (1 / 100) ** 2), 1e-12);
});

test('Tukey outliers need 4 values and flag beyond 1.5 IQR', () => {
  assert.deepEqual(tukeyOutliers([1, 100, 2]), []);
  assert.deepEqual(tukeyOutliers([100, 101, 99, 100, 60]), [4]);
  assert.deepEqual(tukeyOutliers([100, 101, 99, 100, 102]), []);
});

test('cells group repeats and keep different configurations apart', () => {
  const recs = [
    ...makeRepeats([500e3, 510e3, 490e3], { engine: 'uring' }),
    ...makeRepeats([600e3, 610e3], { engine: 'pt' }),
    makeRecord({ engine: 'uring', options: { fixedBufs: true } }),
    makeRecord({ engine: 'uring', target: { firmware: '2.0' } }),
    makeRecord({ engine: 'uring', status: 'failed', repeat: 3, errorMessage: 'EIO' }),
  ];
  const cells = aggregateCells(recs);
  assert.equal(cells.length, 4);
  assert.equal(cells[0].all.length, 4, 'the failed repeat belongs to the first cell');
  assert.equal(cells[0].n, 3, 'only ok repeats count');
  assert.equal(cells[0].iops.mean, 500e3);
  assert.equal(cells[1].config.engine, 'pt');
  assert.notEqual(cellKey(recs[0]), cellKey(recs[5]), 'fixedbufs is part of the key');
  assert.notEqual(cellKey(recs[0]), cellKey(recs[6]), 'firmware is part of the key');
  assert.equal(cellKey(recs[0]), cellKey(makeRecord({ runtimeS: 60, target: { path: '/dev/other' } })), 'runtime and path are not');
});

test('histogram percentiles: midpoint of the bucket holding the rank, clamped to min/max', () => {
  // Buckets 200 and 300 of the engine's layout (src/histogram.ts).
  const lo200 = bucketLow(200);
  const w200 = bucketLow(201) - lo200;
  const lo300 = bucketLow(300);
  const w300 = bucketLow(301) - lo300;
  assert.ok(w200 > 1 && w300 > w200, 'log-linear buckets widen');
  const hist: Array<[number, number]> = [[lo300, 10], [lo200, 90]]; // unsorted on purpose
  close(histogramPercentile(hist, 50), (lo200 + (w200 - 1) / 2) / 1000, 1e-12, 'p50');
  close(histogramPercentile(hist, 90), (lo200 + (w200 - 1) / 2) / 1000, 1e-12, 'p90: rank 90 is the last of bucket 200');
  close(histogramPercentile(hist, 90.1), (lo300 + (w300 - 1) / 2) / 1000, 1e-12, 'p90.1');
  close(histogramPercentile(hist, 99.99, 0, lo300 / 1000 + 0.001), lo300 / 1000 + 0.001, 1e-12, 'clamped to max');
  close(histogramPercentile(hist, 1, lo200 / 1000 + 1000), lo200 / 1000 + 1000, 1e-9, 'clamped to min');
  assert.ok(Number.isNaN(histogramPercentile([], 50)));
  // 99.9% of 10000 is rank 9990 exactly, not 9991 through binary rounding.
  const h2: Array<[number, number]> = [[bucketLow(100), 9990], [bucketLow(400), 10]];
  close(histogramPercentile(h2, 99.9), (bucketLow(100) + (bucketLow(101) - bucketLow(100) - 1) / 2) / 1000, 1e-12, 'rank rounding');
  // The fixture's histogram reproduces its summary percentiles within a bucket (1.6%).
  const r = makeRecord({ iops: 320_000, ioDepth: 32 }); // mean 100 µs
  close(histogramPercentile(r.histogram, 50), r.latency.p50Us, r.latency.p50Us * 0.016, 'fixture p50');
  close(histogramPercentile(r.histogram, 99.9), r.latency.p999Us, r.latency.p999Us * 0.016, 'fixture p99.9');
});

test('histograms merge bucket by bucket', () => {
  const m = mergeHistograms([[[1000, 2], [2000, 1]], [[2000, 3], [500, 1]]]);
  assert.deepEqual(m, [[500, 1], [1000, 2], [2000, 4]]);
});

test('--lat is part of the key when a record says sample:N or off; all and unsaid are one cell', () => {
  const unsaid = makeRecord();
  assert.equal(unsaid.options.latency, undefined);
  assert.equal(cellKey(unsaid), cellKey(makeRecord({ options: { latency: 'all' } })));
  assert.notEqual(cellKey(unsaid), cellKey(makeRecord({ options: { latency: 'off' } })));
  assert.notEqual(cellKey(makeRecord({ options: { latency: 'sample:64' } })), cellKey(makeRecord({ options: { latency: 'off' } })));
});
