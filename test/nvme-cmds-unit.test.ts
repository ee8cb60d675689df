// NVMe command workloads without a device: the support checks on made-up
// Identify data, which engine may issue what, option checks, and the block
// paths on a file. The command builder has its C test: native/test/nvme_cmd_test.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NvmeCommandInfo, NvmeZone } from '../src/native/addon.js';
import { BenchError } from '../src/errors.js';
import { checkRawDirection, commandUsable } from '../src/engines/commands.js';
import { checkCommand, checkCommandSupport, rawEffects, readCommandInfo } from '../src/engines/command-support.js';
import type { CommandPlan } from '../src/engines/command-table.js';
import { kernelAtLeast } from '../src/system/kernel.js';
import { buildCommandPlan, parseDword } from '../src/commands/nvme-cmds.js';
import type { Target } from '../src/target/target.js';
import { csvRows, runCli } from './cli.js';

const LBA = 512;

// A made-up namespace and the Identify data QEMU's controller reports.
function nvmeTarget(nsid = 1): Target {
  return {
    given: `/dev/ng0n${nsid}`,
    path: `/dev/ng0n${nsid}`,
    kind: 'nvme-char',
    sizeBytes: 64 << 20,
    logicalBlockSize: LBA,
    nvme: { name: `nvme0n${nsid}`, controller: 'nvme0', nsid, charPath: `/dev/ng0n${nsid}`, lbaSize: LBA, metaSize: 0, extendedMeta: false, capacityBytes: 64 << 20, maxTransferBytes: 512 * 1024, pciAddress: '' },
    model: 'QEMU NVMe Ctrl',
    serial: '',
    firmware: '',
    emulated: true,
  };
}

function qemuInfo(o: Partial<NvmeCommandInfo> = {}): NvmeCommandInfo {
  const effects = new Array(256).fill(0);
  for (const op of [0x00, 0x01, 0x02, 0x05, 0x08, 0x09, 0x0c, 0x19]) effects[op] = 1;
  return {
    nsid: 1,
    ctrl: { oncs: 0x15d, lpa: 7, ocfs: 3, mdts: 7, vwc: 7 },
    ns: { nsze: 131072, lbaSize: LBA, dlfeat: 1, mssrl: 128, mcl: 128, msrc: 127 },
    csi: 0,
    nvmCtrl: { vsl: 7, wzsl: 0, dmrl: 0, dmrsl: 4194303 },
    zns: null,
    effects,
    ...o,
  };
}

const notes: string[] = [];
const ctx = (o: Partial<{ blockSizes: number[]; threads: number; region: { offset: number; size: number } }> = {}) => ({
  blockSizes: [4096],
  threads: 1,
  engines: ['pt' as const],
  region: { offset: 0, size: 64 << 20 },
  warn: (m: string) => notes.push(m),
  ...o,
});
const plan = (name: CommandPlan['name'], o: Partial<CommandPlan> = {}): CommandPlan => ({ name, writes: true, copyRanges: 1, ...o });
const noZones = (): NvmeZone[] => [];

function refused(fn: () => void, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof BenchError && err.exitCode === 2 && pattern.test(err.message), String(pattern));
}

async function refusedAsync(fn: () => Promise<void>, pattern: RegExp): Promise<void> {
  await assert.rejects(fn, (err: unknown) => err instanceof BenchError && err.exitCode === 2 && pattern.test(err.message), String(pattern));
}

test('support checks: every command passes on what QEMU reports', () => {
  notes.length = 0;
  for (const name of ['write-zeroes', 'trim', 'verify', 'compare', 'flush', 'copy'] as const) {
    checkCommandSupport(plan(name), nvmeTarget(), ctx(), qemuInfo(), noZones);
  }
  // QEMU 7.2 runs Verify and lists it in the effects log, but leaves ONCS bit 7 clear.
  assert.deepEqual(notes, ['ONCS bit 7 (Verify) is 0 in Identify Controller (ONCS 0x015d), but the Commands Supported and Effects log lists opcode 0x0c as supported: running verify']);
});

