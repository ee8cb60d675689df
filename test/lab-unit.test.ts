// The lab's pieces that need no boot: the cpio writer, option parsing, the
// plan (QEMU arguments, job and command scripts), module ordering, and the
// init script's syntax. Plus the CLI's usage errors, which exit before QEMU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BenchError } from '../src/errors.js';
import { buildCpio, listCpio } from '../src/lab/cpio.js';
import { defaultLabOptions, parseNsProps, parseIntIn, parseLbaSize, validateLabOptions, zoneSizeFor, type LabOptions } from '../src/lab/options.js';
import { parseSize } from '../src/plan/units.js';
import { cmdScript, describeLab, jobScript, planLab, qemuArgs, shq, kernelCmdline } from '../src/lab/plan.js';
import { labOptionsFrom } from '../src/commands/lab.js';
import { moduleLoadOrder, parseModulesDep } from '../src/lab/kernel.js';
import { INIT_SCRIPT } from '../src/lab/initramfs.js';
import { chooseAccel, isStaticElf, which } from '../src/lab/host.js';
import { ROOT, runCli } from './cli.js';

function opts(over: Partial<LabOptions> = {}): LabOptions {
  return { ...defaultLabOptions(), cwd: '/work/somewhere', ...over };
}

function usage(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof BenchError && e.kind === 'usage');
}

test('cpio: newc archive round-trips names, modes and sizes, 4-byte aligned', () => {
  const buf = buildCpio([
    { path: 'bin', kind: 'dir' },
    { path: 'bin/busybox', kind: 'file', mode: 0o755, data: Buffer.alloc(5, 1) },
    { path: 'bin/sh', kind: 'symlink', data: 'busybox' },
    { path: 'init', kind: 'file', mode: 0o755, data: '#!/bin/sh\n' },
  ]);
  assert.equal(buf.length % 4, 0);
  const list = listCpio(buf);
  assert.deepEqual(
    list.map((e) => e.name),
    ['bin', 'bin/busybox', 'bin/sh', 'init'],
  );
  assert.equal(list[0].mode & 0o170000, 0o040000);
  assert.equal(list[1].mode, 0o100755);
  assert.equal(list[1].size, 5);
  assert.equal(list[2].mode & 0o170000, 0o120000);
  assert.equal(list[2].size, 'busybox'.length);
});

test('options: sizes, ranges and block sizes', () => {
  assert.equal(parseSize('64M', 'x'), 64 * 1024 * 1024);
  assert.equal(parseSize('1G', 'x'), 1024 ** 3);
  assert.equal(parseSize('4096', 'x'), 4096);
  assert.equal(parseSize('1.5k', 'x'), 1536);
  usage(() => parseSize('lots', 'x'));
  assert.equal(parseIntIn('3', 'x', 1, 8), 3);
  usage(() => parseIntIn('9', 'x', 1, 8));
  usage(() => parseIntIn('2.5', 'x', 1, 8));
  assert.equal(parseLbaSize('4k'), 4096);
  usage(() => parseLbaSize('1024'));
  usage(() => validateLabOptions(opts({ nsSize: 1000 + 64 * 1024 * 1024 })));
  usage(() => validateLabOptions(opts({ controllers: 0 })));
  validateLabOptions(opts());
  assert.equal(zoneSizeFor(64 * 1024 * 1024), 8 * 1024 * 1024);
  assert.equal(zoneSizeFor(64 * 1024 ** 3), 128 * 1024 * 1024);
});

