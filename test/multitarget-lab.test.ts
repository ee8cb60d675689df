// Several targets at once, for real, in one `nvmebench lab` boot: three
// emulated controllers with two namespaces each, the first two on the nvme
// driver (four namespaces), the third on vfio-pci. Every engine over all four
// namespaces with --verify, the aggregate equal to the sum of the rows; then
// the second controller bound to vfio-pci too and both vfio controllers run at
// once. Linux numbers ngXnY in discovery order, not by nsid, so the steps name
// all four nodes of the two controllers and read the nsids back from sysfs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { RunRecord } from '../src/model.js';
import { ROOT, csvRows, runCli } from './cli.js';
import { encodeSteps, parseResults, type Step, type StepResult } from '../src/lab/steps.js';

const NODES = ['/dev/ng0n1', '/dev/ng0n2', '/dev/ng1n1', '/dev/ng1n2'];
const KERNEL_BDF = '0000:00:11.0'; // the second controller (nvme1): bound to vfio-pci for the last steps
const VFIO_BDF = '0000:00:12.0'; // the third, on vfio-pci from boot (--vfio)
const REGION = ['--bs', '4k', '--size', '1m', '--qd', '4'];

const LAB_PLAN = {
  planVersion: 1,
  options: { engine: 'pt', size: '1m', verify: true },
  runs: [
    { name: 'every-ns', workload: 'randread', targets: 'all-nvme', options: { ios: 200 } },
    { name: 'second-ns', workload: 'randread', namespaces: { model: 'QEMU*', nsid: 2 }, options: { ios: 100 } },
  ],
};

const STEPS: Step[] = [
  { name: 'nsids', sh: 'for n in /sys/block/nvme*n*; do echo "$(basename $n) $(cat $n/nsid 2>/dev/null || echo ?)"; done' },
  // Every block of the 1 MiB region written once per engine (sequential, 256 I/Os a target), read back as it goes.
  // CSV, not JSON: 35 records' histograms would take the console a long while.
  { name: 'write', args: ['write', '--engine', 'all', ...REGION, '--ios', '256', '--verify', '--verify-seed', '7', '--quiet', '--format', 'csv', ...NODES] },
  { name: 'read', args: ['randread', '--engine', 'all', ...REGION, '--ios', '300', '--verify', '--verify-seed', '7', '--quiet', '--format', 'csv', ...NODES] },
  // The figures for the report: time-based, pt, all four at once.
  { name: 'figures', args: ['randread', '--engine', 'pt', '--qd', '8', '--runtime', '2', '--cpus', 'auto', '--quiet', '--format', 'json', ...NODES] },
  { name: 'same-namespace', args: ['randread', '--engine', 'uring', '--ios', '10', '/dev/ng0n1', '/dev/nvme0n1'] },
  { name: 'one-refused', args: ['randwrite', '--engine', 'pt', '--ios', '10', '/dev/ng0n1', '/dev/ng9n9'] },
  // Jobs side by side (issue 16 §5): a QD1 pt-poll reader beside a QD8 uring writer, on two namespaces and on one
  // (regions apart), --verify on both; the reader's region is the one 'write' stamped with seed 7.
  { name: 'jobs-two', args: ['randread', '--verify', '--ios', '400', '--quiet', '--format', 'csv', '--job', 'name=reader,engine=pt-poll,qd=1,size=1m,target=/dev/ng0n1', '--job', 'name=writer,workload=randwrite,engine=uring,qd=8,size=1m,target=/dev/ng1n1'] },
  { name: 'jobs-same', args: ['randread', '--verify', '--ios', '400', '--quiet', '--format', 'csv', '--job', 'name=reader,engine=pt-poll,qd=1,size=1m', '--job', 'name=writer,workload=randwrite,engine=uring,qd=8,offset=1m,size=1m', '/dev/ng0n2'] },
  { name: 'jobs-overlap', args: ['randread', '--verify', '--ios', '10', '--job', 'name=reader,size=2m', '--job', 'name=writer,workload=randwrite,offset=1m,size=1m', '/dev/ng0n2'] },
  // Plans by role: every namespace of the host, and a selector by model and nsid.
  { name: 'plan-file', sh: `printf '%s' '${JSON.stringify(LAB_PLAN)}' > /tmp/plan.json` },
  { name: 'plan-run', args: ['plan', 'run', '/tmp/plan.json', '--quiet', '--format', 'csv'] },
  // Issue 16 on an emulated namespace: an open-loop rate the path keeps up with, one it cannot, and a time series with a steady-state rule.
  { name: 'rate-met', args: ['randread', '--engine', 'pt', '--qd', '4', '--rate-iops', '500', '--runtime', '2', '--quiet', '--format', 'json', '/dev/ng0n1'] },
  { name: 'rate-over', args: ['randread', '--engine', 'pt', '--qd', '1', '--rate-iops', '50000', '--runtime', '2', '--quiet', '--format', 'json', '/dev/ng0n1'] },
  { name: 'series', args: ['randread', '--engine', 'pt-poll', '--qd', '4', '--runtime', '3', '--interval', '100ms', '--steady-state', 'iops:50%:3', '--quiet', '--format', 'json', '/dev/ng1n1'] },
  { name: 'bind', args: ['vfio', 'bind', KERNEL_BDF] },
  { name: 'vfio-write', args: ['write', '--engine', 'vfio', '--bs', '64k', '--qd', '8', '--size', '4m', '--ios', '64', '--verify', '--verify-seed', '9', '--quiet', '--format', 'json', KERNEL_BDF, VFIO_BDF] },
  { name: 'vfio-read', args: ['randread', '--engine', 'vfio', '--bs', '64k', '--qd', '8', '--size', '4m', '--ios', '200', '--verify', '--verify-seed', '9', '--quiet', '--format', 'json', KERNEL_BDF, VFIO_BDF] },
];

