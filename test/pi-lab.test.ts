// Metadata and protection information, for real, in one `nvmebench lab` boot:
// QEMU's nvme-ns emulates ms/mset/pi/pil, so five namespaces carry five
// formats (extended and separate metadata, PI types 1-3, the tuple first or
// last, metadata without PI), on a kernel-driven controller and on a second
// one bound to vfio-pci. Every passthrough engine and vfio writes and reads
// back with --verify with PRACT off (nvmebench makes and checks the PI) and on
// (the controller does); a reference tag written wrong on purpose through
// `raw` comes back as the controller's Reference Tag Check Error, by name, and
// as nvmebench's own check failure; --pi-act on a namespace without PI exits 2
// naming its LBA format. `devices` shows each format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Discovery } from '../src/inventory/discovery.js';
import type { RunRecord } from '../src/model.js';
import { ROOT, runCli } from './cli.js';
import { encodeSteps, parseResults, type Step, type StepResult } from '../src/lab/steps.js';

const VFIO_BDF = '0000:00:11.0';

// nsid: QEMU nvme-ns properties. 512-byte blocks (the lab's default).
const FORMATS: Record<number, string> = {
  1: 'ms=8,mset=1,pi=1',
  2: 'ms=8,mset=0,pi=1',
  3: 'ms=16,mset=1,pi=3,pil=0',
  4: 'ms=16,mset=0,pi=2,pil=1',
  5: 'ms=8,mset=0,pi=0',
};
const PI_NS = [1, 2, 3, 4];

const q = ['--quiet', '--format', 'json'];
/** A sequential write over the region with --verify: each block is read back and checked once writing ends. */
const write = (engines: string, target: string, ...more: string[]) => ['write', '--engine', engines, '--verify', '--qd', '4', '--ios', '64', '--size', '256k', ...more, ...q, target];

// The LBA the wrong reference tag goes to (namespace 2: type 1, separate metadata of 8 bytes, so PRACT moves none).
const BAD_LBA = 4096;
const STEPS: Step[] = [
  { name: 'devices', args: ['devices', '--json'] },
  { name: 'devices-table', args: ['devices'] },
  // The block layer on a PI format: the kernel's integrity layer makes the tuples, nvmebench's check reads them back.
  { name: 'block-2', args: write('uring', '/dev/nvme0n2', '--offset', '4m') },
  { name: 'pt-read-kernel-pi-2', args: ['randread', '--engine', 'pt', '--verify', '--qd', '4', '--ios', '64', '--size', '256k', '--offset', '4m', ...q, '/dev/ng0n2'] },
  // 512+16 extended with PI: the kernel hides the disk (capacity 0), and says so instead of running.
  { name: 'block-hidden-3', args: write('uring', '/dev/nvme0n3') },
  ...Object.keys(FORMATS).map((n) => ({ name: `pt-sw-${n}`, args: write('pt,pt-poll,ioctl', `/dev/ng0n${n}`) })),
  // Type 3 has no reference tag: PRCHK may not ask for it.
  ...PI_NS.map((n) => ({ name: `pt-act-${n}`, args: write('pt,pt-poll,ioctl', `/dev/ng0n${n}`, '--pi-act', '--pi-check', n === 3 ? 'guard,apptag' : 'guard,reftag', '--offset', '1m') })),
  // The controller made these tuples (PRACT): nvmebench's own check reads them back.
  { name: 'pt-sw-read-act-3', args: ['randread', '--engine', 'pt', '--verify', '--qd', '4', '--ios', '64', '--size', '256k', '--offset', '1m', ...q, '/dev/ng0n3'] },
  ...[1, 3, 4, 5].map((n) => ({ name: `vfio-sw-${n}`, args: write('vfio', VFIO_BDF, '--nsid', String(n)) })),
  ...[2, 3].map((n) => ({ name: `vfio-act-${n}`, args: write('vfio', VFIO_BDF, '--nsid', String(n), '--pi-act', '--pi-check', n === 3 ? 'guard,apptag' : 'all', '--pi-apptag', '0x1234', '--offset', '1m') })),
  // PRACT with PRCHK off: the controller stores the tuple with CDW14's reference tag, which is not the LBA.
  {
    name: 'raw-bad-reftag',
    args: ['raw', '--opcode', '0x01', '--cdw10', String(BAD_LBA), '--cdw12', '0x20000000', '--cdw14', '0xdeadbeef', '--data-len', '512', '--write', '--ios', '1', ...q, '/dev/ng0n2'],
  },
  // Without PRACT the same write would need a metadata buffer raw cannot give: refused before anything moves.
  { name: 'raw-no-meta-buffer', args: ['raw', '--opcode', '0x01', '--cdw10', String(BAD_LBA), '--data-len', '512', '--write', '--ios', '1', ...q, '/dev/ng0n2'] },
  { name: 'read-bad-reftag', args: ['randread', '--engine', 'pt', '--pi-check', 'reftag', '--bs', '512', '--offset', String(BAD_LBA * 512), '--size', '512', '--ios', '1', ...q, '/dev/ng0n2'] },
  { name: 'sw-bad-reftag', args: ['randread', '--engine', 'ioctl', '--verify', '--bs', '512', '--offset', String(BAD_LBA * 512), '--size', '512', '--ios', '1', ...q, '/dev/ng0n2'] },
  { name: 'pi-on-no-pi', args: ['randread', '--engine', 'pt', '--pi-act', '--ios', '1', ...q, '/dev/ng0n5'] },
  { name: 'reftag-on-type-3', args: ['randread', '--engine', 'pt', '--pi-check', 'reftag', '--ios', '1', ...q, '/dev/ng0n3'] },
];