test('plan: controllers, PCI addresses, VFIO on the last one, shares', () => {
  const o = opts({ controllers: 3, namespaces: 2, vfio: true, zoned: true, shares: ['/work/somewhere/sub', '/data'] });
  const plan = planLab(o, '/tmp/nvmebench-lab-x');
  assert.deepEqual(
    plan.controllers.map((c) => [c.bdf, c.vfio, c.instance, c.namespaces.length]),
    [
      ['0000:00:10.0', false, 0, 3],
      ['0000:00:11.0', false, 1, 2],
      ['0000:00:12.0', true, -1, 2],
    ],
  );
  assert.equal(plan.controllers[0].namespaces[2].zoned, true);
  // The share inside the cwd is covered by the cwd's.
  assert.deepEqual(
    plan.shares.map((s) => s.path),
    ['/data', '/work/somewhere'],
  );
  assert.deepEqual(planLab(opts({ cwd: '/' }), '/tmp/j').shares, [], 'never share / writable');
  // Run from the package itself: its code is shown from the cached read-only root, over the share.
  const fromRoot = planLab(opts({ cwd: ROOT }), '/tmp/j');
  const real = fs.realpathSync(ROOT);
  assert.deepEqual(fromRoot.shares.map((s) => s.path), [real]);
  for (const d of ['dist', 'node_modules']) assert.ok(fromRoot.codeBinds.includes(path.join(real, d)), `${d} bound read-only`);
  const job = jobScript(opts({ cwd: ROOT }), fromRoot, { release: 'r', modulesDir: '/m' }, 'run', '');
  assert.ok(job.indexOf(`lab_bind '${path.join(real, 'dist')}'`) > job.indexOf('lab_share share0'));
});

test('plan: QEMU arguments', () => {
  const o = opts({ controllers: 2, vfio: true, lbaSize: 4096, zoned: true });
  const plan = planLab(o, '/tmp/j');
  const args = qemuArgs(o, plan, { accel: 'tcg', kernelImage: '/k', initrd: '/i', jobDir: '/tmp/j', shell: false });
  const devices = args.flatMap((a, i) => (args[i - 1] === '-device' ? [a] : []));
  const iommu = devices.findIndex((d) => d.startsWith('intel-iommu'));
  const firstNvme = devices.findIndex((d) => d.startsWith('nvme,'));
  assert.ok(iommu >= 0 && iommu < firstNvme, 'the IOMMU comes before the NVMe controllers');
  assert.ok(devices.includes('nvme,id=nvme0,serial=nvmebench-lab-0,addr=0x10'));
  assert.ok(devices.some((d) => d.startsWith('nvme-ns,') && d.includes('logical_block_size=4096') && d.includes('physical_block_size=4096')));
  assert.ok(devices.some((d) => d.includes('zoned=true') && d.includes('zoned.zone_size=')));
  assert.ok(args.includes('local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap'));
  assert.ok(args.includes('tcg,thread=multi'));
  const cmdline = kernelCmdline(o, { accel: 'tcg', kernelImage: '/k', initrd: '/i', jobDir: '/tmp/j', shell: false });
  assert.match(cmdline, /intel_iommu=on/);
  assert.match(cmdline, /nvmebench\.job=\/tmp\/j/);
  assert.match(cmdline, /tsc=reliable/);
  assert.match(cmdline, /no_timer_check/, 'a loaded TCG host must not panic the IOMMU guest at the timer check');
  assert.doesNotMatch(kernelCmdline(o, { accel: 'kvm', kernelImage: '/k', initrd: '/i', jobDir: '/tmp/j', shell: false }), /no_timer_check/);
  const plain = qemuArgs(opts(), planLab(opts(), '/tmp/j'), { accel: 'kvm', kernelImage: '/k', initrd: '/i', jobDir: '/tmp/j', shell: false });
  assert.ok(!plain.some((a) => a.startsWith('intel-iommu')));
  assert.ok(plain.includes('kvm'));
});

