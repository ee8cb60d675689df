// Discovery and doctor logic on made-up machines (no NVMe needed), and the
// doctor and devices commands on this one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discover } from '../src/inventory/discovery.js';
import { DEFAULT_WANTED, runDoctor, type Check } from '../src/inventory/doctor.js';
import { formatCpuList, type DoctorOptions } from '../src/inventory/doctor-checks.js';
import { parseKernelVersion } from '../src/system/kernel.js';
import type { EngineName } from '../src/model.js';
import { runCli } from './cli.js';
import { EXTRA_PCI, NVME0_PCI, stubDeps, type MachineSpec } from './machines.js';

function doctor(spec: MachineSpec, opts: Partial<DoctorOptions> & { kernel?: string; uid?: number; gids?: number[] } = {}) {
  const deps = stubDeps(spec);
  const d = discover(deps);
  const report = runDoctor(
    { sys: deps.sys, kernelRelease: opts.kernel ?? '6.1.0-18-amd64', uid: opts.uid ?? (spec.root === false ? 1000 : 0), gids: opts.gids ?? [] },
    d,
    { wanted: opts.wanted ?? DEFAULT_WANTED, cpus: opts.cpus ?? [], cpusAuto: opts.cpusAuto },
  );
  const find = (id: string, subject?: string): Check => {
    const c = report.checks.find((x) => x.id === id && (subject === undefined || x.subject === subject));
    assert.ok(c, `no check ${id}${subject ? ` on ${subject}` : ''} in ${report.checks.map((x) => `${x.subject}/${x.id}`).join(', ')}`);
    return c;
  };
  return { d, report, find };
}

test('discovery: a controller, its namespace, nodes, format and engines from sysfs', () => {
  const d = discover(stubDeps({ lbaSize: 4096 }));
  assert.equal(d.controllers.length, 1);
  const c = d.controllers[0];
  assert.equal(c.name, 'nvme0');
  assert.equal(c.pciAddress, NVME0_PCI);
  assert.equal(c.driver, 'nvme');
  assert.equal(c.model, 'QEMU NVMe Ctrl');
  assert.equal(c.serial, 'nvmebench-lab-0');
  assert.equal(c.pciId, '1b36:0010');
  assert.equal(c.charPath, '/dev/nvme0');
  assert.equal(d.pollQueuesParam, 2);
  const ns = c.namespaces[0];
  assert.equal(ns.name, 'nvme0n1');
  assert.equal(ns.charPath, '/dev/ng0n1');
  assert.equal(ns.blockPath, '/dev/nvme0n1');
  assert.equal(ns.lbaSize, 4096);
  assert.equal(ns.capacityBytes, 64 * 1024 * 1024);
  assert.equal(ns.ioPoll, true);
  const usable = ns.engines.filter((v) => v.usable).map((v) => v.engine);
  assert.deepEqual(usable, ['psync', 'aio', 'uring', 'uring-poll', 'pt', 'pt-poll', 'ioctl']);
  assert.equal(ns.engines.find((v) => v.engine === 'uring-poll')!.node, '/dev/nvme0n1', 'block engines run on the block sibling');
  assert.equal(ns.engines.find((v) => v.engine === 'pt')!.node, '/dev/ng0n1');
});

test('discovery: no poll queues, no access, and a controller on vfio-pci', () => {
  const d = discover(stubDeps({ pollQueues: 0, root: false, accessible: ['/dev/nvme0n1'], extraPciDriver: 'vfio-pci' }));
  const ns = d.controllers[0].namespaces[0];
  const verdict = (e: EngineName) => ns.engines.find((v) => v.engine === e)!;
  assert.equal(verdict('uring').usable, true);
  assert.match(verdict('pt-poll').reason!, /poll queues/);
  assert.match(verdict('uring-poll').fix!, /poll_queues/);
  assert.match(verdict('pt').reason!, /no read-write access to \/dev\/ng0n1/);
  assert.match(verdict('pt').fix!, /chmod 0666 \/dev\/ng0n1/);
  const vfio = d.controllers.find((c) => c.pciAddress === EXTRA_PCI)!;
  assert.equal(vfio.name, undefined);
  assert.equal(vfio.driver, 'vfio-pci');
  assert.equal(vfio.iommuGroup, '7');
  assert.equal(vfio.vfioPath, '/dev/vfio/7');
  assert.equal(vfio.namespaces.length, 0);
  const uring = vfio.engines!.find((v) => v.engine === 'uring')!;
  assert.equal(uring.usable, false);
  assert.equal(uring.fix, `bind it to nvme: nvmebench vfio unbind ${EXTRA_PCI}`);
});

