// FDP without a device: the options and their refusals, the lab's QEMU
// arguments for --fdp, the checks against what a controller reports (made-up
// nvmeFdpInfo answers: FDPS clear, FDP disabled, a handle index past the
// configuration), the write amplification of two statistics readings, and
// waf through CSV (v3 written, v2 still read) and the results. The native
// side (command layouts, log parsers, the write tag, the schemes) has its own
// test: native/test/nvme_fdp_test.c; the device side is test/fdp-lab.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BenchError } from '../src/errors.js';
import { buildFdpPlan, parsePlids } from '../src/plan/fdp.js';
import { buildPlan } from '../src/plan/options.js';
import { defaultLabOptions, parseFdpControllers } from '../src/lab/options.js';
import { planLab, qemuArgs } from '../src/lab/plan.js';
import { describeFdp, fdpDelta, fdpSummary, resolvePlacementIds } from '../src/target/fdp.js';
import type { NvmeFdpInfo } from '../src/native/addon.js';
import type { Target } from '../src/target/target.js';
import { csvLine, parseCsv, toCsv, CSV_V3_COLUMNS } from '../src/export/csv.js';
import { parseCsvRecords } from '../src/export/csv-read.js';
import { buildResults } from '../src/analysis/results.js';
import { findMetric } from '../src/analysis/stats.js';
import { makeRecord } from './fixtures.js';
import { runCli } from './cli.js';

function usage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof BenchError && err.kind === 'usage' && re.test(err.toLine()));
}

test('--plids: indexes and ranges, each once; garbage, empty and over 128 refused', () => {
  assert.deepEqual(parsePlids('0,1,2'), [0, 1, 2]);
  assert.deepEqual(parsePlids('3-5,4,0'), [3, 4, 5, 0]);
  usage(() => parsePlids('x'), /--plids item 'x'/);
  usage(() => parsePlids(','), /--plids is empty/);
  usage(() => parsePlids('5-2'), /not a range/);
  usage(() => parsePlids('0-200'), /more than 128/);
});

test('--fdp: needs a writing workload and FDP engines; --plids and --fdp-scheme need --fdp', () => {
  assert.deepEqual(buildFdpPlan({ fdp: true, plids: '0,1', fdpScheme: 'per-worker' }, ['pt', 'vfio'], 0), { plids: [0, 1], scheme: 'per-worker' });
  assert.deepEqual(buildFdpPlan({ fdp: true }, [], 50), { plids: undefined, scheme: 'roundrobin' });
  assert.equal(buildFdpPlan({}, ['uring'], 0), undefined);
  usage(() => buildFdpPlan({ plids: '0' }, [], 0), /--plids needs --fdp/);
  usage(() => buildFdpPlan({ fdpScheme: 'random' }, [], 0), /--fdp-scheme needs --fdp/);
  usage(() => buildFdpPlan({ fdp: true }, [], 100), /only reads/);
  usage(() => buildFdpPlan({ fdp: true }, ['pt', 'uring'], 0), /--engine uring cannot carry a placement identifier/);
  usage(() => buildFdpPlan({ fdp: true }, 'all', 0), /--engine all/);
  usage(() => buildFdpPlan({ fdp: true, fdpScheme: 'lifo' }, ['pt'], 0), /--fdp-scheme lifo is not a scheme.*roundrobin, random, per-worker/);
  assert.deepEqual(buildPlan('randwrite', '/dev/ng0n1', { fdp: true, plids: '1' }).fdp, { plids: [1], scheme: 'roundrobin' });
});