test('--ns-props: strict key=value, the lab\'s own properties refused, on the namespaces named, into QEMU\'s nvme-ns', () => {
  const usageFix = (fn: () => unknown, message: RegExp, fix: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof BenchError && e.kind === 'usage' && message.test(e.message) && fix.test(e.fix));
  assert.deepEqual(parseNsProps('2:mssrl=0,mcl=0,msrc=0'), { text: '2:mssrl=0,mcl=0,msrc=0', controller: undefined, nsid: 2, props: [['mssrl', '0'], ['mcl', '0'], ['msrc', '0']] });
  assert.deepEqual(parseNsProps('c1n3:zoned.max_open=2,share-rw=on,uuid=8d2a1c3e-0000-4000-8000-000000000001').props, [
    ['zoned.max_open', '2'],
    ['share-rw', 'on'],
    ['uuid', '8d2a1c3e-0000-4000-8000-000000000001'],
  ]);
  assert.equal(parseNsProps('c1n3:ms=8').controller, 1);
  // Syntax: a namespace first, then key=value pairs, nothing empty or odd.
  for (const bad of ['mssrl=0', '2', '2:', 'x:mssrl=0', '0:mssrl=0', '-1:mssrl=0', 'n2:mssrl=0']) usageFix(() => parseNsProps(bad), /--ns-props/, /--ns-props 2:mssrl=0/);
  for (const bad of ['2:mssrl', '2:mssrl=', '2:=0', '2:mssrl=0,', '2:mssrl=0,,mcl=0', '2:MSSRL=0', '2:mssrl=0 ', '2:mssrl="0"', '2:a=b=c', '2:mssrl=0;reboot'])
    usageFix(() => parseNsProps(bad), /is not key=value/, /key=value, comma-separated/);
  // What the lab sets itself, with the option that sets it.
  usageFix(() => parseNsProps('2:logical_block_size=4096'), /the lab sets logical_block_size itself/, /--lba-size/);
  usageFix(() => parseNsProps('2:zoned=true'), /the lab sets zoned itself/, /--zoned/);
  usageFix(() => parseNsProps('3:zoned.zone_size=4M'), /the lab sets zoned\.zone_size itself/, /--ns-size/);
  usageFix(() => parseNsProps('1:nsid=5'), /the lab sets nsid itself/, /N:/);
  usageFix(() => parseNsProps('1:bus=nvme1'), /the lab sets bus itself/, /cCnN:/);
  usageFix(() => parseNsProps('1:drive=x'), /the lab sets drive itself/, /backing file/);
  usageFix(() => parseNsProps('1:mssrl=0,mssrl=1'), /gives mssrl twice/, /once/);
  // The namespace must exist: nsid 1..--namespaces on every controller, the zoned one after them on controller 0.
  const withProps = (o: Partial<LabOptions>, ...specs: string[]) => opts({ ...o, nsProps: specs.map(parseNsProps) });
  validateLabOptions(withProps({ namespaces: 2 }, '2:mssrl=0'));
  validateLabOptions(withProps({ namespaces: 2, zoned: true }, '3:zoned.max_open=2'));
  validateLabOptions(withProps({ controllers: 2, namespaces: 2, zoned: true }, 'c1n2:mssrl=0', 'c0n2:mcl=4', '3:zoned.max_open=2'));
  usageFix(() => validateLabOptions(withProps({ namespaces: 2 }, '3:mssrl=0')), /there is no namespace 3 \(the lab numbers them 1, 2\)/, /--namespaces/);
  usageFix(() => validateLabOptions(withProps({ controllers: 2, namespaces: 1, zoned: true }, 'c1n2:mssrl=0')), /there is no namespace 2 of controller 1/, /--namespaces/);
  usageFix(() => validateLabOptions(withProps({ controllers: 2 }, 'c2n1:mssrl=0')), /there is no controller 2 \(the lab has 2, numbered from 0\)/, /c0n1:\.\.\. to c1n1:/);
  usageFix(() => validateLabOptions(withProps({ namespaces: 2 }, '2:mssrl=0', 'c0n2:mssrl=1')), /gives mssrl twice for namespace 2 of controller 0/, /once/);
  // Into QEMU: appended to the nvme-ns of the namespaces named, after what the lab sets; none elsewhere.
  const o = withProps({ controllers: 2, namespaces: 2, zoned: true }, '2:mssrl=0,mcl=0,msrc=0', 'c1n1:ms=0', '3:zoned.max_open=2');
  const plan = planLab(o, '/tmp/j');
  const devices = qemuArgs(o, plan, { accel: 'tcg', kernelImage: '/k', initrd: '/i', jobDir: '/tmp/j', shell: false }).filter((a) => a.startsWith('nvme-ns,'));
  const ns = (bus: string, nsid: number) => devices.find((d) => d.includes(`bus=${bus},nsid=${nsid},`)) ?? '';
  assert.match(ns('nvme0', 2), /,physical_block_size=512,mssrl=0,mcl=0,msrc=0$/);
  assert.match(ns('nvme1', 2), /,mssrl=0,mcl=0,msrc=0$/, 'N: is every controller\'s namespace N');
  assert.match(ns('nvme1', 1), /,physical_block_size=512,ms=0$/);
  assert.match(ns('nvme0', 3), /zoned=true,zoned\.zone_size=\d+,zoned\.max_open=2$/);
  assert.doesNotMatch(ns('nvme0', 1), /mssrl|ms=/);
  assert.match(describeLab(o, plan), /c0n2 mssrl=0,mcl=0,msrc=0/);
  // From the CLI's strings, repeatable.
  assert.deepEqual(labOptionsFrom({ nsProps: ['2:mssrl=0', 'c0n1:mcl=8'] }).nsProps.map((p) => [p.controller, p.nsid, p.props]), [
    [undefined, 2, [['mssrl', '0']]],
    [0, 1, [['mcl', '8']]],
  ]);
  assert.deepEqual(labOptionsFrom({}).nsProps, []);
});