let booted: Map<string, StepResult> | undefined;
let bootError: unknown;
/** Boot once, on first use; a failed boot fails every test without booting again. */
function results(): Map<string, StepResult> {
  if (bootError) throw bootError;
  if (booted) return booted;
  try {
    return boot();
  } catch (err) {
    bootError = err;
    throw err;
  }
}

function boot(): Map<string, StepResult> {
  const started = Date.now();
  const driver = path.join(ROOT, 'dist', 'src', 'lab', 'driver.js');
  const lab = runCli(['lab', '--quiet', '--timeout', '420', '--controllers', '3', '--namespaces', '2', '--vfio', '--exec', `${process.execPath} ${driver} ${encodeSteps(STEPS)}`], { timeoutMs: 540_000 });
  booted = parseResults(lab.stdout);
  const missing = STEPS.filter((s) => !booted!.has(s.name)).map((s) => s.name);
  assert.deepEqual(missing, [], `the guest did not finish (lab exit ${lab.code}):\n${lab.stderr.slice(-3000)}\n${lab.stdout.slice(-3000)}`);
  process.stdout.write(`# lab multitarget: ${Math.round((Date.now() - started) / 1000)}s (${[...booted.values()].map((r) => `${r.name} ${(r.ms / 1000).toFixed(1)}s`).join(', ')})\n`);
  return booted;
}

