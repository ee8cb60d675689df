// Flexible Data Placement for real, in one `nvmebench lab --fdp` boot (QEMU 8.0
// or newer: the system's, or bookworm-backports' fetched into the cache).
// Three controllers: the first and the last (on vfio-pci) in FDP subsystems
// with 8 reclaim unit handles, the second without FDP. Writes tagged over two
// placement handles on every passthrough engine and vfio, read back with
// --verify; the FDP statistics log read before and after by the test itself,
// against what each record says; the tags shown to reach the device by the
// reclaim units that took the writes (Reclaim Unit Handle Status, RUAMW);
// runs without --fdp on the same namespace, compared on waf with regress; and
// the refusals, with nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { RunRecord } from '../src/model.js';
import type { NvmeFdpInfo } from '../src/native/addon.js';
import { ROOT, runCli } from './cli.js';
import { encodeSteps, parseResults, type Step, type StepResult } from '../src/lab/steps.js';

const FDP_NODE = '/dev/ng0n1';
const PLAIN_NODE = '/dev/ng1n1';
const VFIO_BDF = '0000:00:12.0';
const MIB = 1024 * 1024;
const ADDON = path.join(ROOT, 'dist', 'src', 'native', 'addon.js');
/** The FDP state of a node, as the test reads it itself (not through a run). */
const info = (node: string): string => `${process.execPath} -e "import('${ADDON}').then((m) => console.log(JSON.stringify(m.native().nvmeFdpInfo('${node}'))))"`;
// 256 writes of 4 KiB, sequential over a 1 MiB region: every block once, then read back.
const WRITE = ['write', '--bs', '4k', '--qd', '4', '--size', '1m', '--ios', '256', '--verify', '--quiet', '--format', 'json'];

const STEPS: Step[] = [
  { name: 'devices', args: ['devices', '--json'] },
  { name: 'doctor', args: ['doctor', FDP_NODE] },
  { name: 'log-0', sh: info(FDP_NODE) },
  { name: 'pt-fdp', args: [...WRITE, '--engine', 'pt', '--fdp', '--plids', '0,1', FDP_NODE] },
  { name: 'log-1', sh: info(FDP_NODE) },
  { name: 'engines-fdp', args: [...WRITE, '--engine', 'pt-poll,ioctl', '--fdp', '--plids', '2-3', '--fdp-scheme', 'random', '--csv', '/tmp/fdp.csv', FDP_NODE] },
  { name: 'plain', args: [...WRITE, '--engine', 'pt-poll,ioctl', '--csv', '/tmp/plain.csv', FDP_NODE] },
  { name: 'uring', args: [...WRITE, '--engine', 'uring', '/dev/nvme0n1'] },
  { name: 'regress', args: ['regress', '/tmp/plain.csv', '/tmp/fdp.csv', '--metric', 'waf'] },
  { name: 'log-2', sh: info(FDP_NODE) },
  { name: 'bad-plids', args: [...WRITE, '--engine', 'pt', '--fdp', '--plids', '0,8', FDP_NODE] },
  { name: 'bad-engine', args: [...WRITE, '--engine', 'uring', '--fdp', '/dev/nvme0n1'] },
  { name: 'log-3', sh: info(FDP_NODE) },
  { name: 'no-fdp', args: [...WRITE, '--engine', 'pt', '--fdp', PLAIN_NODE] },
  { name: 'no-fdp-untouched', sh: 'cmp -n 1048576 /dev/nvme1n1 /dev/zero && echo zeroes' },
  { name: 'vfio-fdp', args: ['write', '--engine', 'vfio', '--bs', '64k', '--qd', '8', '--size', '4m', '--ios', '64', '--verify', '--fdp', '--plids', '4,5', '--quiet', '--format', 'json', VFIO_BDF] },
  { name: 'vfio-plain', args: ['write', '--engine', 'vfio', '--bs', '64k', '--qd', '8', '--size', '4m', '--ios', '64', '--verify', '--quiet', '--format', 'json', VFIO_BDF] },
];

let booted: Map<string, StepResult> | undefined;
let bootError: unknown;
function results(): Map<string, StepResult> {
  if (bootError) throw bootError;
  if (booted) return booted;
  try {
    const started = Date.now();
    const driver = path.join(ROOT, 'dist', 'src', 'lab', 'driver.js');
    const lab = runCli(['lab', '--quiet', '--timeout', '420', '--controllers', '3', '--fdp', '0,2', '--vfio', '--exec', `${process.execPath} ${driver} ${encodeSteps(STEPS)}`], { timeoutMs: 540_000 });
    booted = parseResults(lab.stdout);
    const missing = STEPS.filter((s) => !booted!.has(s.name)).map((s) => s.name);
    assert.deepEqual(missing, [], `the guest did not finish (lab exit ${lab.code}):\n${lab.stderr.slice(-3000)}\n${lab.stdout.slice(-3000)}`);
    process.stdout.write(`# lab fdp: ${Math.round((Date.now() - started) / 1000)}s\n`);
    return booted;
  } catch (err) {
    bootError = err;
    throw err;
  }
}

