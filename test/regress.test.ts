import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError } from '../src/errors.js';
import { toCsv } from '../src/export/csv.js';
import { toJson } from '../src/export/json.js';
import { compareResults, parseMetrics, parseThreshold, reportTable, type RegressRow } from '../src/commands/regress.js';
import { repeatsToDetect } from '../src/analysis/welch.js';
import type { Outcome } from '../src/commands/outcome.js';
import { createProgram, exitCodeFor } from '../src/cli.js';
import type { RunRecord } from '../src/model.js';
import { makeRecord, makeRepeats, tmpDir, type RecordOverrides } from './fixtures.js';

function row(rows: RegressRow[], labelPart: string, metric = 'iops'): RegressRow {
  const r = rows.find((x) => x.label.includes(labelPart) && x.metric === metric);
  assert.ok(r, `no row ${labelPart} / ${metric} in ${rows.map((x) => `${x.label}/${x.metric}`).join(', ')}`);
  return r;
}

/** Repeats with IOPS scaled by `scale` and latency/CPU scaled by `latScale`. */
function cell(iops: number[], o: RecordOverrides = {}, latScale = 1, cpu = 1843): RunRecord[] {
  return makeRepeats(iops, o).map((r) => ({
    ...r,
    cpuNsPerIo: cpu,
    latency: { ...r.latency, p99Us: 200 * latScale },
  }));
}

test('identical files: no regression, every row unchanged', () => {
  const recs = [...cell([500e3, 505e3, 495e3], { engine: 'uring' }), ...cell([600e3, 606e3, 594e3], { engine: 'pt' })];
  const rep = compareResults(recs, recs);
  assert.equal(rep.regressions, 0);
  assert.equal(rep.rows.length, 6, '2 cells × 3 default metrics');
  assert.ok(rep.rows.every((r) => r.verdict === 'unchanged'), rep.rows.map((r) => r.verdict).join());
  assert.ok(rep.rows.every((r) => r.deltaPct === 0));
});

test('20% fewer IOPS, significant: regression; more IOPS: improvement', () => {
  const base = [...cell([500e3, 505e3, 495e3], { engine: 'uring' }), ...cell([600e3, 606e3, 594e3], { engine: 'pt' })];
  const cur = [...cell([400e3, 404e3, 396e3], { engine: 'uring' }), ...cell([700e3, 707e3, 693e3], { engine: 'pt' })];
  const rep = compareResults(base, cur, { metrics: ['iops'] });
  const u = row(rep.rows, 'uring');
  assert.equal(u.verdict, 'regression');
  assert.ok(Math.abs(u.deltaPct + 20) < 1e-9, String(u.deltaPct));
  assert.ok(u.p !== undefined && u.p < 0.001, String(u.p));
  assert.equal(row(rep.rows, 'pt').verdict, 'improvement');
  assert.equal(rep.regressions, 1);
  assert.equal(rep.improvements, 1);
});

test('direction: latency and CPU going up is worse, going down is better', () => {
  const base = cell([500e3, 501e3], { engine: 'uring' }, 1, 1000).map((r, i) => ({ ...r, cpuNsPerIo: 1000 + i }));
  const cur = cell([500e3, 501e3], { engine: 'uring' }, 1.5, 800).map((r, i) => ({ ...r, cpuNsPerIo: 800 + i }));
  // p99: 200 → 300 on both repeats: zero variance, different means → p = 0.
  const rep = compareResults(base, cur);
  assert.equal(row(rep.rows, 'uring', 'lat_p99_us').verdict, 'regression');
  assert.equal(row(rep.rows, 'uring', 'cpu_ns_per_io').verdict, 'improvement');
  assert.equal(row(rep.rows, 'uring', 'iops').verdict, 'unchanged');
});

test('threshold: a 4% drop passes at 5% and fails at 3%', () => {
  const base = cell([500e3, 502e3, 498e3]);
  const cur = cell([480e3, 482e3, 478e3]);
  assert.equal(compareResults(base, cur, { metrics: ['iops'], thresholdPct: 5 }).regressions, 0);
  assert.equal(compareResults(base, cur, { metrics: ['iops'], thresholdPct: 3 }).regressions, 1);
});