function step(name: string, code: number): StepResult {
  const r = results().get(name)!;
  assert.equal(r.code, code, `${name}: exit ${r.code}, expected ${code}\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return r;
}

const records = (r: StepResult) => (JSON.parse(r.stdout) as { records: RunRecord[] }).records;

/** Records from --format csv, with the fields checkCells reads (no histograms: CSV holds none). */
function csvRecords(r: StepResult): RunRecord[] {
  return csvRows(r.stdout).map((row) => ({
    engine: row.engine,
    aggregate: row.aggregate === 'true' || undefined,
    targetIndex: row.target_index === '' ? undefined : Number(row.target_index),
    status: row.status,
    errorMessage: row.error_message,
    errors: Number(row.errors),
    ios: Number(row.ios),
    iops: Number(row.iops),
    bandwidthBps: Number(row.bw_bytes_s),
    verifiedBlocks: Number(row.verified_blocks),
    cpuUserPct: Number(row.cpu_usr_pct),
    cpuSysPct: Number(row.cpu_sys_pct),
    target: { path: row.target },
    histogram: [],
  }) as unknown as RunRecord);
}

/** Per cell: one row per target in order, then the aggregate, which is their sum. */
function checkCells(recs: RunRecord[], targets: string[], engines: string[]): void {
  const cells = [...new Set(recs.map((r) => r.engine))];
  assert.deepEqual(cells, engines);
  for (const engine of cells) {
    const rows = recs.filter((r) => r.engine === engine && !r.aggregate);
    const agg = recs.filter((r) => r.engine === engine && r.aggregate);
    assert.equal(agg.length, 1, `${engine}: one aggregate`);
    assert.deepEqual(rows.map((r) => r.targetIndex), targets.map((_, i) => i));
    for (const r of rows) {
      assert.equal(r.status, 'ok', `${engine} ${r.target.path}: ${r.errorMessage}`);
      assert.equal(r.errors, 0);
      assert.ok(r.ios > 0);
    }
    for (const k of ['ios', 'iops', 'bandwidthBps', 'verifiedBlocks', 'cpuUserPct', 'cpuSysPct'] as const) {
      const total = rows.reduce((s, r) => s + r[k], 0);
      assert.ok(Math.abs(agg[0][k] - total) <= 1e-9 * Math.max(1, total), `${engine} ${k}: aggregate ${agg[0][k]}, rows ${total}`);
    }
    // The merged histogram holds every timed I/O of every target (JSON only; CSV holds no histograms).
    assert.equal(agg[0].histogram.reduce((s, [, c]) => s + c, 0), rows.reduce((s, r) => s + r.histogram.reduce((t, [, c]) => t + c, 0), 0));
  }
}

const ALL = ['psync', 'aio', 'uring', 'uring-poll', 'pt', 'pt-poll', 'ioctl'];

test('lab: four namespaces of two controllers, named in discovery order, each a distinct nsid per controller', () => {
  const lines = step('nsids', 0).stdout.trim().split('\n').map((l) => l.split(' '));
  const byCtrl = new Map<string, string[]>();
  for (const [name, nsid] of lines) byCtrl.set(name.replace(/n\d+$/, ''), [...(byCtrl.get(name.replace(/n\d+$/, '')) ?? []), nsid]);
  assert.deepEqual([...byCtrl.keys()].sort(), ['nvme0', 'nvme1']);
  for (const nsids of byCtrl.values()) assert.deepEqual(nsids.sort(), ['1', '2']);
});

test('lab: every engine writes all four namespaces at once with --verify, then reads them back checked; aggregate = sum of rows', () => {
  const write = csvRecords(step('write', 0));
  checkCells(write, NODES, ALL);
  for (const r of write.filter((x) => !x.aggregate)) assert.ok(r.verifiedBlocks >= 256, `${r.engine} ${r.target.path}: every written block read back`);
  const read = csvRecords(step('read', 0));
  checkCells(read, NODES, ALL);
  for (const r of read.filter((x) => !x.aggregate)) assert.ok(r.verifiedBlocks >= 300, `${r.engine} ${r.target.path}: ${r.verifiedBlocks} checked`);
});

test('lab: the figures of a 4-namespace run, per target and aggregate, measured over one interval', () => {
  const recs = records(step('figures', 0));
  checkCells(recs, NODES, ['pt']);
  const rows = recs.filter((r) => !r.aggregate);
  const span = Math.max(...rows.map((r) => r.runtimeS)) - Math.min(...rows.map((r) => r.runtimeS));
  assert.ok(span < 0.3, `the targets measured together (runtimes differ by ${span.toFixed(3)} s)`);
  assert.match(step('figures', 0).stderr, /--cpus auto: \/dev\/ng0n1/);
  for (const r of recs) {
    process.stdout.write(`# ${r.aggregate ? 'aggregate ' : r.target.path.padEnd(10)}: ${Math.round(r.iops)} IOPS, p50 ${r.latency.p50Us.toFixed(1)} µs, p99 ${r.latency.p99Us.toFixed(1)} µs, cpu ${(r.cpuUserPct + r.cpuSysPct).toFixed(0)}%, runtime ${r.runtimeS.toFixed(3)} s\n`);
  }
});