test('plan: job script binds VFIO first and probes kernel controllers in order', () => {
  const o = opts({ controllers: 3, namespaces: 1, vfio: true, pollQueues: 0 });
  const job = jobScript(o, planLab(o, '/tmp/j'), { release: '6.1.0-1-amd64', modulesDir: '/c/lib/modules/6.1.0-1-amd64' }, 'run', '');
  const lines = job.split('\n');
  const idx = (re: RegExp) => lines.findIndex((l) => re.test(l));
  assert.ok(lines.includes("LAB_PARAM_nvme='poll_queues=0'"));
  assert.ok(idx(/^lab_override 0000:00:12.0 vfio-pci$/) < idx(/^lab_modules nvme$/));
  assert.ok(idx(/^lab_override 0000:00:11.0 none$/) < idx(/^lab_modules nvme$/));
  assert.ok(idx(/^lab_nvme 0000:00:10.0 0$/) < idx(/^lab_nvme 0000:00:11.0 1$/));
  assert.ok(idx(/^lab_dev .*\/dev\/ng1n1/) > 0);
  assert.ok(idx(/^lab_vfio 0000:00:12.0$/) > idx(/^lab_modules vfio$/));
  assert.ok(idx(/^lab_share share0 '\/work\/somewhere'$/) > idx(/^lab_root$/));
  assert.equal(lines.filter(Boolean).pop(), 'lab_run');
});