test('significance: a noisy 10% drop with ≥2 repeats each is not a regression', () => {
  const base = cell([500e3, 650e3, 350e3]);
  const cur = cell([450e3, 600e3, 300e3]);
  const rep = compareResults(base, cur, { metrics: ['iops'] });
  const r = rep.rows[0];
  assert.equal(r.verdict, 'not significant');
  assert.ok(r.p! > 0.05, String(r.p));
  assert.equal(rep.regressions, 0);
  // δ = 50K at σ = 150K: 2·((1.96 + 0.84)·3)² = 141.3, so 142 repeats on each side.
  assert.equal(r.repeatsToDetect, 142);
  assert.match(reportTable(rep).rows[0][6], /^not significant \(~142 repeats each to detect\)$/);
  // With a single run on one side there is no test: the threshold alone decides.
  const single = compareResults(base, cur.slice(0, 1).map((x) => ({ ...x, iops: 450e3 })), { metrics: ['iops'] });
  assert.equal(single.rows[0].p, undefined);
  assert.equal(single.rows[0].verdict, 'regression');
});

test('repeats to detect: the two-sample power approximation at α 0.05 and power 0.8', () => {
  // σ = √2 (each side), δ = 1: 2·(2.8016·√2)² = 31.4 → 32.
  assert.equal(repeatsToDetect([9, 11], [10, 12]), 32);
  // A large change at a small spread needs the minimum of 2.
  assert.equal(repeatsToDetect([100, 101], [200, 201]), 2);
  assert.equal(repeatsToDetect([100, 101], [100, 101]), undefined, 'no difference to detect');
  assert.equal(repeatsToDetect([100, 100], [200, 200]), undefined, 'no spread to go by');
  assert.equal(repeatsToDetect([100], [200, 201]), undefined);
  // Only for a change past the threshold that is not significant.
  const unchanged = compareResults(cell([500e3, 650e3, 350e3]), cell([499e3, 649e3, 349e3]), { metrics: ['iops'] });
  assert.equal(unchanged.rows[0].verdict, 'unchanged');
  assert.equal(unchanged.rows[0].repeatsToDetect, undefined);
});

test('matching: engine, bs, QD, threads, options and firmware must all agree; one-sided rows are listed', () => {
  const base = [
    ...cell([500e3, 501e3], { engine: 'uring', ioDepth: 32 }),
    ...cell([500e3, 501e3], { engine: 'uring', ioDepth: 64 }),
    ...cell([500e3, 501e3], { engine: 'aio', ioDepth: 32 }),
  ];
  const cur = [
    ...cell([500e3, 501e3], { engine: 'uring', ioDepth: 32, runtimeS: 30, target: { path: '/dev/nvme1n1' } }),
    ...cell([300e3, 301e3], { engine: 'uring', ioDepth: 64, options: { fixedBufs: true } }),
    ...cell([500e3, 501e3], { engine: 'aio', ioDepth: 32, target: { firmware: '2.0' } }),
  ];
  const rep = compareResults(base, cur, { metrics: ['iops'] });
  const verdicts = rep.rows.map((r) => `${r.label} → ${r.verdict}`);
  assert.equal(rep.rows.length, 5, verdicts.join('\n'));
  assert.equal(rep.rows.filter((r) => r.verdict === 'unchanged').length, 1, 'runtime and path do not split a cell');
  assert.equal(rep.rows.filter((r) => r.verdict === 'only in baseline').length, 2, verdicts.join('\n'));
  assert.equal(rep.rows.filter((r) => r.verdict === 'only in current').length, 2, verdicts.join('\n'));
  assert.equal(rep.regressions, 0, 'the slower fixedbufs cell is another configuration, not a regression');
  const only = rep.rows.find((r) => r.verdict === 'only in current' && r.label.includes('fixedbufs'))!;
  assert.ok(only.current && !only.baseline);
  assert.match(rep.rows.find((r) => r.verdict === 'only in current' && r.label.includes('aio'))!.label, /fw 2\.0/);
});

test('a cell that now fails is a regression', () => {
  const base = cell([500e3, 501e3]);
  const cur = [makeRecord({ status: 'failed', errorMessage: 'EIO' })];
  const rep = compareResults(base, cur, { metrics: ['iops'] });
  assert.equal(rep.rows[0].verdict, 'now fails');
  assert.equal(rep.regressions, 1);
});