test('the CLI refuses bad FDP options with exit 2 and one line, before touching a device', () => {
  for (const [args, re] of [
    [['randread', '--fdp', '--engine', 'pt', '/dev/ng0n1'], /--fdp tags writes, and this workload only reads/],
    [['randwrite', '--plids', '0', '/dev/ng0n1'], /--plids needs --fdp/],
    [['randwrite', '--fdp', '--engine', 'psync', '/dev/nvme0n1'], /--fdp tags the writes of pt, pt-poll, ioctl, vfio only/],
  ] as Array<[string[], RegExp]>) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('lab --fdp: the listed controllers in FDP subsystems with 8 handles in every namespace; the others untouched', () => {
  assert.deepEqual(parseFdpControllers(true, 3), [0, 1, 2]);
  assert.deepEqual(parseFdpControllers('2,0,2', 3), [2, 0]);
  assert.deepEqual(parseFdpControllers(undefined, 3), []);
  usage(() => parseFdpControllers('3', 3), /no controller 3/);
  const o = { ...defaultLabOptions(), controllers: 2, namespaces: 2, fdp: [0] };
  const args = qemuArgs(o, planLab(o, '/tmp/j'), { accel: 'tcg', kernelImage: 'k', initrd: 'i', jobDir: '/tmp/j', shell: false, dataDirs: ['/cache/qemu/usr/share/qemu'] });
  const devices = args.filter((_, i) => args[i - 1] === '-device');
  assert.ok(devices.includes('nvme-subsys,id=subsys0,nqn=' + planLab(o, '/tmp/j').controllers[0].serial + ',fdp=on,fdp.runs=1M,fdp.nrg=1,fdp.nruh=8'));
  const ctrls = devices.filter((d) => d.startsWith('nvme,'));
  assert.match(ctrls[0], /,subsys=subsys0$/);
  assert.doesNotMatch(ctrls[1], /subsys/);
  const ns = devices.filter((d) => d.startsWith('nvme-ns,'));
  assert.equal(ns.filter((d) => d.includes('fdp.ruhs=0-7')).length, 2, 'both namespaces of controller 0 get every handle');
  assert.ok(ns.filter((d) => d.includes('bus=nvme1')).every((d) => !d.includes('fdp')));
  assert.equal(args[args.indexOf('-L') + 1], '/cache/qemu/usr/share/qemu');
  const plain = { ...defaultLabOptions() };
  assert.ok(!qemuArgs(plain, planLab(plain, '/tmp/j'), { accel: 'tcg', kernelImage: 'k', initrd: 'i', jobDir: '/tmp/j', shell: false }).some((a) => /fdp=|fdp\.|subsys|^-L$/.test(a)), 'the default lab is as before');
});

const target = { given: '/dev/ng0n1', nvme: { name: 'nvme0n1', nsid: 1 } } as unknown as Target;
const enabled: NvmeFdpInfo = {
  nsid: 1, ctratt: 1 << 19, fdps: true, endgid: 1, enabled: true, fdpcidx: 0,
  config: { index: 0, fdpa: 0x80, rgif: 0, valid: true, nrg: 1, nruh: 8, maxpids: 128, nnss: 1, runs: 1 << 20, erutl: 0, ruht: [1, 1, 1, 1, 1, 1, 1, 1] },
  ruhs: { reported: 4, pids: [0, 1, 2, 3], ruamw: [2048, 2048, 2048, 2048] },
  stats: { hostBytes: 10, mediaBytes: 20, erasedBytes: 0, overflow: false },
};

test('--fdp against the controller: FDPS, FDPE and the handles, each refusal naming its field', () => {
  assert.deepEqual(resolvePlacementIds([1, 3], target, enabled), [1, 3]);
  assert.deepEqual(resolvePlacementIds(undefined, target, enabled), [0, 1, 2, 3], 'default: every handle of the namespace');
  assert.deepEqual(resolvePlacementIds([1], target, { ...enabled, ruhs: { reported: 2, pids: [7, 9], ruamw: [0, 0] } }), [9], 'the namespace\'s own placement ids');
  assert.deepEqual(resolvePlacementIds([5], target, { ...enabled, ruhs: null }), [5], 'over vfio: the handle index, bounded by the configuration');
  usage(() => resolvePlacementIds([0], target, { nsid: 1, ctratt: 0x10, fdps: false, endgid: 1 }), /nvme0n1 does not support Flexible Data Placement \(FDPS, bit 19 of CTRATT.*0x10\)/);
  usage(() => resolvePlacementIds([0], target, { ...enabled, enabled: false }), /FDP is disabled on endurance group 1 .*FDPE is 0/);
  usage(() => resolvePlacementIds([4], target, enabled), /--plids 4: namespace 1 has 4 placement handles .*FDP configurations log, NRUH.*0 to 3/);
  usage(() => resolvePlacementIds([8], target, { ...enabled, ruhs: null }), /--plids 8: FDP configuration 0 has 8 reclaim unit handles \(FDP configurations log, NRUH\)/);
  assert.throws(() => resolvePlacementIds([0], target, { ...enabled, enabled: null, featureError: 'x' }), (e: unknown) => e instanceof BenchError && e.kind === 'run');
});

test('write amplification: media over host bytes between two readings; nothing written is unknown, not 0', () => {
  const d = fdpDelta({ hostBytes: 100, mediaBytes: 100 }, { hostBytes: 1100, mediaBytes: 1600 }, { pids: [0, 1], scheme: 'random' });
  assert.deepEqual(d, { hostBytesWritten: 1000, mediaBytesWritten: 1500, waf: 1.5, placementIds: [0, 1], scheme: 'random' });
  assert.ok(Number.isNaN(fdpDelta({ hostBytes: 5, mediaBytes: 5 }, { hostBytes: 5, mediaBytes: 5 }).waf));
  const s = fdpSummary(enabled);
  assert.match(describeFdp(s), /FDP enabled on endurance group 1: configuration 0, 8 reclaim unit handles \(initially isolated\), 1 reclaim group, reclaim units of 1 MiB; the namespace's placement ids: 0, 1, 2, 3 \(--plids 0-3\)/);
  assert.match(describeFdp(fdpSummary({ ...enabled, enabled: false })), /supported but disabled/);
});

test('waf: a v3 CSV column that reads back, a v2 file without it still read, a regress metric, and the cell\'s ratio of sums', () => {
  assert.ok(CSV_V3_COLUMNS.includes('waf'), 'waf is a v3 column');
  const recs = [
    makeRecord({ fdp: { hostBytesWritten: 1000, mediaBytesWritten: 1000, waf: 1 } }),
    makeRecord({ repeat: 1, fdp: { hostBytesWritten: 3000, mediaBytesWritten: 6000, waf: 2 } }),
  ];
  const back = parseCsvRecords(toCsv(recs), 'm.csv');
  assert.deepEqual(back.map((r) => r.fdp?.waf), [1, 2]);
  // The same record as schema v2 wrote it: no waf column, version 2.
  const [header, row] = parseCsv(toCsv([makeRecord()]), 'x.csv').map((r) => r.fields);
  const at = header.indexOf('waf');
  const drop = (f: string[]) => f.filter((_, i) => i !== at);
  const v2 = csvLine(drop(header)) + csvLine(['2', ...drop(row).slice(1)]);
  const old = parseCsvRecords(v2, 'v2.csv');
  assert.equal(old.length, 1);
  assert.equal(old[0].fdp, undefined, 'a v2 file has no waf');
  assert.equal(findMetric('waf')?.higherIsBetter, false);
  const cell = buildResults(recs).cells[0];
  assert.equal(cell.fdp?.waf, 7000 / 4000, 'bytes summed over the repeats, then divided');
});
