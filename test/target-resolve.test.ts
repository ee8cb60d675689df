// Target resolution helpers: a controller node (/dev/nvme0) with or without
// --nsid, multipath namespaces, and --nsid against a namespace node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controllerNamespaceNames } from '../src/system/nvme-sysfs.js';
import { BenchError } from '../src/errors.js';
import { memorySys } from '../src/system/sysfs.js';
import { checkNsid, namespaceOfController, pickNamespace } from '../src/target/probe.js';
import { interruptibleVfio, probeInterrupted } from '../src/target/pci.js';
import { native } from '../src/native/addon.js';
import type { NvmeNamespace } from '../src/target/target.js';
import { devNumbers } from '../src/system/sysfs.js';
import { normalizePciAddress as pciAddressArg } from '../src/system/pci.js';
import { runCli } from './cli.js';
import { machine } from './machines.js';

function usage(fn: () => unknown, message: RegExp, fix?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BenchError, String(err));
    assert.equal(err.kind, 'usage');
    assert.match(err.message, message);
    if (fix) assert.match(err.fix, fix);
    return true;
  });
}

test('pickNamespace: one namespace needs no --nsid; several do', () => {
  const one = [{ instance: 0, nsid: 1 }];
  const three = [1, 2, 5].map((nsid) => ({ instance: 0, nsid }));
  assert.deepEqual(pickNamespace('/dev/nvme0', one, undefined), { instance: 0, nsid: 1 });
  assert.deepEqual(pickNamespace('/dev/nvme0', three, 5), { instance: 0, nsid: 5 });
  usage(() => pickNamespace('/dev/nvme0', three, undefined), /\/dev\/nvme0 is a controller with 3 namespaces \(nsids 1, 2, 5\)/, /--nsid N, or a namespace node: \/dev\/ng0n1, \/dev\/ng0n2, \/dev\/ng0n5/);
  usage(() => pickNamespace('/dev/nvme0', three, 3), /has no namespace 3 \(it has nsids 1, 2, 5\)/, /--nsid 1/);
  usage(() => pickNamespace('/dev/nvme0', [], undefined), /controller with no namespaces/, /nvme create-ns/);
});

test('namespaceOfController: /dev/nvme0 (+ --nsid) → /dev/ng0nN', () => {
  const sys = memorySys(machine({ namespaces: 2 }));
  assert.deepEqual(controllerNamespaceNames(sys, 'nvme0'), [
    { instance: 0, index: 1, nsid: 1 },
    { instance: 0, index: 2, nsid: 2 },
  ]);
  assert.equal(namespaceOfController('/dev/nvme0', 'nvme0', 2, sys), '/dev/ng0n2');
  usage(() => namespaceOfController('/dev/nvme0', 'nvme0', undefined, sys), /2 namespaces/);
  const single = memorySys(machine({ namespaces: 1 }));
  assert.equal(namespaceOfController('/dev/nvme0', 'nvme0', undefined, single), '/dev/ng0n1');
  const noChar = memorySys(machine({ namespaces: 1, noCharNodes: true }));
  assert.equal(namespaceOfController('/dev/nvme0', 'nvme0', undefined, noChar), '/dev/nvme0n1', 'the block node when there is no char node');
});

test('namespaceOfController goes by the nsid in sysfs, not by the node\'s number: 6.12 may name nsid 2 nvme0n1', () => {
  const sys = memorySys({
    files: {
      // As sysfs has them: the ng char devices (no nsid attribute) list before the block devices.
      '/sys/devices/pci0000:00/0000:00:10.0/nvme/nvme0/ng0n1/dev': '240:0',
      '/sys/devices/pci0000:00/0000:00:10.0/nvme/nvme0/ng0n2/dev': '240:1',
      '/sys/devices/pci0000:00/0000:00:10.0/nvme/nvme0/nvme0n1/nsid': '2',
      '/sys/devices/pci0000:00/0000:00:10.0/nvme/nvme0/nvme0n2/nsid': '1',
      '/dev/ng0n1': '',
      '/dev/ng0n2': '',
    },
    links: { '/sys/class/nvme/nvme0': '/sys/devices/pci0000:00/0000:00:10.0/nvme/nvme0' },
  });
  assert.deepEqual(controllerNamespaceNames(sys, 'nvme0'), [
    { instance: 0, index: 2, nsid: 1 },
    { instance: 0, index: 1, nsid: 2 },
  ]);
  assert.equal(namespaceOfController('/dev/nvme0', 'nvme0', 1, sys), '/dev/ng0n2');
  assert.equal(namespaceOfController('/dev/nvme0', 'nvme0', 2, sys), '/dev/ng0n1');
  usage(() => namespaceOfController('/dev/nvme0', 'nvme0', undefined, sys), /2 namespaces \(nsids 1, 2\)/, /\/dev\/ng0n2, \/dev\/ng0n1/);
});

