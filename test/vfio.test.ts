// The vfio engine and the vfio bind/unbind/status commands.
// Unit checks on a fake sysfs first; then one lab boot (two controllers, the
// second on vfio-pci) running test/vfio-guest.ts, whose steps are asserted
// here one by one. The lab is never skipped: CI installs QEMU (.ci/run).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, ROOT, runCli } from './cli.js';
import { BenchError } from '../src/errors.js';
import { usableOn } from '../src/engines/registry.js';
import { buildPlan } from '../src/plan/options.js';
import type { PreparedRun } from '../src/run/prepare.js';
import { buildJob } from '../src/run/scheduler.js';
import type { Target } from '../src/target/target.js';
import { checkBindable, vfioStatus } from '../src/vfio/binding.js';
import { dropRecord, readRecords, restoreDriverFor, saveRecord } from '../src/vfio/records.js';
import { controllerNamespaces, groupBlockers, normalizePciAddress, pciDevice } from '../src/system/pci.js';
import { assertLayersAddUp } from './explain-check.js';
import type { RunRecord } from '../src/model.js';
import { vfioFix } from '../src/target/pci.js';

// ---- a fake machine in sysfs form ----

interface FakeDev {
  addr: string;
  cls: string;
  driver?: string;
  group?: number;
  controller?: string;
  namespaces?: string[];
}

function fakeSysfs(devs: FakeDev[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-sysfs-'));
  const mk = (p: string) => fs.mkdirSync(path.join(root, p), { recursive: true });
  const put = (p: string, text: string) => {
    mk(path.dirname(p));
    fs.writeFileSync(path.join(root, p), text + '\n');
  };
  for (const d of devs) {
    const dir = `bus/pci/devices/${d.addr}`;
    put(`${dir}/class`, d.cls);
    put(`${dir}/vendor`, '0x1b36');
    put(`${dir}/device`, '0x0010');
    if (d.driver) {
      mk(`bus/pci/drivers/${d.driver}`);
      fs.symlinkSync(path.join(root, `bus/pci/drivers/${d.driver}`), path.join(root, dir, 'driver'));
      if (d.driver === 'vfio-pci') fs.symlinkSync(path.join(root, dir), path.join(root, `bus/pci/drivers/vfio-pci/${d.addr}`));
    }
    if (d.group !== undefined) {
      mk(`kernel/iommu_groups/${d.group}/devices`);
      fs.symlinkSync(path.join(root, `kernel/iommu_groups/${d.group}`), path.join(root, dir, 'iommu_group'));
      fs.symlinkSync(path.join(root, dir), path.join(root, `kernel/iommu_groups/${d.group}/devices/${d.addr}`));
    }
    if (d.controller) {
      mk(`${dir}/nvme/${d.controller}`);
      for (const ns of d.namespaces ?? []) mk(`class/nvme/${d.controller}/${ns}`);
    }
  }
  return root;
}

function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const k of Object.keys(vars)) {
    saved[k] = process.env[k];
    process.env[k] = vars[k];
  }
  try {
    return fn();
  } finally {
    for (const k of Object.keys(vars)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

function throwsBench(fn: () => unknown, kind: 'usage' | 'run', message: RegExp, fix?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BenchError, `a BenchError, not ${String(err)}`);
    assert.equal(err.kind, kind);
    assert.match(err.message, message);
    if (fix) assert.match(err.fix, fix);
    return true;
  });
}

test('PCI addresses: with or without the domain, case folded; anything else is not one', () => {
  assert.equal(normalizePciAddress('0000:00:04.0'), '0000:00:04.0');
  assert.equal(normalizePciAddress('00:1F.7'), '0000:00:1f.7');
  assert.equal(normalizePciAddress('0001:3B:00.1'), '0001:3b:00.1');
  assert.equal(normalizePciAddress('/dev/nvme0'), undefined);
  assert.equal(normalizePciAddress('00:04.8'), undefined);
  assert.equal(normalizePciAddress('0000:00:04'), undefined);
});

