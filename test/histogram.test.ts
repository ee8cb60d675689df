import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HIST_BUCKETS, bucketIndex, bucketLow, percentile, latencySummary } from '../src/analysis/histogram.js';
import { native } from '../src/native/addon.js';

test('the TypeScript bucket layout matches the native one', () => {
  const layout = native().histogramLayout();
  assert.equal(layout.length, HIST_BUCKETS);
  for (let i = 0; i < HIST_BUCKETS; i++) assert.equal(bucketLow(i), layout[i], `bucket ${i}`);
});

test('bucketIndex inverts bucketLow', () => {
  for (let i = 0; i < HIST_BUCKETS; i++) assert.equal(bucketIndex(bucketLow(i)), i);
  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(1e15), HIST_BUCKETS - 1);
});

test('percentiles stay within the 1.6% bucket error of the exact values', () => {
  // A skewed distribution from 2 µs to several ms, deterministic.
  const values: number[] = [];
  let x = 12345;
  for (let i = 0; i < 100_000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const u = x / 2 ** 31;
    values.push(Math.round(2000 + 50_000 * -Math.log(1 - u * 0.9999)));
  }
  const counts = new Array<number>(HIST_BUCKETS).fill(0);
  for (const v of values) counts[bucketIndex(v)]++;
  const sorted = [...values].sort((a, b) => a - b);
  for (const p of [50, 90, 99, 99.9]) {
    const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1];
    const got = percentile(counts, p);
    assert.ok(Math.abs(got - exact) / exact < 0.016, `p${p}: got ${got}, exact ${exact}`);
  }
});

test('summaries clamp to the observed min and max', () => {
  const counts = new Array<number>(HIST_BUCKETS).fill(0);
  counts[bucketIndex(100_000)] = 10;
  const s = latencySummary({ counts, count: 10, sumNs: 1_000_000, minNs: 100_000, maxNs: 100_000 });
  assert.equal(s.p50Us, 100);
  assert.equal(s.p999Us, 100);
  assert.equal(s.meanUs, 100);
  assert.deepEqual(latencySummary({ counts, count: 0, sumNs: 0, minNs: 0, maxNs: 0 }).p99Us, 0);
});