function records(r: StepResult): RunRecord[] {
  return (JSON.parse(r.stdout) as { records: RunRecord[] }).records;
}

test('lab: metadata and PI on pt, pt-poll, ioctl and vfio, PRACT off and on; PI errors by name; --pi-* on a format without PI', { timeout: 900_000 }, () => {
  const driver = path.join(ROOT, 'dist', 'src', 'lab', 'driver.js');
  const exec = `${process.execPath} ${driver} ${encodeSteps(STEPS)}`;
  const props = Object.entries(FORMATS).flatMap(([n, p]) => ['--ns-props', `${n}:${p}`]);
  const lab = runCli(['lab', '--quiet', '--controllers', '2', '--vfio', '--namespaces', '5', '--ns-size', '16m', ...props, '--timeout', '600', '--exec', exec], { timeoutMs: 840_000 });
  const results = parseResults(lab.stdout);
  const missing = STEPS.filter((s) => !results.has(s.name)).map((s) => s.name);
  assert.deepEqual(missing, [], `the guest did not finish (lab exit ${lab.code}):\n${lab.stderr.slice(-3000)}\n${lab.stdout.slice(-3000)}`);
  // Every step's outcome first, so one failure does not hide the others.
  for (const r of results.values()) process.stdout.write(`# ${r.name}: exit ${r.code}${r.code ? ` ${r.stderr.trim().split('\n').pop()}` : ''}\n`);
  const get = (name: string, code = 0): StepResult => {
    const r = results.get(name)!;
    assert.equal(r.code, code, `${name}: exit ${r.code}, expected ${code}\n${r.stderr}\n${r.stdout.slice(-2000)}`);
    return r;
  };

  // devices: each namespace's format as QEMU was told.
  const d = JSON.parse(get('devices').stdout) as Discovery;
  const nss = d.controllers.flatMap((c) => c.namespaces);
  const want: Record<number, [number, number, boolean, boolean]> = { 1: [8, 1, true, false], 2: [8, 1, false, false], 3: [16, 3, true, false], 4: [16, 2, false, true], 5: [8, 0, false, false] };
  for (const [n, [ms, type, extended, first]] of Object.entries(want)) {
    const ns = nss.find((x) => x.name === `nvme0n${n}`);
    assert.ok(ns?.format, `devices has no format for nvme0n${n}`);
    assert.deepEqual([ns.format.metaSize, ns.format.piType, ns.format.extended, ns.format.piFirst, ns.format.dataSize], [ms, type, extended, first, 512], `nvme0n${n}`);
    for (const e of ['pt', 'pt-poll', 'ioctl']) assert.ok(ns.engines.find((v) => v.engine === e)?.usable, `nvme0n${n}: ${e} not usable`);
  }

  const n3 = nss.find((x) => x.name === 'nvme0n3')!;
  assert.match(n3.engines.find((v) => v.engine === 'uring')?.reason ?? '', /the kernel shows \/dev\/nvme0n3 with capacity 0/);
  const table = get('devices-table').stdout;
  assert.match(table, /pi2 first mset=0/);
  assert.match(table, /nvme0n2 \(LBA format \d+: 512\+8, PI type 1 in the last 8 bytes, separate buffer \(mset=0\)\): block engines: the kernel's integrity layer generates and verifies the PI \(T10-DIF-TYPE1-CRC\)/);
  assert.match(table, /nvme0n3: not usable:\n  psync: the kernel shows \/dev\/nvme0n3 with capacity 0/);
  assert.match(get('block-hidden-3', 2).stderr, /capacity 0: its block layer does not carry 512\+16, PI type 3/);

  const verified = (name: string, engines: string[]) => {
    const recs = records(get(name));
    assert.deepEqual(recs.map((r) => r.engine), engines, name);
    for (const r of recs) {
      assert.equal(r.status, 'ok', `${name} ${r.engine}: ${r.errorMessage}`);
      assert.equal(r.errors, 0, `${name} ${r.engine}`);
      assert.ok(r.verifiedBlocks > 0, `${name} ${r.engine} verified nothing`);
    }
  };
  for (const n of Object.keys(FORMATS)) verified(`pt-sw-${n}`, ['pt', 'pt-poll', 'ioctl']);
  for (const n of PI_NS) verified(`pt-act-${n}`, ['pt', 'pt-poll', 'ioctl']);
  // The records say who made the PI.
  assert.deepEqual(records(get('pt-sw-4'))[0].metadata, { bytes: 16, extended: false, piType: 2, pi: 'host', check: [] });
  assert.deepEqual(records(get('pt-act-1'))[0].metadata, { bytes: 8, extended: true, piType: 1, pi: 'controller', check: ['reftag', 'guard'] });
  assert.deepEqual(records(get('pt-sw-5'))[0].metadata, { bytes: 8, extended: false, piType: 0, pi: 'none', check: [] });
  verified('pt-sw-read-act-3', ['pt']);
  verified('block-2', ['uring']);
  verified('pt-read-kernel-pi-2', ['pt']);
  for (const n of [1, 3, 4, 5]) verified(`vfio-sw-${n}`, ['vfio']);
  for (const n of [2, 3]) verified(`vfio-act-${n}`, ['vfio']);

  // The wrong reference tag: the controller's check names it, and so does nvmebench's.
  get('raw-bad-reftag');
  assert.match(get('raw-no-meta-buffer', 2).stderr, /raw Write on \/dev\/ng0n2 would move 8 bytes of metadata per block through a separate buffer/);
  const bad = results.get('read-bad-reftag')!;
  assert.notEqual(bad.code, 0, 'the read of a wrong reference tag succeeded');
  assert.match(bad.stdout + bad.stderr, /End-to-end Reference Tag Check Error \(SCT 0x2, SC 0x84\)/);
  const sw = results.get('sw-bad-reftag')!;
  assert.notEqual(sw.code, 0, 'the software check passed a wrong reference tag');
  assert.match(sw.stdout + sw.stderr, /protection information reference tag check failed at LBA 4096: read 0xdeadbeef, expected 0x1000/);

  const refused = get('pi-on-no-pi', 2);
  assert.match(refused.stderr, /--pi-act needs protection information, but \/dev\/ng0n5 is formatted with LBA format \d+: 512\+8, no PI, separate buffer \(mset=0\)/);
  assert.equal(refused.stderr.trim().split('\n').filter((l) => l.startsWith('nvmebench:')).length, 1);
  assert.match(get('reftag-on-type-3', 2).stderr, /type 3 PI has no reference tag to check/);
});