test('plan: the guest command survives any quoting', () => {
  for (const s of ["it's", 'a b', '$HOME', '`x`', '"q"', '\\', '']) {
    const r = spawnSync('/bin/sh', ['-c', `printf %s ${shq(s)}`], { encoding: 'utf8' });
    assert.equal(r.stdout, s);
  }
  const cmd = cmdScript(opts(), { argv: ['randread', '--csv', "it's here.csv"] }, '/root');
  assert.match(cmd, /NVMEBENCH_LAB='1'/);
  assert.match(cmd, /^cd '\/work\/somewhere' \|\|/m);
  assert.match(cmd, /'randread' '--csv' 'it'\\''s here\.csv'$/m);
  assert.match(cmdScript(opts(), { exec: 'exit 3' }, '/root'), /^exec \/bin\/sh -c 'exit 3'$/m);
  assert.equal(spawnSync('/bin/sh', ['-n', '-c', cmd]).status, 0);
});

test('modules: dependencies load first, once; built-ins skipped; unknown ones fail', () => {
  const dep = parseModulesDep(
    [
      'kernel/drivers/nvme/host/nvme.ko: kernel/drivers/nvme/host/nvme-core.ko kernel/lib/crc64-rocksoft.ko kernel/lib/crc64.ko',
      'kernel/drivers/nvme/host/nvme-core.ko: kernel/lib/crc64-rocksoft.ko kernel/lib/crc64.ko',
      'kernel/lib/crc64-rocksoft.ko: kernel/lib/crc64.ko',
      'kernel/lib/crc64.ko:',
      'kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz',
      'kernel/net/9p/9pnet.ko.xz:',
    ].join('\n'),
  );
  const order = moduleLoadOrder(dep, new Set(['virtio_pci']), ['nvme', 'virtio_pci', '9p']).map((d) => d.file.split('/').pop());
  assert.deepEqual(order, ['crc64.ko', 'crc64-rocksoft.ko', 'nvme-core.ko', 'nvme.ko', '9pnet.ko.xz', '9p.ko.xz']);
  assert.throws(() => moduleLoadOrder(dep, new Set(), ['vfio_pci']));
});

test('init script: valid busybox sh', () => {
  const busybox = which('busybox');
  assert.ok(busybox, 'busybox is installed (the lab needs busybox-static)');
  assert.ok(isStaticElf(busybox), `${busybox} is statically linked`);
  const r = spawnSync(busybox, ['sh', '-n', '-c', INIT_SCRIPT], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const fn of ['lab_modules', 'lab_override', 'lab_nvme', 'lab_dev', 'lab_vfio', 'lab_root', 'lab_bind', 'lab_kmods', 'lab_share', 'lab_ready', 'lab_run', 'lab_shell']) {
    assert.match(INIT_SCRIPT, new RegExp(`^${fn}\\(\\) \\{`, 'm'));
  }
});

test('accel: tcg when asked; auto never picks a /dev/kvm without kvm_intel/kvm_amd', async () => {
  assert.equal(chooseAccel('tcg').accel, 'tcg');
  const real = ['kvm_intel', 'kvm_amd'].some((m) => fs.existsSync(`/sys/module/${m}`));
  if (!real) assert.equal(chooseAccel('auto').accel, 'tcg');
});

test('CLI: bad lab options are usage errors (exit 2) before anything boots', () => {
  for (const args of [
    ['lab', '--controllers', '9'],
    ['lab', '--lba-size', '1000'],
    ['lab', '--ns-size', 'huge'],
    ['lab', '--accel', 'hvf'],
    ['lab', '--shell', '--exec', 'true'],
    ['lab', '--exec', 'true', '--', 'devices'],
    ['demo', '--qd', 'deep'],
    ['lab', '--ns-props', '2:mssrl'],
    ['lab', '--ns-props', '2:logical_block_size=4096'],
    ['lab', '--namespaces', '2', '--ns-props', '3:mssrl=0'],
  ]) {
    const r = runCli(args, { timeoutMs: 30_000 });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^nvmebench: /m);
  }
  const help = runCli(['lab', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--controllers/);
  assert.match(help.stdout, /--vfio/);
  assert.match(help.stdout, /--ns-props/);
});

test('lab --ssh-port: user networking forwarded from 127.0.0.1 only, restricted; the guest loads virtio_net and takes 10.0.2.15', () => {
  const o = labOptionsFrom({ sshPort: '42022' } as Parameters<typeof labOptionsFrom>[0]);
  assert.equal(o.sshPort, 42022);
  const plan = planLab({ ...o, cwd: ROOT }, '/tmp/j');
  const args = qemuArgs({ ...o, cwd: ROOT }, plan, { accel: 'tcg', kernelImage: '/k', initrd: '/i', jobDir: '/tmp/j', shell: false });
  assert.equal(args[args.indexOf('-netdev') + 1], 'user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:42022-:22');
  assert.equal(args[args.indexOf('-netdev') + 3], 'virtio-net-pci,netdev=n0');
  const job = jobScript({ ...o, cwd: ROOT }, plan, { release: 'r', modulesDir: '/m' }, 'run', '');
  assert.match(job, /lab_kmods [^\n]*\nlab_share[^\n]*\nmodprobe virtio_net \|\| die/);
  assert.match(job, /ip addr add 10\.0\.2\.15\/24 dev eth0/);
  // Without it: no network at all.
  const none = qemuArgs({ ...defaultLabOptions(), cwd: ROOT }, planLab({ ...defaultLabOptions(), cwd: ROOT }, '/tmp/j'), { accel: 'tcg', kernelImage: '/k', initrd: '/i', jobDir: '/tmp/j', shell: false });
  assert.ok(!none.includes('-netdev'));
  assert.throws(() => labOptionsFrom({ sshPort: '22' } as Parameters<typeof labOptionsFrom>[0]), /--ssh-port/);
});
