import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { HIST_BUCKETS, bucketIndex, bucketLow, percentile, latencySummary } from '../src/analysis/histogram.js';
import { ROOT } from './cli.js';

/** The bucket lows native/test/histogram_test.c prints with --layout: histogram_bucket_low of every bucket. */
function nativeLayout(): number[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-hist-'));
  try {
    const exe = path.join(dir, 'histogram_test');
    const source = path.join(ROOT, 'native', 'test', 'histogram_test.c');
    const build = spawnSync('cc', ['-std=gnu11', '-D_GNU_SOURCE', '-O1', '-I', path.join(ROOT, 'native', 'core'), source, '-o', exe], { encoding: 'utf8' });
    assert.equal(build.error, undefined, `cannot run cc: ${build.error?.message} (install gcc)`);
    assert.equal(build.status, 0, build.stderr);
    const run = spawnSync(exe, ['--layout'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.trim().split('\n').map(Number);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the TypeScript bucket layout matches the native one', () => {
  const layout = nativeLayout();
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