function step(name: string, code: number): StepResult {
  const r = results().get(name)!;
  assert.equal(r.code, code, `${name}: exit ${r.code}, expected ${code}\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return r;
}
const records = (r: StepResult) => (JSON.parse(r.stdout) as { records: RunRecord[] }).records;
const log = (name: string) => JSON.parse(step(name, 0).stdout) as NvmeFdpInfo;

test('lab --fdp: devices and doctor show FDP enabled with its handles on the FDP controller only', () => {
  const d = JSON.parse(step('devices', 0).stdout) as { controllers: Array<{ namespaces: Array<{ name: string; fdp?: { enabled?: boolean; reclaimUnitHandles?: number; reclaimGroups?: number; placementIds?: number[] } }> }> };
  const ns = new Map(d.controllers.flatMap((c) => c.namespaces).map((n) => [n.name, n]));
  assert.equal(ns.get('nvme0n1')?.fdp?.enabled, true);
  assert.equal(ns.get('nvme0n1')?.fdp?.reclaimUnitHandles, 8);
  assert.equal(ns.get('nvme0n1')?.fdp?.reclaimGroups, 1);
  assert.equal(ns.get('nvme0n1')?.fdp?.placementIds?.length, 8);
  assert.equal(ns.get('nvme1n1')?.fdp, undefined, 'no FDP on the second controller');
  assert.match(step('doctor', 0).stdout, /FDP enabled on endurance group \d+: configuration 0, 8 reclaim unit handles .*1 reclaim group, reclaim units of 1 MiB/);
});

test('lab --fdp: pt writes tagged over 2 placement handles, verified; the statistics log agrees with the record; the tagged handles took the writes', () => {
  const [r] = records(step('pt-fdp', 0));
  const before = log('log-0');
  const after = log('log-1');
  assert.equal(r.status, 'ok', r.errorMessage);
  assert.equal(r.errors, 0);
  assert.ok(r.verifiedBlocks >= 256, `${r.verifiedBlocks} blocks read back`);
  assert.ok(r.fdp, 'the record carries the FDP statistics');
  assert.deepEqual(r.fdp!.placementIds, before.ruhs!.pids.slice(0, 2));
  assert.equal(r.fdp!.scheme, 'roundrobin');
  // The log read by the test before and after the run: the same deltas as the record, and the host wrote the run's bytes.
  assert.equal(r.fdp!.hostBytesWritten, after.stats!.hostBytes - before.stats!.hostBytes);
  assert.equal(r.fdp!.mediaBytesWritten, after.stats!.mediaBytes - before.stats!.mediaBytes);
  assert.equal(r.fdp!.hostBytesWritten, 256 * 4096);
  assert.ok(r.fdp!.waf >= 1.0, `waf ${r.fdp!.waf}`);
  assert.equal(r.fdp!.waf, r.fdp!.mediaBytesWritten! / r.fdp!.hostBytesWritten!);
  // Round robin over handles 0 and 1: each reclaim unit took half the MiB (RUAMW in 512-byte blocks); the others none.
  const took = before.ruhs!.ruamw.map((left, i) => left - after.ruhs!.ruamw[i]);
  process.stdout.write(`# reclaim unit blocks taken per handle: ${took.join(' ')}\n`);
  assert.deepEqual(took, [1024, 1024, 0, 0, 0, 0, 0, 0]);
});

test('lab --fdp: pt-poll and ioctl with --fdp-scheme random, and without --fdp on the same namespace: waf in each record, CSV and regress compare it', () => {
  const tagged = records(step('engines-fdp', 0));
  const plain = records(step('plain', 0));
  assert.deepEqual(tagged.map((r) => r.engine), ['pt-poll', 'ioctl']);
  for (const r of [...tagged, ...plain, ...records(step('uring', 0))]) {
    assert.equal(r.status, 'ok', `${r.engine}: ${r.errorMessage}`);
    assert.ok(r.verifiedBlocks >= 256, `${r.engine}: verified`);
    assert.ok(r.fdp && r.fdp.hostBytesWritten === 256 * 4096, `${r.engine}: ${JSON.stringify(r.fdp)}`);
    assert.ok(r.fdp.waf >= 1.0);
  }
  for (const r of tagged) assert.equal(r.fdp!.scheme, 'random');
  for (const r of plain) assert.equal(r.fdp!.placementIds, undefined, 'no placement without --fdp');
  const regress = step('regress', 0);
  assert.match(regress.stdout, /waf/);
  const waf = (rs: RunRecord[]) => rs.map((r) => r.fdp!.waf.toFixed(3)).join('/');
  process.stdout.write(`# lab WAF with placement (pt-poll/ioctl): ${waf(tagged)}; without: ${waf(plain)}\n`);
});

test('lab --fdp: a --plids index past the handles and a block engine are refused (exit 2) naming why, and nothing is written', () => {
  assert.match(step('bad-plids', 2).stderr, /--plids 8: .*8 placement handles.*FDP configurations log.*0 to 7/);
  assert.match(step('bad-engine', 2).stderr, /--fdp tags the writes of pt, pt-poll, ioctl, vfio only/);
  assert.deepEqual(log('log-3').stats, log('log-2').stats, 'the statistics log did not move');
});

test('lab --fdp: --fdp on a controller without FDP names FDPS in CTRATT, and nothing is written', () => {
  const r = step('no-fdp', 2);
  assert.match(r.stderr, /FDPS, bit 19 of CTRATT/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(step('no-fdp-untouched', 0).stdout, /zeroes/);
});

test('lab --fdp: vfio writes tagged, verified, with the statistics log read over the userspace driver', () => {
  const [r] = records(step('vfio-fdp', 0));
  assert.equal(r.status, 'ok', r.errorMessage);
  assert.ok(r.verifiedBlocks >= 64);
  assert.deepEqual(r.fdp?.placementIds, [4, 5]);
  assert.equal(r.fdp?.hostBytesWritten, 64 * 65536);
  assert.ok(r.fdp!.waf >= 1.0);
  const [plain] = records(step('vfio-plain', 0));
  assert.equal(plain.status, 'ok', plain.errorMessage);
  assert.equal(plain.fdp?.hostBytesWritten, 64 * 65536, 'without --fdp too, where the probe saw FDPS');
  assert.equal(plain.fdp?.placementIds, undefined);
});