test('lab: one namespace named twice (block and char node), and one missing target, refuse the run naming it', () => {
  assert.match(step('same-namespace', 2).stderr, /\/dev\/nvme0n1 is the same target as \/dev\/ng0n1/);
  assert.match(step('one-refused', 2).stderr, /ng9n9/);
});

test('lab: two vfio controllers at once, written and read back with --verify', () => {
  step('bind', 0);
  const write = records(step('vfio-write', 0));
  checkCells(write, [KERNEL_BDF, VFIO_BDF], ['vfio']);
  const read = records(step('vfio-read', 0));
  checkCells(read, [KERNEL_BDF, VFIO_BDF], ['vfio']);
  assert.deepEqual(read.filter((r) => !r.aggregate).map((r) => r.target.path), [KERNEL_BDF, VFIO_BDF]);
});

test('lab: jobs side by side, a QD1 pt-poll reader beside a QD8 uring writer, on two namespaces and on one (regions apart), --verify on both', () => {
  for (const [name, targets] of [['jobs-two', ['/dev/ng0n1', '/dev/ng1n1']], ['jobs-same', ['/dev/ng0n2', '/dev/ng0n2']]] as const) {
    const rows = csvRows(step(name, 0).stdout);
    assert.deepEqual(rows.map((r) => `${r.job}:${r.workload}:${r.engine}:${r.qd}:${r.offset}`), ['reader:randread:pt-poll:1:0', `writer:randwrite:uring:8:${name === 'jobs-same' ? 1 << 20 : 0}`]);
    assert.deepEqual(rows.map((r) => r.target), [...targets].map((t, i) => (i === 1 ? t.replace('/dev/ng', '/dev/nvme') : t)));
    assert.equal(rows[0].run_id, rows[1].run_id);
    for (const r of rows) {
      assert.equal(r.status, 'ok', `${name} ${r.job}: ${r.error_message}`);
      assert.equal(r.aggregate, 'false', 'no aggregate across jobs');
      assert.ok(Number(r.ios) >= 400 && Number(r.verified_blocks) > 0, `${name} ${r.job}: ${r.ios} I/Os, ${r.verified_blocks} checked`);
    }
    process.stdout.write(`# ${name}: ${rows.map((r) => `${r.job} ${r.engine} QD${r.qd} ${Math.round(Number(r.iops))} IOPS p99 ${Number(r.lat_p99_us).toFixed(1)} µs`).join('; ')}\n`);
  }
  assert.match(step('jobs-overlap', 2).stderr, /jobs reader and writer overlap on \/dev\/ng0n2 .* and writer writes/);
});