test('no matching cell at all: a hint names what differs', () => {
  const rep = compareResults(cell([1, 2]), cell([1, 2], { target: { firmware: '9.9' } }), { metrics: ['iops'] });
  assert.match(rep.hint ?? '', /deviceFirmware \(fw 1\.0 vs fw 9\.9\)/);
});

test('threshold and metric parsing', () => {
  assert.equal(parseThreshold('5%'), 5);
  assert.equal(parseThreshold('2.5'), 2.5);
  assert.throws(() => parseThreshold('-3%'), BenchError);
  assert.throws(() => parseThreshold('lots'), BenchError);
  assert.deepEqual(parseMetrics('iops, lat_p99_us').map((m) => m.name), ['iops', 'lat_p99_us']);
  assert.throws(() => parseMetrics('iops,speed'), /unknown metric "speed"/);
});

// --- the command itself, on files -----------------------------------------

async function runRegress(args: string[]): Promise<{ out: string; exitCode: number | undefined; error?: BenchError }> {
  let outcome: Outcome | undefined;
  const program = createProgram((o) => {
    outcome = o;
  });
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  (process.stdout as { write: unknown }).write = (chunk: string | Uint8Array): boolean => {
    out += String(chunk);
    return true;
  };
  let error: BenchError | undefined;
  let exitCode: number | undefined;
  try {
    await program.parseAsync(['node', 'nvmebench', 'regress', ...args]);
  } catch (err) {
    if (err instanceof BenchError) error = err;
    else throw err;
  } finally {
    (process.stdout as { write: unknown }).write = write;
    exitCode = outcome === undefined ? undefined : exitCodeFor(outcome);
  }
  return { out, exitCode, error };
}

test('regress command: exit code, table, --md, CSV against JSON', async () => {
  const dir = tmpDir();
  const base = join(dir, 'base.csv');
  const same = join(dir, 'same.json');
  const slow = join(dir, 'slow.csv');
  const recs = [...cell([500e3, 505e3, 495e3], { engine: 'uring' }), ...cell([900e3, 905e3, 895e3], { engine: 'pt-poll' })];
  writeFileSync(base, toCsv(recs));
  writeFileSync(same, toJson(recs));
  writeFileSync(slow, toCsv(recs.map((r) => (r.engine === 'pt-poll' ? { ...r, iops: r.iops * 0.8 } : r))));

  const ok = await runRegress([base, same]);
  assert.equal(ok.error, undefined);
  assert.equal(ok.exitCode ?? 0, 0, ok.out);
  assert.match(ok.out, /0 regressions/);

  const md = join(dir, 'r.md');
  const bad = await runRegress([base, slow, '--md', md, '--metric', 'iops']);
  assert.equal(bad.exitCode, 1, bad.out);
  assert.match(bad.out, /pt-poll.*iops.*-20\.0%.*REGRESSION/);
  assert.doesNotMatch(bad.out, /uring.*REGRESSION/);
  assert.match(bad.out, /1 regression,/);
  const mdText = readFileSync(md, 'utf8');
  assert.match(mdText, /^\| configuration \| metric \| baseline \| current \| Δ \| p \| verdict \|$/m);
  assert.match(mdText, /\| randread pt-poll 4k QD 32 1 thread \| iops \|.*\| -20\.0% \|.*\| REGRESSION \|/);
});

test('regress command: missing file and schema mismatch are usage errors', async () => {
  const dir = tmpDir();
  const base = join(dir, 'base.csv');
  writeFileSync(base, toCsv(cell([1, 2])));
  const missing = await runRegress([base, join(dir, 'nope.csv')]);
  assert.equal(missing.error?.kind, 'usage');
  assert.match(missing.error!.toLine(), /nope\.csv does not exist/);

  const v9 = join(dir, 'v9.csv');
  writeFileSync(v9, toCsv(cell([1, 2])).replace(/\n3,/g, '\n9,'));
  const mismatch = await runRegress([base, v9]);
  assert.equal(mismatch.error?.kind, 'usage');
  assert.match(mismatch.error!.toLine(), /base\.csv is schema v3 and .*v9\.csv is schema v9/);

  const threshold = await runRegress([base, base, '--threshold', 'big']);
  assert.equal(threshold.error?.kind, 'usage');
});
