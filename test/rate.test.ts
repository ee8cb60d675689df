// Open-loop rates and latency targets (issue 16, sections 3 and 4): the
// options and their refusals, the search over a model of a path (no I/O),
// and real runs on a page-cached file and on nop: a rate above what QD 1
// psync keeps up with shows latency from the due time far above the service
// latency, and says so; a rate well within it sleeps rather than spins; a
// --latency-target search answers for two engines and draws its curve. The
// scheduler itself is unit-tested in C on a synthetic clock (native/test/rate_test.c).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BenchError } from '../src/errors.js';
import type { RunRecord } from '../src/model.js';
import { buildPlan } from '../src/plan/options.js';
import { parseLatencyTarget, parseRate, perWorkerRate } from '../src/plan/rate.js';
import { MAX_PROBES, searchQd, searchRate } from '../src/run/target-search.js';
import { buildResults } from '../src/analysis/results.js';
import { recordToCsvLine, csvHeaderLine } from '../src/export/csv.js';
import { parseCsvRecords } from '../src/export/csv-read.js';
import { runCli } from './cli.js';
import { makeRecord } from './fixtures.js';

let dir = '';
let file = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-rate-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(16 * 1024 * 1024, 0x5a));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const usage = (pattern: RegExp) => (err: unknown) => err instanceof BenchError && err.exitCode === 2 && pattern.test(`${err.message}: ${err.fix}`);

test('--rate-iops: per worker or total:N shared over workers × targets; k and m are powers of 1000', () => {
  assert.deepEqual(parseRate('200k', undefined, 1, 1), { iops: 200_000, total: false, arrival: 'uniform' });
  const total = parseRate('total:1.5m', 'poisson', 3, 2);
  assert.deepEqual(total, { iops: 1_500_000, total: true, arrival: 'poisson' });
  assert.equal(perWorkerRate(total, 6), 250_000);
  assert.equal(perWorkerRate(parseRate('5000', undefined, 4, 1), 4), 5000);
  // 30M over 4 workers is 7.5M each: within the 10M a worker can schedule.
  assert.equal(buildPlan('randread', 'f', { rateIops: 'total:30m', threads: '4' }).rate?.iops, 30_000_000);
  assert.throws(() => parseRate('10000001', undefined, 1, 1), usage(/more than the 10M a worker can schedule/));
  assert.throws(() => parseRate('total:40m', undefined, 2, 1), usage(/--threads 4 or more/));
  assert.throws(() => parseRate('fast', undefined, 1, 1), usage(/is not a rate/));
  assert.throws(() => parseRate('0', undefined, 1, 1), usage(/is not a rate/));
  assert.throws(() => parseRate('total:3', undefined, 4, 1), usage(/less than one I\/O per second/));
  assert.throws(() => buildPlan('randread', 'f', { arrival: 'poisson' }), usage(/--arrival needs --rate-iops/));
  assert.throws(() => buildPlan('randread', 'f', { rateIops: '1000', arrival: 'bursty' }), usage(/not uniform or poisson/));
});

test('--latency-target: a percentile and a latency with its unit', () => {
  assert.deepEqual(parseLatencyTarget('p99:100us'), { percentile: 'p99', field: 'p99Us', limitUs: 100, text: 'p99:100us' });
  assert.equal(parseLatencyTarget('p99.9:2ms').limitUs, 2000);
  assert.equal(parseLatencyTarget('p50:500ns').limitUs, 0.5);
  assert.equal(parseLatencyTarget('P999:1s').field, 'p999Us');
  assert.throws(() => parseLatencyTarget('p99:100'), usage(/has no unit: say ns, us, ms or s/));
  assert.throws(() => parseLatencyTarget('p99:100parsecs'), usage(/not a unit of time/));
  assert.throws(() => parseLatencyTarget('p98:100us'), usage(/is not PERCENTILE:LATENCY/));
  assert.throws(() => parseLatencyTarget('p99:0us'), usage(/no latency at all/));
  assert.throws(() => buildPlan('randread', 'f', { latencyTarget: 'p99:1ms', lat: 'off' }), usage(/--lat off measures none/));
  // The search goes up to the largest --qd given, else 1024.
  assert.equal(buildPlan('randread', 'f', { latencyTarget: 'p99:1ms' }).latencyTarget?.maxQd, 1024);
  assert.equal(buildPlan('randread', 'f', { latencyTarget: 'p99:1ms', qd: '4,64' }).latencyTarget?.maxQd, 64);
});

/** A path that scales with depth up to 400K IOPS; p99 by Little's law, twice the mean. */
function modelQd(qd: number): RunRecord {
  const iops = Math.min(qd * 100_000, 400_000);
  return makeRecord({ ioDepth: qd, iops, latency: { p99Us: ((qd / iops) * 1e6) * 2 } });
}