test('support checks: refusals name the field that says no', () => {
  const t = nvmeTarget();
  // No effects log (LPA bit 1 clear): ONCS decides.
  const ctrl = (oncs: number) => ({ oncs, lpa: 5, ocfs: 3, mdts: 7, vwc: 7 });
  refused(() => checkCommandSupport(plan('copy'), t, ctx(), qemuInfo({ ctrl: ctrl(0x5d) }), noZones), /copy is not supported by nvme0: ONCS bit 8 \(Copy\) is 0 in Identify Controller \(ONCS 0x005d\)/);
  refused(() => checkCommandSupport(plan('write-zeroes'), t, ctx(), qemuInfo({ ctrl: ctrl(0x155) }), noZones), /ONCS bit 3 \(Write Zeroes\)/);
  refused(() => checkCommandSupport(plan('trim'), t, ctx(), qemuInfo({ ctrl: ctrl(0x159) }), noZones), /ONCS bit 2 \(Dataset Management/);
  refused(() => checkCommandSupport(plan('verify'), t, ctx(), qemuInfo({ ctrl: ctrl(0x15d) }), noZones), /ONCS bit 7 \(Verify\)/);
  refused(() => checkCommandSupport(plan('compare'), t, ctx(), qemuInfo({ ctrl: ctrl(0x15c) }), noZones), /ONCS bit 0 \(Compare\)/);
  // The effects log says no: refused whatever ONCS says, and both are named when both say no.
  const noCopy = qemuInfo({ ctrl: { oncs: 0x5d, lpa: 7, ocfs: 3, mdts: 7, vwc: 7 } });
  noCopy.effects![0x19] = 0;
  refused(() => checkCommandSupport(plan('copy'), t, ctx(), noCopy, noZones), /ONCS bit 8 \(Copy\) is 0 in Identify Controller \(ONCS 0x005d\), and the Commands Supported and Effects log/);
  const noVerify = qemuInfo({ ctrl: { oncs: 0x1dd, lpa: 7, ocfs: 3, mdts: 7, vwc: 7 } });
  noVerify.effects![0x0c] = 0;
  refused(() => checkCommandSupport(plan('verify'), t, ctx(), noVerify, noZones), /verify is not supported on namespace 1 of nvme0: the Commands Supported and Effects log \(log page 05h, CSI 0x00 \(NVM\)\) lists opcode 0x0c \(Verify\) as not supported \(CSUPP is 0\)/);
  // Without LPA bit 1 the log is not trusted: ONCS alone decides.
  checkCommandSupport(plan('verify'), t, ctx(), { ...noVerify, ctrl: { ...noVerify.ctrl, lpa: 5 } }, noZones);
  refused(() => checkCommandSupport(plan('copy'), t, ctx(), qemuInfo({ ns: { nsze: 1, lbaSize: LBA, dlfeat: 0, mssrl: 0, mcl: 0, msrc: 0 } }), noZones), /MSSRL \(Maximum Single Source Range Length\) is 0 in Identify Namespace 1/);
  refused(() => checkCommandSupport(plan('copy', { copyRanges: 8 }), t, ctx(), qemuInfo({ ns: { nsze: 1, lbaSize: LBA, dlfeat: 0, mssrl: 128, mcl: 128, msrc: 3 } }), noZones), /MSRC is 3 \(0's based, so 4 ranges\)/);
  refused(() => checkCommandSupport(plan('copy'), t, ctx({ blockSizes: [128 * 1024] }), qemuInfo(), noZones), /MCL 128|MSSRL 128/);
  refused(() => checkCommandSupport(plan('copy', { copyRanges: 3 }), t, ctx(), qemuInfo(), noZones), /does not split a 4096-byte block/);
  refused(() => checkCommandSupport(plan('write-zeroes'), t, ctx({ blockSizes: [16384] }), qemuInfo({ nvmCtrl: { vsl: 0, wzsl: 1, dmrl: 0, dmrsl: 0 } }), noZones), /WZSL 1/);
  refused(() => checkCommandSupport(plan('zone-append'), t, ctx(), qemuInfo(), noZones), /zone-append needs a zoned namespace: namespace 1 of nvme0 has Command Set Identifier 0x00 \(NVM\)/);
});

test('support checks on a controller on vfio-pci: the data vfioProbe read, the PCI address in the refusals', async () => {
  const pci = (info: NvmeCommandInfo | undefined): Target => ({
    ...nvmeTarget(2),
    given: '0000:00:11.0',
    path: '0000:00:11.0',
    kind: 'pci',
    pci: { address: '0000:00:11.0', driver: 'vfio-pci' },
    nvme: { name: '', controller: '', nsid: 2, lbaSize: LBA, metaSize: 0, extendedMeta: false, capacityBytes: 64 << 20, maxTransferBytes: 512 * 1024, pciAddress: '0000:00:11.0', commandInfo: info },
  });
  const vctx = ctx({});
  const mk = () => ({ ...vctx, engines: ['vfio' as const] });
  const probed = pci(qemuInfo());
  assert.equal(readCommandInfo(probed), probed.nvme!.commandInfo, 'no node to read: the probe had it');
  assert.throws(() => readCommandInfo(pci(undefined)), /the vfio driver read no Identify data for namespace 2 of 0000:00:11\.0/);
  for (const name of ['write-zeroes', 'trim', 'verify', 'compare', 'flush', 'copy'] as const) await checkCommand(plan(name), pci(qemuInfo()), mk());
  await refusedAsync(() => checkCommand(plan('copy'), pci(qemuInfo({ ns: { nsze: 1, lbaSize: LBA, dlfeat: 0, mssrl: 0, mcl: 0, msrc: 0 } })), mk()), /copy is not supported on namespace 2: MSSRL \(Maximum Single Source Range Length\) is 0 in Identify Namespace 2/);
  const noWz = qemuInfo({ ctrl: { oncs: 0x155, lpa: 5, ocfs: 3, mdts: 7, vwc: 7 } });
  await assert.rejects(
    () => checkCommand(plan('write-zeroes'), pci(noWz), mk()),
    (err: unknown) => err instanceof BenchError && /write-zeroes is not supported by 0000:00:11\.0: ONCS bit 3/.test(err.message) && /nvmebench vfio unbind 0000:00:11\.0/.test(err.fix),
  );
  await refusedAsync(() => checkCommand(plan('zone-append'), pci(qemuInfo()), mk()), /zone-append needs a zoned namespace: namespace 2 of 0000:00:11\.0 has Command Set Identifier 0x00/);
  // zone-append: what can be refused before the zones are read is, with no controller reached; past that, the
  // zones are read through the vfio driver on a pool thread, and there is no controller at this address.
  const zEffects = qemuInfo().effects!.slice();
  for (const op of [0x79, 0x7a, 0x7d]) zEffects[op] = 1;
  const zoned = pci(qemuInfo({ csi: 2, zns: { zoc: 0, ozcs: 0, mar: 0xffffffff, mor: 0xffffffff, zsze: 16384, zdes: 0, zasl: 0 }, effects: zEffects }));
  await refusedAsync(() => checkCommand(plan('zone-append'), zoned, { ...mk(), region: { offset: 4096, size: 8 << 20 } }), /multiples of the 8388608-byte zone size/);
  const pending = checkCommand(plan('zone-append'), zoned, { ...mk(), region: { offset: 0, size: 64 << 20 } });
  assert.ok(pending instanceof Promise, 'the zones are read asynchronously');
  await assert.rejects(pending, (err: unknown) => err instanceof BenchError && err.exitCode !== 2 && /cannot read the zones of 0000:00:11\.0: /.test(err.message) && /vfio driver/.test(err.fix));
});

test('support checks: zone-append geometry, limits and --zones', () => {
  const t = nvmeTarget(2);
  const effects = qemuInfo().effects!.slice();
  for (const op of [0x79, 0x7a, 0x7d]) effects[op] = 1;
  const zns = { zoc: 0, ozcs: 0, mar: 0xffffffff, mor: 0xffffffff, zsze: 16384, zdes: 0, zasl: 0 };
  const info = qemuInfo({ csi: 2, zns, effects });
  const zones = (_n: string, _ns: number, zl: number, first: number, count: number): NvmeZone[] =>
    Array.from({ length: count }, (_, i) => ({ type: 2, state: 1, cap: zl - 8, slba: (first + i) * zl, wp: (first + i) * zl }));
  const cmd = plan('zone-append');
  checkCommandSupport(cmd, t, ctx(), info, zones);
  assert.deepEqual([cmd.zones, cmd.zoneBytes, cmd.zoneCapBytes], [4, 8 << 20, (16384 - 8) * LBA]);
  refused(() => checkCommandSupport(plan('zone-append'), t, ctx({ region: { offset: 4096, size: 8 << 20 } }), info, zones), /multiples of the 8388608-byte zone size \(ZSZE 16384 LBAs\)/);
  refused(() => checkCommandSupport(plan('zone-append', { zones: 9 }), t, ctx(), info, zones), /--zones 9 is more than the 8 zones in the region/);
  refused(() => checkCommandSupport(plan('zone-append', { zones: 3 }), t, ctx(), qemuInfo({ csi: 2, zns: { ...zns, mor: 1 }, effects }), zones), /MOR 1, MAR 4294967295/);
  refused(() => checkCommandSupport(plan('zone-append', { zones: 1 }), t, ctx({ threads: 2 }), info, zones), /fewer than --threads 2/);
  // ZASL 0: appends up to MDTS.
  checkCommandSupport(plan('zone-append'), t, ctx({ blockSizes: [65536] }), info, zones);
});

test('support checks: ZASL bounds the append size', () => {
  const t = nvmeTarget(2);
  const effects = qemuInfo().effects!.slice();
  for (const op of [0x79, 0x7a, 0x7d]) effects[op] = 1;
  const info = qemuInfo({ csi: 2, zns: { zoc: 0, ozcs: 0, mar: 0xffffffff, mor: 0xffffffff, zsze: 16384, zdes: 0, zasl: 1 }, effects });
  const zones = (_n: string, _ns: number, zl: number, first: number, count: number): NvmeZone[] =>
    Array.from({ length: count }, (_, i) => ({ type: 2, state: 1, cap: zl, slba: (first + i) * zl, wp: (first + i) * zl }));
  checkCommandSupport(plan('zone-append'), t, ctx({ blockSizes: [8192] }), info, zones);
  refused(() => checkCommandSupport(plan('zone-append'), t, ctx({ blockSizes: [16384] }), info, zones), /largest zone append \(8192 bytes: ZASL 1/);
  const offline = (_n: string, _ns: number, zl: number, first: number, count: number): NvmeZone[] =>
    Array.from({ length: count }, (_, i) => ({ type: 2, state: i === 3 ? 0xf : 1, cap: zl, slba: (first + i) * zl, wp: 0 }));
  refused(() => checkCommandSupport(plan('zone-append'), t, ctx(), info, offline), /is offline and cannot be reset/);
});

test('which engine issues what', () => {
  const t = nvmeTarget();
  const verdict = (name: CommandPlan['name'], engine: Parameters<typeof commandUsable>[1], release = '6.8.0', o: Partial<CommandPlan> = {}) => commandUsable(plan(name, o), engine, t, engine.startsWith('pt') || engine === 'ioctl' ? '/dev/ng0n1' : '/nonexistent/nvme0n1', release);
  for (const name of ['write-zeroes', 'trim', 'verify', 'compare', 'flush', 'copy', 'zone-append'] as const) {
    assert.equal(verdict(name, 'pt').usable, true, name);
    assert.equal(verdict(name, 'ioctl').usable, true, name);
    assert.equal(verdict(name, 'pt-poll').usable, true, `${name} on a 6.8 kernel`);
    assert.equal(verdict(name, 'uring-poll').usable, false, name);
    assert.equal(verdict(name, 'vfio').usable, true, `${name}: vfio builds every command`);
  }
  for (const name of ['verify', 'compare', 'copy', 'zone-append', 'raw'] as const) {
    const v = verdict(name, 'uring');
    assert.ok(!v.usable && /no block-layer equivalent/.test(v.reason), name);
  }
  for (const name of ['write-zeroes', 'trim', 'flush'] as const) {
    assert.equal(verdict(name, 'psync').usable, true, name);
  }
  assert.equal(verdict('flush', 'aio').usable, true);
  assert.ok(!verdict('write-zeroes', 'aio').usable);
  // Linux 6.1 polls passthrough by bio: commands without data would hang on pt-poll.
  for (const name of ['write-zeroes', 'verify', 'flush'] as const) {
    const v = verdict(name, 'pt-poll', '6.1.0-56-amd64');
    assert.ok(!v.usable && /Linux 6\.1 polls passthrough commands by their data/.test(v.reason), name);
  }
  assert.equal(verdict('trim', 'pt-poll', '6.1.0').usable, true, 'DSM carries its range list');
  assert.equal(verdict('raw', 'pt-poll', '6.1.0', { raw: { opcode: 2, cdw: [0, 0, 0, 0, 0, 0], dataLen: 512, dir: 'read' } }).usable, true);
  assert.equal(verdict('raw', 'pt-poll', '6.1.0', { raw: { opcode: 0, cdw: [0, 0, 0, 0, 0, 0], dataLen: 0, dir: 'none' } }).usable, false);
  // io_uring discards block devices from 6.12; a file is punched on any kernel.
  assert.ok(!verdict('trim', 'uring', '6.1.0').usable);
  assert.equal(verdict('trim', 'uring', '6.12.0').usable, true);
  assert.equal(commandUsable(plan('trim'), 'uring', { ...t, kind: 'file', nvme: undefined }, '/tmp/f', '6.1.0').usable, true);
  assert.ok(kernelAtLeast(6, 5, '6.10.3') && !kernelAtLeast(6, 5, '6.4.0') && kernelAtLeast(6, 5, '7.0'));
});

test('options: --verify, raw and dwords', () => {
  const bad: Array<[() => unknown, RegExp]> = [
    [() => buildCommandPlan('trim', 'x', { verify: true }), /--verify does not apply to trim: what a deallocated block reads back/],
    [() => buildCommandPlan('verify', 'x', { verify: true }), /--verify does not apply to verify/],
    [() => buildCommandPlan('flush', 'x', { bs: '4k' }), /--bs does not apply to flush/],
    [() => buildCommandPlan('raw', 'x', {}), /raw needs --opcode/],
    [() => buildCommandPlan('raw', 'x', { opcode: '0x02', read: true }), /--read needs --data-len/],
    [() => buildCommandPlan('raw', 'x', { opcode: '0x02', write: true, dataLen: '512' }), /moves controller to host \(bits 1:0 are 10\), but --write was given$/],
    [() => buildCommandPlan('raw', 'x', { opcode: '0x03', read: true, dataLen: '512' }), /bidirectional/],
    [() => buildCommandPlan('raw', 'x', { opcode: '0x100' }), /--opcode 0x100 is out of range/],
    [() => buildCommandPlan('raw', 'x', { opcode: '0x02', dump: 'f' }), /--dump saves the data a read brings back/],
    [() => buildCommandPlan('raw', 'x', { opcode: '0x01', write: true, dataLen: '510' }), /not a whole number of dwords/],
    [() => buildCommandPlan('copy', 'x', { copyRanges: '0' }), /--copy-ranges 0 is out of range/],
  ];
  for (const [fn, pattern] of bad) refused(fn as () => void, pattern);
  assert.equal(parseDword('0x1F', 'x'), 31);
  assert.equal(parseDword('0b101', 'x'), 5);
  assert.equal(parseDword('4294967295', 'x'), 0xffffffff);
  refused(() => parseDword('-1', 'x'), /not a number/);
  const p = buildCommandPlan('write-zeroes', 'x', { verify: true, sequential: true });
  assert.deepEqual([p.readPercent, p.random, p.command?.name, p.workload], [0, false, 'write-zeroes', 'write-zeroes']);
  assert.deepEqual(buildCommandPlan('copy', 'x', {}).engines, ['pt'], 'passthrough-only commands default to pt');
  assert.deepEqual(buildCommandPlan('copy', '0000:00:11.0', {}).engines, [], 'a PCI address keeps its own default (vfio on vfio-pci)');
  checkRawDirection({ opcode: 0x81, cdw: [], dataLen: 512, dir: 'write' });
  assert.deepEqual(rawEffects({ opcode: 0x02, cdw: [], dataLen: 512, dir: 'read' }, undefined), { writes: false });
  assert.deepEqual(rawEffects({ opcode: 0xc0, cdw: [], dataLen: 0, dir: 'none' }, undefined), { writes: true });
  const info = qemuInfo();
  assert.equal(rawEffects({ opcode: 0x08, cdw: [], dataLen: 0, dir: 'none' }, { ...info, effects: info.effects!.map((e, i) => (i === 8 ? 3 : e)) }).writes, true, 'LBCC set');
  assert.match(rawEffects({ opcode: 0x81, cdw: [], dataLen: 0, dir: 'none' }, info).warning ?? '', /not listed as supported.*sending it as given/);
});

test('block paths on a file: write-zeroes reads back zeroes, trim and flush run, the rest refuse', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-cmds-'));
  try {
    const file = path.join(dir, 'f.img');
    // Stamped data first, so zeroes are news.
    let r = runCli(['randwrite', '--engine', 'psync', '--size', '1m', '--ios', '256', '--verify', '--quiet', '--format', 'csv', file]);
    assert.equal(r.code, 0, r.stderr);
    r = runCli(['write-zeroes', '--engine', 'psync,uring', '--qd', '4', '--size', '1m', '--ios', '200', '--verify', '--quiet', '--format', 'csv', file]);
    assert.equal(r.code, 0, r.stderr);
    let rows = csvRows(r.stdout);
    assert.deepEqual(rows.map((x) => [x.workload, x.engine, x.status]), [['write-zeroes', 'psync', 'ok'], ['write-zeroes', 'uring', 'ok']]);
    for (const row of rows) assert.ok(Number(row.verified_blocks) > 50, JSON.stringify(row));
    const data = fs.readFileSync(file);
    assert.ok(data.length === 1 << 20);
    r = runCli(['trim', '--engine', 'all', '--size', '1m', '--ios', '100', '--quiet', '--format', 'csv', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(csvRows(r.stdout).map((x) => x.engine), ['psync', 'uring']);
    assert.match(r.stderr, /skipping aio: aio has no way to issue trim/);
    r = runCli(['flush', '--engine', 'all', '--ios', '20', '--quiet', '--format', 'csv', file]);
    assert.equal(r.code, 0, r.stderr);
    rows = csvRows(r.stdout);
    assert.deepEqual(rows.map((x) => x.engine), ['psync', 'aio', 'uring']);
    assert.ok(rows.every((x) => x.workload === 'flush' && x.status === 'ok' && x.ios === '20'));
    r = runCli(['verify', '--engine', 'uring', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /verify has no block-layer equivalent: only the passthrough engines \(pt, pt-poll, ioctl, vfio\) send Verify \(opcode 0x0c\)/);
    r = runCli(['copy', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pt needs an NVMe namespace/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