test('doctor: a well-set-up machine passes', () => {
  const { report } = doctor({ deviceNode: 0 });
  assert.deepEqual(report.counts, { ok: report.checks.length, warn: 0, fail: 0 }, JSON.stringify(report.checks.filter((c) => c.status !== 'ok'), null, 1));
});

test('doctor: poll queues fail only when a polled engine is wanted', () => {
  const plain = doctor({ pollQueues: 0 });
  assert.equal(plain.find('poll-queues', 'nvme0n1').status, 'warn');
  assert.equal(plain.report.counts.fail, 0);
  const polled = doctor({ pollQueues: 0 }, { wanted: ['pt-poll'] });
  const c = polled.find('poll-queues', 'nvme0n1');
  assert.equal(c.status, 'fail');
  assert.deepEqual(c.blocks, ['uring-poll', 'pt-poll']);
  assert.match(c.fix!, /nvme\.poll_queues=N/);
  assert.equal(polled.find('poll-queues-param').status, 'warn');
});

test('doctor: kernel versions against each feature', () => {
  assert.deepEqual(parseKernelVersion('5.15.0-91-generic'), [5, 15]);
  const old = doctor({}, { kernel: '5.15.0-91-generic' });
  const uringCmd = old.find('kernel.uring-cmd');
  assert.equal(uringCmd.status, 'fail', 'pt is wanted by default');
  assert.match(uringCmd.message, /older than 5\.19/);
  assert.equal(old.find('kernel.pt-iopoll').status, 'warn', 'pt-poll is not wanted by default');
  assert.equal(old.find('kernel.pt-vectored').status, 'warn');
  assert.match(old.find('kernel.pt-fixed').fix!, /--no-fixedbufs/);
  assert.match(old.find('kernel').message, /io_uring 5\.1.*\/dev\/ng 5\.13/);
  const modern = doctor({}, { kernel: '6.8.0' });
  assert.equal(modern.report.checks.filter((c) => c.id.startsWith('kernel.')).length, 0);
  assert.match(modern.find('kernel').message, /every feature/);
  const ancient = doctor({ noCharNodes: true }, { kernel: '5.10.0', wanted: ['uring'] });
  assert.equal(ancient.find('kernel.ng').status, 'warn');
  assert.equal(ancient.report.checks.some((c) => c.id === 'ng-node'), false, 'the kernel check already says why /dev/ng is missing');
});

test('doctor: kernel.io_uring_disabled', () => {
  assert.equal(doctor({}).find('io-uring-disabled').status, 'ok');
  const off = doctor({ ioUringDisabled: 2 }).find('io-uring-disabled');
  assert.equal(off.status, 'fail');
  assert.match(off.fix!, /sysctl kernel\.io_uring_disabled=0/);
  assert.equal(doctor({ ioUringDisabled: 1 }).find('io-uring-disabled').status, 'ok', 'root may');
  assert.equal(doctor({ ioUringDisabled: 1, root: false, ioUringGroup: 44 }, { gids: [44] }).find('io-uring-disabled').status, 'ok', 'a member of io_uring_group may');
  assert.equal(doctor({ ioUringDisabled: 1, root: false, ioUringGroup: 44 }, { gids: [100] }).find('io-uring-disabled').status, 'fail');
  assert.equal(doctor({ ioUringDisabled: 2 }, { wanted: ['psync', 'aio'] }).find('io-uring-disabled').status, 'warn');
});

test('doctor: access to /dev/ng for non-root users, by kernel', () => {
  const none = doctor({ root: false, accessible: ['/dev/nvme0n1'] }, { kernel: '6.5.0' }).find('access-ng');
  assert.equal(none.status, 'fail');
  assert.match(none.message, /no read-write access to \/dev\/ng0n1 \(mode 0600, owner root\)/);
  assert.match(none.fix!, /sudo chmod 0666 \/dev\/ng0n1/);
  const open65 = doctor({ root: false, accessible: ['/dev/nvme0n1', '/dev/ng0n1'] }, { kernel: '6.5.0' }).find('access-ng');
  assert.equal(open65.status, 'ok');
  const open61 = doctor({ root: false, accessible: ['/dev/nvme0n1', '/dev/ng0n1'] }, { kernel: '6.1.0' }).find('access-ng');
  assert.equal(open61.status, 'fail', 'before 6.2 passthrough needs CAP_SYS_ADMIN');
  assert.match(open61.message, /CAP_SYS_ADMIN/);
  assert.equal(doctor({}).find('access').status, 'ok');
  const block = doctor({ root: false, accessible: ['/dev/ng0n1'] }, { kernel: '6.5.0' }).find('access-block');
  assert.equal(block.status, 'fail');
  assert.match(block.fix!, /chmod o\+rw \/dev\/nvme0n1/);
});