test('QD search: doubling, then bisection between the deepest that held and the first that did not', async () => {
  const target = { ...parseLatencyTarget('p99:30us'), maxQd: 1024 };
  const asked: number[] = [];
  const answer = await searchQd(async (qd) => (asked.push(qd), modelQd(qd)), target, () => false);
  // 1, 2, 4 hold (20 µs), 8 misses (40 µs); 6 holds (30 µs), 7 misses.
  assert.deepEqual(asked, [1, 2, 4, 8, 6, 7]);
  assert.equal(answer.best?.ioDepth, 4);
  assert.equal(answer.best?.iops, 400_000);
  assert.match(answer.ended, /QD 6 holds the target, QD 7 does not/);
  assert.deepEqual(answer.probes.map((p) => p.pass), [true, true, true, false, true, false]);
});

test('QD search: ends when depth stops adding IOPS, when QD 1 misses, and after at most MAX_PROBES runs', async () => {
  const loose = { ...parseLatencyTarget('p99:1s'), maxQd: 4096 };
  const saturated = await searchQd(async (qd) => modelQd(qd), loose, () => false);
  assert.deepEqual(saturated.probes.map((p) => p.ioDepth), [1, 2, 4, 8]);
  assert.match(saturated.ended, /IOPS stopped growing with depth/);
  const tight = await searchQd(async (qd) => modelQd(qd), { ...parseLatencyTarget('p99:1us'), maxQd: 1024 }, () => false);
  assert.equal(tight.best, undefined);
  assert.match(tight.ended, /QD 1 already misses/);
  // A path that always scales: doubling alone would take 13 runs to QD 4096.
  const scaling = await searchQd(async (qd) => makeRecord({ ioDepth: qd, iops: qd * 1000, latency: { p99Us: 1 } }), loose, () => false);
  assert.equal(scaling.probes.length, MAX_PROBES);
  assert.match(scaling.ended, /stopped after 12 probes/);
  assert.equal(scaling.best?.ioDepth, 2048);
  const sync = await searchQd(async (qd) => modelQd(qd), loose, () => false, true);
  assert.equal(sync.probes.length, 1);
});

test('rate search: the highest offered rate met, open loop judged by the latency from the due time and the rate achieved', async () => {
  // Keeps up to 300K; the latency from the due time holds to 250K.
  const model = (rate: number): RunRecord => {
    const rec = makeRecord({ ioDepth: 32, iops: Math.min(rate, 300_000), latency: { p99Us: 5 } });
    const sched = { minUs: 1, meanUs: 5, p50Us: 4, p90Us: 6, p99Us: rate <= 250_000 ? 10 : 1000, p999Us: 2000, maxUs: 3000 };
    return { ...rec, rate: { arrival: 'uniform', offeredIops: rate, lateIos: 0, maxLagUs: 0, schedLatency: sched, schedHistogram: [] } };
  };
  const target = { ...parseLatencyTarget('p99:100us'), maxQd: 32 };
  const answer = await searchRate(async (_qd, rate) => model(rate!), target, 32, 1_000_000, () => false);
  const rates = answer.probes.map((p) => p.offeredIops);
  assert.deepEqual(rates.slice(0, 3), [1_000_000, 500_000, 250_000]);
  assert.equal(answer.best?.offeredIops, 250_000);
  assert.ok(answer.probes.length <= MAX_PROBES);
  // Bisection narrowed the bound above to within 5% of it.
  const misses = answer.probes.filter((p) => !p.pass).map((p) => p.offeredIops!);
  assert.ok((Math.min(...misses) - 250_000) / Math.min(...misses) <= 0.05, `${misses}`);
  // The service latency (5 µs) would have passed 1M: the due-time latency is what counts.
  assert.match(answer.probes[0].why, /p99 1000\.0 µs over 100 µs/);
  // A rate the path does not keep up with fails even when its latency holds.
  const short = await searchRate(async (_qd, rate) => {
    const m = model(Math.min(rate!, 200_000));
    return { ...m, iops: Math.min(rate!, 150_000), rate: { ...m.rate!, offeredIops: rate! } };
  }, target, 32, 200_000, () => false);
  assert.match(short.probes[0].why, /achieved 150000 of 200000 IOPS offered/);
});