test('lab: a plan by role: all-nvme names the four namespaces, a model and nsid selector the two second ones, one run id', () => {
  step('plan-file', 0);
  const rows = csvRows(step('plan-run', 0).stdout);
  const every = rows.filter((r) => r.plan_entry === 'every-ns' && r.aggregate === 'false');
  assert.deepEqual(every.map((r) => r.target).sort(), [...NODES].sort());
  // Linux names the nodes in discovery order: which two hold nsid 2 comes from sysfs.
  const nsid2 = step('nsids', 0).stdout.trim().split('\n').map((l) => l.split(' ')).filter(([, nsid]) => nsid === '2').map(([name]) => `/dev/${name.replace(/^nvme/, 'ng')}`);
  const second = rows.filter((r) => r.plan_entry === 'second-ns' && r.aggregate === 'false');
  assert.deepEqual(second.map((r) => r.target).sort(), nsid2.filter((n) => NODES.includes(n)).sort());
  assert.equal(new Set(rows.map((r) => r.run_id)).size, 1);
  for (const r of rows) assert.equal(r.status, 'ok', `${r.plan_entry} ${r.target}: ${r.error_message}`);
});

test('lab: open loop on pt: a rate the path keeps up with is met, one it cannot is said (late I/Os, latency from the due time far above the service latency)', () => {
  const [met] = records(step('rate-met', 0));
  assert.equal(met.status, 'ok', met.errorMessage);
  assert.ok(met.rate, 'the record carries the schedule');
  assert.equal(met.rate!.offeredIops, 500);
  assert.ok(met.iops > 450 && met.iops < 550, `achieved ${met.iops} of 500/s offered`);
  assert.ok(met.rate!.schedLatency.p50Us >= met.latency.p50Us, 'latency from the due time includes the service latency');
  const [over] = records(step('rate-over', 0));
  assert.equal(over.status, 'ok', over.errorMessage);
  assert.ok(over.iops < 0.5 * 50000, `a QD 1 emulated path cannot do 50K/s (${over.iops})`);
  assert.ok(over.rate!.lateIos > 0.5 * over.ios, `most I/Os waited for the slot: ${over.rate!.lateIos} of ${over.ios}`);
  assert.ok(over.rate!.schedLatency.p50Us > 10 * over.latency.p50Us, `due-time p50 ${over.rate!.schedLatency.p50Us} µs against service p50 ${over.latency.p50Us} µs`);
  process.stdout.write(`# open loop (lab pt): 500/s offered, ${Math.round(met.iops)} achieved, service p50 ${met.latency.p50Us.toFixed(0)} µs, from due time p50 ${met.rate!.schedLatency.p50Us.toFixed(0)} µs; 50K/s offered at QD 1: ${Math.round(over.iops)} achieved, ${over.rate!.lateIos} of ${over.ios} late, service p50 ${over.latency.p50Us.toFixed(0)} µs, from due time p50 ${over.rate!.schedLatency.p50Us.toFixed(0)} µs\n`);
});

test('lab: a time series on pt-poll: 100 ms intervals that add up to the run, and the steady-state verdict recorded with its rule', () => {
  const [r] = records(step('series', 0));
  assert.equal(r.status, 'ok', r.errorMessage);
  // A steady run stops at its first steady window (3 intervals); one that never settles runs the 3 s (about 30).
  assert.ok(r.series && r.series.points.length >= 3, `intervals: ${r.series?.points.length}`);
  if (!r.steady?.steady) assert.ok(r.series!.points.length >= 20, `not steady, yet only ${r.series!.points.length} intervals in 3 s`);
  assert.equal(r.series!.intervalMs, 100);
  assert.ok(r.steady, 'the steady-state outcome is recorded');
  assert.equal(r.steady!.rule, 'iops:50%:3');
  // Steady or not, the record reports a window of 3 intervals, and the series covers every I/O of the run up to where it stopped.
  assert.ok(Math.abs(r.steady!.windowS - 0.3) < 0.05, `window ${r.steady!.windowS} s`);
  process.stdout.write(`# series (lab pt-poll): ${r.series!.points.length} intervals, steady ${r.steady!.steady} at ${r.steady!.windowStartS.toFixed(2)} s for ${r.steady!.windowS.toFixed(2)} s, ${Math.round(r.iops)} IOPS\n`);
});