test('controllerNamespaceNames: multipath heads live under the subsystem', () => {
  const sys = memorySys({
    files: {
      '/sys/devices/virtual/nvme-subsystem/nvme-subsys3/nvme3n1/size': '100',
      '/sys/devices/virtual/nvme-subsystem/nvme-subsys3/ng3n1/dev': '240:0',
      '/sys/devices/pci0000:00/0000:00:10.0/nvme/nvme1/nvme3c1n1/size': '100',
    },
    links: {
      '/sys/class/nvme/nvme1': '/sys/devices/pci0000:00/0000:00:10.0/nvme/nvme1',
      '/sys/class/nvme-subsystem/nvme-subsys3': '/sys/devices/virtual/nvme-subsystem/nvme-subsys3',
      '/sys/devices/virtual/nvme-subsystem/nvme-subsys3/nvme1': '/sys/devices/pci0000:00/0000:00:10.0/nvme/nvme1',
    },
  });
  assert.deepEqual(controllerNamespaceNames(sys, 'nvme1'), [{ instance: 3, index: 1, nsid: 1 }], 'the head nvme3n1, not the hidden path nvme3c1n1');
});

test('checkNsid: --nsid must match a namespace node', () => {
  const ns = { name: 'nvme0n1', controller: 'nvme0', nsid: 1 } as NvmeNamespace;
  checkNsid(ns, undefined, '/dev/ng0n1');
  checkNsid(ns, 1, '/dev/ng0n1');
  checkNsid(undefined, 4, '/tmp/file');
  usage(() => checkNsid(ns, 2, '/dev/ng0n1'), /--nsid 2 does not match \/dev\/ng0n1, which is namespace 1/, /\/dev\/ng0n2, or the controller: \/dev\/nvme0 --nsid 2/);
});

test('PCI address arguments', () => {
  assert.equal(pciAddressArg('0000:00:10.0'), '0000:00:10.0');
  assert.equal(pciAddressArg('00:1F.0'), '0000:00:1f.0');
  assert.equal(pciAddressArg('/dev/nvme0'), undefined);
  assert.equal(pciAddressArg('00:10.8'), undefined);
});

test('a char device that is not NVMe is refused', () => {
  const r = runCli(['randread', '--runtime', '0.1', '/dev/null']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\/dev\/null is a character device but not an NVMe generic namespace node/);
});

test('devNumbers: rdev to major:minor, also past 32 bits', () => {
  // glibc makedev: major low 12 bits at 8, high bits at 44; minor low 8 bits at 0, the rest at 20.
  const makedev = (major: number, minor: number) => Number((BigInt(major & 0xfff) << 8n) | (BigInt(major & ~0xfff) << 32n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n));
  assert.equal(devNumbers(makedev(259, 0)), '259:0', 'NVMe block devices are major 259');
  assert.equal(devNumbers(makedev(259, 300)), '259:300');
  assert.equal(devNumbers(makedev(8, 16)), '8:16');
  assert.equal(devNumbers(makedev(4097, 1)), '4097:1');
});

test('a vfio probe is awaited with Ctrl-C held: SIGINT sets the abort flag, the call ends, the command stops with one line', async () => {
  const listeners = process.listenerCount('SIGINT');
  let flagSeen = false;
  const probe = interruptibleVfio('0000:00:11.0', (abort) => {
    // Signal ourselves once the probe is waiting, as a user at the terminal would.
    setTimeout(() => process.kill(process.pid, 'SIGINT'), 20);
    return new Promise<number>((_resolve, reject) => {
      const poll = setInterval(() => {
        if (!Atomics.load(abort, 0)) return;
        flagSeen = true;
        clearInterval(poll);
        reject(Object.assign(new Error('interrupted while 0000:00:11.0 came up'), { code: 'EINTR' }));
      }, 5);
    });
  });
  await assert.rejects(probe, (err: unknown) => {
    assert.ok(err instanceof BenchError && err.kind === 'run', String(err));
    assert.match(err.message, /^interrupted \(SIGINT\) while probing 0000:00:11\.0; the controller was shut down and nothing ran$/);
    assert.ok(probeInterrupted(err));
    return true;
  });
  assert.ok(flagSeen, 'the signal reached the abort flag');
  assert.equal(process.listenerCount('SIGINT'), listeners, 'the handler is gone once the probe is');
  // No signal: the call's result and its own errors pass through untouched.
  assert.equal(await interruptibleVfio('x', async () => 7), 7);
  await assert.rejects(interruptibleVfio('x', async () => Promise.reject(new Error('ENODEV here'))), (err: unknown) => !probeInterrupted(err) && /ENODEV here/.test(String(err)));
});

test('vfioProbe is a promise: a missing device rejects with its errno, a bad abort flag is refused at once', async () => {
  const abort = new Int32Array(new SharedArrayBuffer(4));
  const pending = native().vfioProbe('fffe:00:00.0', 1, abort);
  assert.ok(pending instanceof Promise);
  await assert.rejects(pending, (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && /no PCI device fffe:00:00\.0/.test(err.message));
  assert.throws(() => native().vfioProbe('fffe:00:00.0', 1, {} as Int32Array), /an Int32Array/);
});