function runJson(args: string[]): { records: RunRecord[]; stdout: string; stderr: string } {
  const out = path.join(dir, `r${Math.random().toString(36).slice(2)}.json`);
  const r = runCli([...args, '--json', out, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  return { records: (JSON.parse(fs.readFileSync(out, 'utf8')) as { records: RunRecord[] }).records, stdout: r.stdout, stderr: r.stderr };
}

test('open loop above what QD 1 psync keeps up with: latency from the due time far above the service latency, late I/Os, a warning', () => {
  const { records, stdout } = runJson(['randread', '--engine', 'psync', '--rate-iops', '5m', '--runtime', '500ms', '--buffered', file]);
  const r = records[0];
  assert.ok(r.rate, 'the record has the open-loop figures');
  assert.equal(r.rate.offeredIops, 5_000_000);
  assert.ok(r.iops < 0.95 * 5_000_000, `achieved ${r.iops}`);
  // Every I/O after the first waits for the one slot: nearly all are late, and their latency from the due time grows through the run.
  assert.ok(r.rate.lateIos > 0.9 * r.ios, `late ${r.rate.lateIos} of ${r.ios}`);
  assert.ok(r.rate.schedLatency.p50Us > 10 * r.latency.p50Us, `sched p50 ${r.rate.schedLatency.p50Us} µs, service p50 ${r.latency.p50Us} µs`);
  assert.ok(r.rate.schedLatency.maxUs > 50_000, `the last I/Os were due long before: ${r.rate.schedLatency.maxUs} µs`);
  assert.ok(r.rate.schedHistogram.length > 0);
  assert.match(stdout, /sched p99 µs/);
  assert.match(stdout, /the path did not keep up with the offered rate: .* achieved of 5\.00M offered/);
});

test('open loop well within capacity: the rate is met, nothing waits for a slot, and the worker sleeps between I/Os', () => {
  const { records } = runJson(['randread', '--engine', 'nop', '--rate-iops', '2000', '--arrival', 'poisson', '--qd', '4', '--runtime', '1s']);
  const r = records[0];
  assert.equal(r.rate?.arrival, 'poisson');
  assert.ok(Math.abs(r.iops - 2000) < 300, `poisson at 2000/s achieved ${r.iops}`);
  assert.equal(r.rate?.lateIos, 0);
  // 500 µs between I/Os, of which the last 20 µs are spun: a spinning loop would use a whole CPU.
  assert.ok(r.cpuUserPct + r.cpuSysPct < 40, `CPU ${r.cpuUserPct + r.cpuSysPct}%`);
  const uniform = runJson(['randread', '--engine', 'psync', '--rate-iops', 'total:3000', '--threads', '2', '--runtime', '1s', '--buffered', file]).records[0];
  assert.equal(uniform.rate?.offeredIops, 3000);
  assert.ok(Math.abs(uniform.iops - 3000) < 150, `uniform at 3000/s over 2 workers achieved ${uniform.iops}`);
});

test('--latency-target on two engines of a page-cached file: an answer each, every probe a record, the curve plotted', () => {
  const svg = path.join(dir, 'curve.svg');
  const { records, stdout } = runJson(['randread', '--engine', 'nop,uring', '--qd', '8', '--latency-target', 'p99:50ms', '--runtime', '200ms', '--buffered', '--plot', svg, file]);
  assert.match(stdout, /latency target p99:50ms/);
  const answer = stdout.slice(stdout.indexOf('latency target p99:50ms'));
  for (const engine of ['nop', 'uring']) {
    const line = answer.split('\n').find((l) => l.includes(`│ ${engine} `));
    assert.ok(line && !/│ none │/.test(line), `an answer for ${engine}: ${answer}`);
    const probes = records.filter((r) => r.engine === engine);
    assert.ok(probes.length >= 2 && probes.length <= MAX_PROBES, `${engine}: ${probes.length} probes`);
    assert.equal(probes[0].ioDepth, 1);
    assert.ok(probes.every((p) => p.ioDepth <= 8));
  }
  const text = fs.readFileSync(svg, 'utf8');
  assert.match(text, /^<svg/);
  assert.match(text, /p99 latency/);
  assert.match(text, /IOPS/);
  // The same curve from the results file.
  const json = path.join(dir, 'search.json');
  fs.writeFileSync(json, JSON.stringify({ schemaVersion: 3, generator: 'nvmebench test', records, warnings: [] }));
  const again = runCli(['plot', '--curve', 'p99', json, '-o', path.join(dir, 'again.svg')]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(fs.readFileSync(path.join(dir, 'again.svg'), 'utf8'), /p99 latency/);
});

test('CSV v3: the open-loop columns round-trip; a closed-loop row leaves them empty', () => {
  const sched = { minUs: 3, meanUs: 40, p50Us: 30, p90Us: 60, p99Us: 250, p999Us: 900, maxUs: 1200 };
  const open = { ...makeRecord({ ioDepth: 8, iops: 99_000 }), rate: { arrival: 'poisson' as const, offeredIops: 100_000, lateIos: 17, maxLagUs: 800, schedLatency: sched, schedHistogram: [] } };
  const closed = makeRecord({ engine: 'psync', ioDepth: 1 });
  const csv = csvHeaderLine() + recordToCsvLine(open) + recordToCsvLine(closed);
  assert.match(csvHeaderLine(), /rate_offered_iops,rate_arrival,rate_late_ios,rate_max_lag_us,sched_lat_mean_us,sched_lat_p50_us/);
  const back = parseCsvRecords(csv, 'test.csv');
  assert.equal(back[0].rate?.offeredIops, 100_000);
  assert.equal(back[0].rate?.arrival, 'poisson');
  assert.equal(back[0].rate?.lateIos, 17);
  assert.equal(back[0].rate?.schedLatency.p99Us, 250);
  assert.equal(back[1].rate, undefined);
  // Two rates of one configuration are two cells, not two repeats.
  const other = { ...open, rate: { ...open.rate, offeredIops: 50_000 } };
  assert.equal(buildResults([open, other]).cells.length, 2);
});