test('bind checks: not NVMe, no IOMMU, a group another driver holds; a clean one passes', () => {
  const root = fakeSysfs([
    { addr: '0000:00:04.0', cls: '0x010802', driver: 'nvme', group: 7, controller: 'nvme0', namespaces: ['nvme0n1', 'nvme0c0n2', 'ng0n1'] },
    { addr: '0000:00:04.1', cls: '0x020000', driver: 'e1000e', group: 7 },
    { addr: '0000:00:05.0', cls: '0x010802', driver: 'nvme' },
    { addr: '0000:00:06.0', cls: '0x010802', driver: 'nvme', group: 9, controller: 'nvme2', namespaces: ['nvme2n1'] },
    { addr: '0000:00:06.1', cls: '0x060400', driver: 'pcieport', group: 9 },
    { addr: '0000:00:07.0', cls: '0x020000', driver: 'e1000e', group: 10 },
  ]);
  try {
    withEnv({ NVMEBENCH_SYSFS: root }, () => {
      const dev = pciDevice('0000:00:04.0');
      assert.equal(dev.driver, 'nvme');
      assert.equal(dev.iommuGroup, 7);
      assert.deepEqual(dev.controllers, ['nvme0']);
      assert.deepEqual(controllerNamespaces('nvme0'), ['nvme0n1', 'nvme0n2']);
      assert.deepEqual(groupBlockers('0000:00:04.0', 7), [{ address: '0000:00:04.1', driver: 'e1000e' }]);
      throwsBench(() => checkBindable('0000:00:04.0', dev, false), 'run', /IOMMU group 7 of 0000:00:04\.0 is not viable.*0000:00:04\.1 \(bound to e1000e\)/, /vfio-pci/);
      throwsBench(() => checkBindable('0000:00:05.0', pciDevice('0000:00:05.0'), false), 'run', /no IOMMU group: the IOMMU is off/, /intel_iommu=on.*amd_iommu=on.*iommu=pt/);
      throwsBench(() => checkBindable('0000:00:07.0', pciDevice('0000:00:07.0'), false), 'usage', /not an NVMe controller \(PCI class 0x020000\)/);
      throwsBench(() => checkBindable('0000:00:09.0', pciDevice('0000:00:09.0'), false), 'usage', /there is no PCI device 0000:00:09\.0/);
      // A bridge's pcieport does not block the group.
      assert.equal(checkBindable('0000:00:06.0', pciDevice('0000:00:06.0'), false), 9);
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the record: what unbind restores, with and without one; status lists bound and recorded devices', () => {
  const root = fakeSysfs([
    { addr: '0000:00:04.0', cls: '0x010802', driver: 'vfio-pci', group: 3 },
    { addr: '0000:00:05.0', cls: '0x010802', driver: 'vfio-pci', group: 4 },
    { addr: '0000:00:06.0', cls: '0x020000', driver: 'vfio-pci', group: 5 },
    { addr: '0000:00:07.0', cls: '0x010802', driver: 'nvme', group: 6 },
  ]);
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-run-'));
  try {
    withEnv({ NVMEBENCH_SYSFS: root, NVMEBENCH_RUNTIME_DIR: run }, () => {
      assert.deepEqual(readRecords(), {});
      saveRecord({ address: '0000:00:04.0', originalDriver: 'uio_pci_generic', boundAt: '2025-01-01T00:00:00.000Z', auto: false, controllers: [], namespaces: [] });
      saveRecord({ address: '0000:00:07.0', originalDriver: 'nvme', boundAt: '2025-01-01T00:00:00.000Z', auto: true, controllers: ['nvme3'], namespaces: ['nvme3n1'] });
      assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'vfio.json'), 'utf8')).version, 1);
      assert.equal(restoreDriverFor('0000:00:04.0', pciDevice('0000:00:04.0')), 'uio_pci_generic', 'the recorded driver wins');
      assert.equal(restoreDriverFor('0000:00:05.0', pciDevice('0000:00:05.0')), 'nvme', 'no record: nvme for class 0x010802');
      assert.equal(restoreDriverFor('0000:00:06.0', pciDevice('0000:00:06.0')), null, 'no record, not NVMe: nothing to restore');
      const st = vfioStatus();
      assert.deepEqual(
        st.map((e) => [e.address, e.driver, e.originalDriver, e.recorded, e.auto]),
        [
          ['0000:00:04.0', 'vfio-pci', 'uio_pci_generic', true, false],
          ['0000:00:05.0', 'vfio-pci', 'nvme', false, false],
          ['0000:00:06.0', 'vfio-pci', null, false, false],
          ['0000:00:07.0', 'nvme', 'nvme', true, true],
        ],
      );
      dropRecord('0000:00:04.0');
      assert.deepEqual(Object.keys(readRecords()), ['0000:00:07.0']);
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(run, { recursive: true, force: true });
  }
});

function pciTarget(driver: string | undefined, extra: Partial<Target> = {}): Target {
  return {
    given: '0000:00:11.0',
    path: '0000:00:11.0',
    kind: 'pci',
    sizeBytes: 64 << 20,
    logicalBlockSize: 512,
    model: 'QEMU NVMe Ctrl',
    serial: '',
    firmware: '',
    emulated: true,
    pci: { address: '0000:00:11.0', driver },
    nvme: { name: '', controller: '', nsid: 1, lbaSize: 512, metaSize: 0, extendedMeta: false, capacityBytes: 64 << 20, maxTransferBytes: 524288, pciAddress: '0000:00:11.0' },
    ...extra,
  };
}

test('which engines run on a controller: vfio on vfio-pci, the bind command otherwise, the kernel paths not on vfio-pci', () => {
  const bound = usableOn('vfio', pciTarget('vfio-pci'), { buffered: false });
  assert.deepEqual(bound, { usable: true, node: '0000:00:11.0' });
  const onNvme = pciTarget('nvme', { kind: 'nvme-char', path: '/dev/ng1n1' });
  const v = usableOn('vfio', onNvme, { buffered: false });
  assert.equal(v.usable, false);
  if (!v.usable) {
    assert.match(v.reason, /bound to nvme, not vfio-pci$/);
    assert.match(v.fix, /nvmebench vfio bind 0000:00:11\.0/);
    assert.match(v.fix, /--vfio-auto-bind/);
  }
  assert.deepEqual(usableOn('vfio', onNvme, { buffered: false, vfioAutoBind: true }), { usable: true, node: '0000:00:11.0' });
  const pt = usableOn('pt', pciTarget('vfio-pci'), { buffered: false });
  assert.equal(pt.usable, false);
  if (!pt.usable) {
    assert.match(pt.reason, /bound to vfio-pci/);
    assert.equal(pt.fix, 'give it back to the kernel: nvmebench vfio unbind 0000:00:11.0');
  }
  const probeFailed = pciTarget('vfio-pci');
  probeFailed.pci!.probeError = 'cannot open /dev/vfio/5 (IOMMU group of 0000:00:11.0): Permission denied (VFIO needs root)';
  const nr = usableOn('vfio', probeFailed, { buffered: false });
  assert.equal(nr.usable, false);
  if (!nr.usable) assert.match(nr.fix, /root/);
  const file: Target = { given: '/tmp/x', path: '/tmp/x', kind: 'file', sizeBytes: 1 << 20, logicalBlockSize: 512, model: '', serial: '', firmware: '', emulated: false };
  const f = usableOn('vfio', file, { buffered: false });
  assert.equal(f.usable, false);
  if (!f.usable) {
    assert.equal(f.severity, 'usage');
    assert.match(f.reason, /PCI NVMe controller/);
  }
});

test('a vfio job runs on the PCI address with --nsid (default 1) and the namespace LBA size', () => {
  const target = pciTarget('vfio-pci');
  const mk = (raw: Record<string, string>): PreparedRun => {
    const plan = buildPlan('randread', '0000:00:11.0', { engine: 'vfio', ...raw });
    return { plan, target, cells: [], skipped: [], region: { offset: 0, size: target.sizeBytes }, verifySeed: 0 };
  };
  const job = buildJob(mk({}), { engine: 'vfio', node: '0000:00:11.0', blockSize: 4096, ioDepth: 64 });
  assert.equal(job.path, '0000:00:11.0');
  assert.equal(job.nsid, 1);
  assert.equal(job.lbaSize, 512);
  assert.equal(job.ioDepth, 64);
  assert.equal(job.fixedBufs, false);
  assert.equal(buildJob(mk({ nsid: '2' }), { engine: 'vfio', node: '0000:00:11.0', blockSize: 4096, ioDepth: 8 }).nsid, 2);
});

test('fixes for what the driver reports', () => {
  assert.match(vfioFix('IOMMU group 7 of 0000:00:04.0 is not viable: 0000:00:04.1 (bound to e1000e)', 'x'), /every device of the IOMMU group/);
  assert.match(vfioFix('0000:00:04.0 has no IOMMU group: the IOMMU is off', 'x'), /intel_iommu=on/);
  assert.match(vfioFix('0000:00:04.0 is not bound to vfio-pci (bound to nvme): nvmebench vfio bind 0000:00:04.0', '0000:00:04.0'), /nvmebench vfio bind 0000:00:04\.0/);
});

test('the CLI: vfio status, a missing device, vfio on a file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-vfio-cli-'));
  try {
    const env = { NVMEBENCH_RUNTIME_DIR: dir };
    const help = runCli(['vfio', '--help'], { env });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /bind/);
    assert.match(help.stdout, /unbind/);
    assert.match(help.stdout, /status/);
    const st = runCli(['vfio', 'status', '--json'], { env });
    assert.equal(st.code, 0, st.stderr);
    assert.ok(Array.isArray(JSON.parse(st.stdout).devices));
    const missing = runCli(['vfio', 'unbind', '0000:7f:1f.7'], { env });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /there is no PCI device 0000:7f:1f\.7/);
    const notAddr = runCli(['vfio', 'bind', 'banana'], { env });
    assert.equal(notAddr.code, 2);
    assert.match(notAddr.stderr, /not a PCI address or an NVMe device node/);
    const file = path.join(dir, 'data');
    fs.writeFileSync(file, Buffer.alloc(1 << 20));
    const onFile = runCli(['randread', '--engine', 'vfio', '--ios', '10', file], { env });
    assert.equal(onFile.code, 2, onFile.stderr);
    assert.match(onFile.stderr, /vfio drives a PCI NVMe controller/);
    const help2 = runCli(['randread', '--help']);
    assert.match(help2.stdout, /--vfio-auto-bind/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---- the lab ----

interface Step {
  name: string;
  rc: number;
  stdout: string;
  stderr: string;
  ms: number;
  extra?: Record<string, unknown>;
}

interface Rec {
  engine: string;
  status: string;
  errorMessage: string;
  ios: number;
  iops: number;
  errors: number;
  verifiedBlocks: number;
  blockSize: number;
  ioDepth: number;
  threads: number;
}

describe('vfio in the lab (2 controllers, 0000:00:11.0 on vfio-pci, its namespace 2 with MSSRL 0; a zoned namespace 3 on 0000:00:10.0)', () => {
  const steps = new Map<string, Step>();
  let labOut = '';
  let labErr = '';
  let labCode = -1;
  let cwd = '';

  before(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-vfio-lab-'));
    const guest = path.join(ROOT, 'dist', 'test', 'vfio-guest.js');
    const lab = ['lab', '--controllers', '2', '--namespaces', '2', '--zoned', '--vfio', '--ns-props', 'c1n2:mssrl=0,mcl=0,msrc=0', '--timeout', '420'];
    const r = spawnSync(process.execPath, [BIN, ...lab, '--exec', `node ${guest}`], {
      cwd,
      encoding: 'utf8',
      timeout: 480_000,
      maxBuffer: 64 << 20,
    });
    labOut = r.stdout ?? '';
    labErr = r.stderr ?? '';
    labCode = r.status ?? -1;
    for (const line of labOut.split('\n')) {
      if (!line.startsWith('@@step ')) continue;
      const s = JSON.parse(line.slice(7)) as Step;
      steps.set(s.name, s);
    }
  });

  after(() => {
    if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
  });

  const step = (name: string): Step => {
    const s = steps.get(name);
    assert.ok(s, `step ${name} did not run (lab exit ${labCode})\n--- lab stderr\n${labErr.slice(-4000)}\n--- lab stdout\n${labOut.slice(-4000)}`);
    return s;
  };
  const explain = (s: Step) => `step ${s.name}: rc ${s.rc}\n--- stdout\n${s.stdout.slice(-3000)}\n--- stderr\n${s.stderr.slice(-3000)}`;
  const records = (s: Step): Rec[] => {
    try {
      return (JSON.parse(s.stdout) as { records: Rec[] }).records;
    } catch {
      assert.fail(`no JSON results\n${explain(s)}`);
    }
  };
  const okRun = (name: string, engines: string[]): Rec[] => {
    const s = step(name);
    assert.equal(s.rc, 0, explain(s));
    const recs = records(s);
    assert.deepEqual(recs.map((r) => r.engine), engines, explain(s));
    for (const r of recs) {
      assert.equal(r.status, 'ok', explain(s));
      assert.equal(r.errors, 0, explain(s));
      assert.ok(r.ios > 0, explain(s));
    }
    return recs;
  };

  test('the guest ran every step', () => {
    assert.equal(labCode, 0, `lab exit ${labCode}\n${labErr.slice(-4000)}`);
    assert.ok(steps.size >= 30 && steps.has('not-root'), `only ${steps.size} steps:\n${[...steps.keys()].join(', ')}\n${labErr.slice(-3000)}`);
  });

  test('status lists the lab controller on vfio-pci; unbind would restore nvme', () => {
    const s = step('status-initial');
    assert.equal(s.rc, 0, explain(s));
    const dev = (JSON.parse(s.stdout) as { devices: Array<Record<string, unknown>> }).devices.find((d) => d.address === '0000:00:11.0');
    assert.deepEqual(dev && [dev.driver, dev.originalDriver, dev.recorded], ['vfio-pci', 'nvme', false], explain(s));
  });

  test('--engine all on a vfio-pci controller: vfio runs (bring-up, I/O), the kernel paths are listed as unusable', () => {
    const [rec] = okRun('all-on-vfio', ['vfio']);
    assert.equal(rec.ios, 400);
    const s = step('all-on-vfio');
    assert.match(s.stderr, /skipping pt: 0000:00:11\.0 is bound to vfio-pci/);
    assert.match(s.stderr, /skipping uring: 0000:00:11\.0 is bound to vfio-pci/);
  });

  test('--explain on vfio: the layers add up, the driver\'s own code is the vfio layer, empty polls counted', () => {
    const rec = okRun('vfio-explain', ['vfio'])[0] as unknown as RunRecord;
    assertLayersAddUp(rec, false);
    assert.ok(rec.explain!.layers.vfio.pct > 5, `vfio layer ${rec.explain!.layers.vfio.pct}%`);
    assert.ok(rec.explain!.layers.app.pct + rec.explain!.layers.vfio.pct > 50, 'a userspace driver spends its CPU in user space');
    assert.equal(rec.explain!.layers.block.nsPerIo, 0, 'no block layer');
    assert.ok(rec.emptyPollsPerIo !== undefined && rec.emptyPollsPerIo > 0, `a polled CQ under an emulated device comes up empty: ${rec.emptyPollsPerIo}`);
  });

  test('--engine all on a kernel namespace lists vfio as unusable with the bind command', () => {
    okRun('all-on-kernel', ['psync', 'aio', 'uring', 'uring-poll', 'pt', 'pt-poll', 'ioctl']);
    assert.match(step('all-on-kernel').stderr, /skipping vfio: 0000:00:10\.0 is bound to nvme, not vfio-pci: .*nvmebench vfio bind 0000:00:10\.0/);
  });

  test('writes through vfio read back through vfio with --verify', () => {
    assert.equal(okRun('vfio-write-77', ['vfio'])[0].verifiedBlocks, 64);
    assert.equal(okRun('vfio-read-77', ['vfio'])[0].verifiedBlocks, 64);
  });

  test('PRP1, PRP1+PRP2 and PRP lists (bs 4k, 8k, 12k, 512k = MDTS) move the right data; over MDTS is refused', () => {
    const recs = okRun('vfio-prp-sizes', ['vfio', 'vfio', 'vfio', 'vfio']);
    assert.deepEqual(recs.map((r) => r.blockSize), [4096, 8192, 12288, 524288]);
    for (const r of recs) assert.equal(r.verifiedBlocks, 24, `bs ${r.blockSize}`);
    const over = step('vfio-over-mdts');
    assert.equal(over.rc, 2, explain(over));
    assert.match(over.stderr, /MDTS/);
  });

  test('QD up to the queue size (2047 of 2048 entries), and one more is refused with the limit', () => {
    const [rec] = okRun('vfio-qd-max', ['vfio']);
    assert.equal(rec.ioDepth, 2047);
    assert.equal(rec.verifiedBlocks, rec.ios);
    const over = step('vfio-qd-over');
    assert.equal(over.rc, 2, explain(over));
    assert.match(over.stderr, /--qd 2048 does not fit .*use --qd 2047 or less/);
  });

  test('several workers, one queue pair each: randwrite and randrw verify', () => {
    const [w] = okRun('vfio-randwrite-mt', ['vfio']);
    assert.equal(w.threads, 3);
    assert.ok(w.verifiedBlocks > 0);
    okRun('vfio-prefill-rw', ['vfio']);
    const [rw] = okRun('vfio-randrw', ['vfio']);
    assert.ok(rw.verifiedBlocks > 0);
    assert.equal(rw.threads, 2);
  });

  test('NVMe commands through vfio: write-zeroes over stamped data reads back zeroes; copy --verify; flush, trim, verify, compare', () => {
    const stamped = okRun('vfio-wz-stamp', ['vfio']);
    assert.equal(stamped[0].verifiedBlocks, 32);
    const [wz] = okRun('vfio-wz', ['vfio']);
    assert.equal(wz.ios, 32);
    assert.equal(wz.verifiedBlocks, 32, 'every stamped block read back as zeroes');
    const [copy] = okRun('vfio-copy', ['vfio']);
    // 2 MiB of 4 KiB blocks: 256 sources with the pattern, then up to 64 destinations, each equal to its 4 sources.
    assert.ok(copy.verifiedBlocks > 256 && copy.verifiedBlocks <= 256 + 64, `${copy.verifiedBlocks} blocks verified`);
    assert.equal(okRun('vfio-flush', ['vfio'])[0].ios, 32);
    for (const name of ['vfio-trim', 'vfio-verify', 'vfio-compare']) assert.equal(okRun(name, ['vfio'])[0].ios, 32, name);
  });

  test('raw Read through vfio returns what vfio wrote (16 KiB: a PRP list), byte for byte what the kernel reads there', () => {
    const [rec] = okRun('vfio-raw', ['vfio']);
    assert.equal(rec.ios, 8);
    const s = step('vfio-raw');
    const extra = s.extra as { bytes: number; sectors: Array<[string, number, number]> };
    assert.equal(extra.bytes, 16384, explain(s));
    assert.deepEqual(
      extra.sectors,
      Array.from({ length: 32 }, (_, i) => ['cnebemvn', 8 + i, 77]),
      'the stamps of sectors 8-39 with seed 77',
    );
    const cmp = step('vfio-raw-cmp');
    assert.equal(cmp.rc, 0, explain(cmp));
    assert.equal(cmp.stdout.trim(), 'same');
  });

  test('copy on a vfio namespace whose MSSRL is 0 is refused, naming the field the vfio driver read', () => {
    const s = step('vfio-copy-mssrl0');
    assert.equal(s.rc, 2, explain(s));
    assert.match(s.stderr, /copy is not supported on namespace 2: MSSRL \(Maximum Single Source Range Length\) is 0 in Identify Namespace 2/);
  });

  test('unbind gives the controller back to nvme; vfio-written data verifies through pt', () => {
    const u = step('unbind-1');
    assert.equal(u.rc, 0, explain(u));
    assert.equal(u.extra?.driver, 'nvme');
    assert.equal(u.extra?.ng1n1, true);
    assert.equal(okRun('pt-read-77', ['pt'])[0].verifiedBlocks, 64);
  });

  test('bind is refused while a namespace is mounted, and works by controller node once unmounted', () => {
    assert.equal(step('mount').rc, 0, explain(step('mount')));
    const refused = step('bind-mounted');
    assert.equal(refused.rc, 2, explain(refused));
    assert.match(refused.stderr, /refusing to take 0000:00:11\.0 from the kernel: mounted: \/dev\/nvme1n2 on \/tmp\/m/);
    assert.equal(refused.extra?.driver, 'nvme');
    assert.equal(step('umount').rc, 0);
    const bound = step('bind-by-node');
    assert.equal(bound.rc, 0, explain(bound));
    assert.equal(bound.stdout.trim(), '0000:00:11.0');
    assert.equal(bound.extra?.driver, 'vfio-pci');
    const st = step('status-bound');
    const dev = (JSON.parse(st.stdout) as { devices: Array<Record<string, unknown>> }).devices.find((d) => d.address === '0000:00:11.0');
    assert.deepEqual(dev && [dev.driver, dev.originalDriver, dev.recorded, dev.auto], ['vfio-pci', 'nvme', true, false], explain(st));
  });

  test('the probe of a PCI target runs off the JS thread: timers fire through a 1.5 s bring-up; Ctrl-C during a bring-up that never comes ready ends it at once', (t) => {
    const p = step('probe-ticks');
    assert.equal(p.rc, 0, explain(p));
    const x = p.extra as { ticks: number; sizeBytes: number; lbaSize: number; probeError: string; commands: boolean };
    assert.equal(x.probeError, '', explain(p));
    assert.ok(x.sizeBytes > 0 && x.lbaSize > 0 && x.commands, JSON.stringify(x));
    assert.ok(p.ms >= 1500, `the probe took ${p.ms} ms: the ready delay did not hold it`);
    // 150 at 10 ms; a loaded TCG guest fires fewer, but a probe on the JS thread fires none.
    assert.ok(x.ticks >= 20, `only ${x.ticks} timer ticks during a ${p.ms} ms probe`);
    const s = step('probe-sigint');
    const e = s.extra as { signalled: boolean; exitAfterSignalMs: number; driver: string };
    assert.ok(e.signalled, explain(s));
    assert.equal(s.rc, 1, explain(s));
    assert.match(s.stderr, /interrupted \(SIGINT\) while probing 0000:00:11\.0; the controller was shut down and nothing ran/, explain(s));
    assert.doesNotMatch(s.stderr, /did not become ready|internal error/, explain(s));
    // Well inside QEMU's CAP.TO (7.5 s), which is what the wait would have run to.
    assert.ok(e.exitAfterSignalMs >= 0 && e.exitAfterSignalMs < 5000, `exit ${e.exitAfterSignalMs} ms after SIGINT`);
    assert.equal(e.driver, 'vfio-pci', 'the controller stays where the user bound it');
    t.diagnostic(`probe ${p.ms} ms, ${x.ticks} ticks of a 10 ms timer meanwhile; exit ${e.exitAfterSignalMs} ms after SIGINT`);
    // vfio-read-88 (next) brings the same controller up and verifies through it.
  });

  test('pt-written data verifies through vfio, and a wrong seed fails the check', () => {
    okRun('pt-write-88', ['pt']);
    assert.equal(okRun('vfio-read-88', ['vfio'])[0].verifiedBlocks, 64);
    const bad = step('vfio-read-wrong-seed');
    assert.equal(bad.rc, 1, explain(bad));
    const [rec] = records(bad);
    assert.equal(rec.status, 'failed');
    assert.match(rec.errorMessage, /another run's seed/);
  });

  test('Ctrl-C mid-run: queues deleted, CC.SHN shutdown completes; after a SIGKILL the next bring-up works; nvme takes it back and works', () => {
    const s = step('sigint');
    assert.equal(s.extra?.signalled, true, explain(s));
    assert.equal(s.rc, 1, explain(s));
    const [rec] = records(s);
    assert.equal(rec.status, 'interrupted');
    assert.ok(rec.ios > 0);
    assert.match(s.stderr, /I\/O queue pair 1 deleted/);
    assert.match(s.stderr, /shutdown complete/);
    const killed = step('sigkill');
    assert.equal(killed.extra?.signalled, true, explain(killed));
    assert.equal(killed.rc, 128, explain(killed));
    okRun('vfio-after-kill', ['vfio']);
    const u = step('unbind-2');
    assert.equal(u.rc, 0, explain(u));
    assert.equal(u.extra?.ng1n1, true);
    okRun('pt-after-sigint', ['pt']);
  });

  test('--vfio-auto-bind runs pt, pt-poll and vfio on one controller and gives it back to nvme', (t) => {
    const recs = okRun('auto-bind', ['pt', 'pt-poll', 'vfio']);
    const s = step('auto-bind');
    assert.equal(s.extra?.driver, 'nvme', explain(s));
    assert.equal(s.extra?.ng1n1, true);
    assert.doesNotMatch(String(s.extra?.status ?? ''), /0000:00:11\.0/, 'no record left');
    assert.match(s.stderr, /bound 0000:00:11\.0 to vfio-pci \(was nvme\)/);
    assert.match(s.stderr, /gave 0000:00:11\.0 back to nvme/);
    t.diagnostic(recs.map((r) => `${r.engine} ${Math.round(r.iops)} IOPS`).join(', '));
  });

  test('zone-append through vfio: zones read through the vfio driver, every append in its zone and read back; refused on an NVM namespace', () => {
    const b = step('bind-0');
    assert.equal(b.rc, 0, explain(b));
    assert.equal(b.extra?.driver, 'vfio-pci');
    const [rec] = okRun('vfio-za', ['vfio']);
    assert.equal(rec.ios, 256);
    assert.equal(rec.verifiedBlocks, 256, 'every append read back where the device put it');
    const cmd = (JSON.parse(step('vfio-za').stdout) as { records: Array<{ command: Record<string, number> }> }).records[0].command;
    assert.deepEqual([cmd.opcode, cmd.zones, cmd.appendsChecked, cmd.appendsOutsideZone], [0x7d, 3, 256, 0]);
    assert.ok(cmd.zonesUsed >= 3);
    const nvm = step('vfio-za-nvm');
    assert.equal(nvm.rc, 2, explain(nvm));
    assert.match(nvm.stderr, /zone-append needs a zoned namespace: namespace 1 of 0000:00:10\.0 has Command Set Identifier 0x00 \(NVM\)/);
    const u = step('unbind-0');
    assert.equal(u.rc, 0, explain(u));
    assert.deepEqual([u.extra?.driver, u.extra?.ng0n1, u.extra?.ng0n3], ['nvme', true, true], explain(u));
  });

  test('the zone report and the FDP read run off the JS thread: timers fire through 1.5 s bring-ups; Ctrl-C during either ends it at once, the controller left on vfio-pci', (t) => {
    const p = step('zones-fdp-ticks');
    assert.equal(p.rc, 0, explain(p));
    const x = p.extra as { ticks: { zones: number; fdp: number }; ms: { zones: number; fdp: number }; zones: number; fdps: boolean | null };
    assert.equal(x.zones, 4, 'Report Zones read the first four zones');
    assert.equal(x.fdps, false, 'the zoned controller has no FDP: Identify Controller was read');
    assert.ok(x.ms.zones >= 1500 && x.ms.fdp >= 1500, `the ready delay did not hold the bring-ups: ${JSON.stringify(x.ms)}`);
    // 150 at 10 ms each; a loaded TCG guest fires fewer, but a bring-up on the JS thread fires none.
    assert.ok(x.ticks.zones >= 20 && x.ticks.fdp >= 20, `timer ticks during the bring-ups: ${JSON.stringify(x.ticks)}`);
    for (const [name, doing] of [['za-sigint', 'reading the zones of'], ['fdp-sigint', 'reading the FDP state of']] as const) {
      const s = step(name);
      const e = s.extra as { signalled: boolean; exitAfterSignalMs: number; driver: string };
      assert.ok(e.signalled, explain(s));
      assert.equal(s.rc, 1, explain(s));
      const lines = s.stderr.split('\n').filter((l) => l && !l.startsWith('nvmebench vfio: '));
      assert.equal(lines.length, 1, `one line past the debug log: ${JSON.stringify(lines)}`);
      assert.match(s.stderr, new RegExp(`interrupted \\(SIGINT\\) while ${doing} 0000:00:10\\.0; the controller was shut down and nothing ran`), explain(s));
      assert.doesNotMatch(s.stderr, /did not become ready|internal error|Report Zones through/, explain(s));
      assert.ok(e.exitAfterSignalMs >= 0 && e.exitAfterSignalMs < 5000, `${name}: exit ${e.exitAfterSignalMs} ms after SIGINT`);
      assert.equal(e.driver, 'vfio-pci', `${name}: the controller stays where the user bound it`);
      t.diagnostic(`${name}: exit ${e.exitAfterSignalMs} ms after SIGINT; stderr without debug lines: ${JSON.stringify(lines)}`);
    }
    t.diagnostic(`zones ${x.ms.zones} ms (${x.ticks.zones} ticks), FDP ${x.ms.fdp} ms (${x.ticks.fdp} ticks) of a 10 ms timer`);
  });

  test('errors: a controller not bound names the bind command; bind as non-root says root', () => {
    const nb = step('not-bound');
    assert.equal(nb.rc, 2, explain(nb)); // an engine that cannot run on the target is bad input, on a device as on a file
    assert.match(nb.stderr, /nvmebench vfio bind 0000:00:10\.0/);
    const nr = step('not-root');
    assert.equal(nr.rc, 1, explain(nr));
    assert.match(nr.stderr, /needs root/);
  });
});