test('doctor: block queue settings and the governor warn with the fix', () => {
  const { find, report } = doctor({ scheduler: 'none [mq-deadline] kyber', iostats: '1', nomerges: '0', wbt: '2000', governor: 'powersave' });
  const sched = find('scheduler');
  assert.equal(sched.status, 'warn');
  assert.match(sched.message, /mq-deadline/);
  assert.equal(sched.fix, 'echo none | sudo tee /sys/block/nvme0n1/queue/scheduler');
  assert.equal(find('iostats').fix, 'echo 0 | sudo tee /sys/block/nvme0n1/queue/iostats');
  assert.equal(find('nomerges').fix, 'echo 2 | sudo tee /sys/block/nvme0n1/queue/nomerges');
  assert.equal(find('wbt').fix, 'echo 0 | sudo tee /sys/block/nvme0n1/queue/wbt_lat_usec');
  const gov = find('cpu-governor');
  assert.equal(gov.status, 'warn');
  assert.match(gov.message, /powersave on CPUs 0-3/);
  assert.match(gov.fix!, /cpupower frequency-set -g performance/);
  assert.equal(report.counts.fail, 0, 'settings that change results never fail');
  assert.equal(doctor({ governor: null }).find('cpu-governor').status, 'ok', 'no cpufreq is fine');
  assert.match(doctor({ governor: null }).find('cpu-governor').message, /no cpufreq/);
});

test('doctor: NUMA node of the device against the pinned CPUs', () => {
  assert.equal(doctor({ numaNodes: 1 }).find('numa').status, 'ok');
  const far = doctor({ cpus: 8, numaNodes: 2, deviceNode: 1 }, { cpus: [0, 1] }).find('numa');
  assert.equal(far.status, 'warn');
  assert.match(far.message, /CPUs 0-1 \(--cpus\) are not on the device's NUMA node 1 \(CPUs 4-7\)/);
  assert.equal(far.fix, "pin to the device's node: --cpus 4-5");
  assert.equal(doctor({ cpus: 8, numaNodes: 2, deviceNode: 1 }, { cpus: [5] }).find('numa').status, 'ok');
  assert.match(doctor({ cpus: 8, numaNodes: 2, deviceNode: 1 }).find('numa').fix!, /--cpus auto, or --cpus 4/);
  // --cpus auto (src/run/cpus.ts) pins to the node doctor reads: nothing to warn about.
  const auto = doctor({ cpus: 8, numaNodes: 2, deviceNode: 1 }, { cpusAuto: true }).find('numa');
  assert.equal(auto.status, 'ok');
  assert.match(auto.message, /NUMA node 1 \(CPUs 4-7\): --cpus auto pins its workers there/);
});

test('doctor: binding to vfio-pci', () => {
  const { find } = doctor({ extraPciDriver: 'vfio-pci' }, { wanted: ['vfio'] });
  const binding = find('binding', EXTRA_PCI);
  assert.equal(binding.status, 'ok');
  assert.match(binding.message, /bound to vfio-pci: only the vfio engine/);
  assert.equal(find('vfio-group', EXTRA_PCI).status, 'ok');
  assert.equal(find('binding', 'nvme0').status, 'ok');
  const unbound = doctor({ extraPciDriver: '' }).find('binding', EXTRA_PCI);
  assert.equal(unbound.status, 'warn');
  assert.match(unbound.fix!, /drivers_probe/);
});

test('formatCpuList', () => {
  assert.equal(formatCpuList([0, 1, 2, 3, 8, 10, 11]), '0-3,8,10-11');
  assert.equal(formatCpuList([5]), '5');
});

test('devices and doctor on this machine: no crash, the right shape', () => {
  const devices = runCli(['devices', '--json']);
  assert.equal(devices.code, 0, devices.stderr);
  const parsed = JSON.parse(devices.stdout) as { controllers: unknown[] };
  assert.ok(Array.isArray(parsed.controllers));
  const human = runCli(['devices']);
  assert.equal(human.code, 0, human.stderr);
  if (!parsed.controllers.length) assert.match(human.stdout, /No NVMe controllers found[\s\S]*nvmebench lab -- devices/);
  const doc = runCli(['doctor', '--json']);
  const report = JSON.parse(doc.stdout) as { checks: Check[]; counts: Record<string, number> };
  assert.equal(doc.code, report.counts.fail ? 1 : 0);
  assert.ok(report.checks.some((c) => c.id === 'kernel'));
  const bad = runCli(['doctor', '--engine', 'turbo']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown engine 'turbo'/);
});
