// The passthrough engines (pt, pt-poll, ioctl), devices, doctor, profiles and
// target resolution, for real, in `nvmebench lab` guests (QEMU, emulated
// NVMe, Linux 6.1). Two boots (512- and 4096-byte namespaces); each runs all
// its steps through one guest node process (see src/lab/driver.ts), and the tests
// below check the results. The emulated device is slow: runs are 1 s or less
// on small regions. The no-poll-queues checks rebind the controller with
// nvme.poll_queues=0 inside the 512-byte boot rather than booting again
// (the driver reads poll_queues when it probes, as at boot).
//
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { DoctorReport } from '../src/inventory/doctor.js';
import type { Discovery } from '../src/inventory/discovery.js';
import type { RunRecord } from '../src/model.js';
import { ROOT, runCli } from './cli.js';
import { encodeSteps, parseResults, type Step, type StepResult } from '../src/lab/steps.js';

import { assertLayersAddUp } from './explain-check.js';

// What the lab sets up (src/lab/plan.ts): controller 0 at slot 0x10, serial nvmebench-lab-<n>.
const LAB_MODEL = 'QEMU NVMe Ctrl';
const LAB_SERIAL = 'nvmebench-lab-0';
const LAB_PCI = '0000:00:10.0';
const LAB_NS_BYTES = 64 * 1024 * 1024;

// Never skipped: CI installs QEMU (.ci/run), and without it the lab installs it (as root) or fails with the command to run.

/** Boot one lab guest, run the steps, return their results by name. */
function boot(labArgs: string[], steps: Step[]): Map<string, StepResult> {
  const started = Date.now();
  const driver = path.join(ROOT, 'dist', 'src', 'lab', 'driver.js');
  const exec = `${process.execPath} ${driver} ${encodeSteps(steps)}`;
  const lab = runCli(['lab', '--quiet', '--timeout', '300', ...labArgs, '--exec', exec], { timeoutMs: 420_000 });
  const results = parseResults(lab.stdout);
  const missing = steps.filter((s) => !results.has(s.name)).map((s) => s.name);
  assert.deepEqual(missing, [], `the guest did not finish (lab exit ${lab.code}):\n${lab.stderr.slice(-3000)}\n${lab.stdout.slice(-3000)}`);
  const stepMs = [...results.values()].reduce((sum, r) => sum + r.ms, 0);
  process.stdout.write(`# lab ${labArgs.join(' ')}: ${Math.round((Date.now() - started) / 1000)}s in all, ${Math.round(stepMs / 1000)}s in steps (${[...results.values()].map((r) => `${r.name} ${(r.ms / 1000).toFixed(1)}s`).join(', ')})\n`);
  return results;
}

function get(results: Map<string, StepResult>, name: string, code?: number): StepResult {
  const r = results.get(name)!;
  if (code !== undefined) assert.equal(r.code, code, `${name}: exit ${r.code}, expected ${code}\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return r;
}

function records(r: StepResult): RunRecord[] {
  return (JSON.parse(r.stdout) as { records: RunRecord[] }).records;
}

const run = (workload: string, ...args: string[]) => [workload, '--quiet', '--runtime', '1', ...args];

/** randwrite then randread --verify with each passthrough engine, and the reads checked block by block. */
function verifySteps(bs: string, size: string): Step[] {
  const common = ['--engine', 'pt,pt-poll,ioctl', '--verify', '--bs', bs, '--size', size, '--format', 'json'];
  return [
    { name: 'write', args: run('randwrite', ...common, '/dev/ng0n1') },
    { name: 'read', args: run('randread', ...common, '/dev/ng0n1') },
  ];
}

/** The block engines on the namespace's block node, written then read back with --verify. */
function blockVerifySteps(bs: string, size: string): Step[] {
  const common = ['--engine', 'uring,uring-poll', '--verify', '--bs', bs, '--size', size, '--offset', '2m', '--format', 'json'];
  return [
    { name: 'block-write', args: run('randwrite', ...common, '/dev/nvme0n1') },
    { name: 'block-read', args: run('randread', ...common, '/dev/nvme0n1') },
  ];
}

function checkBlockVerify(results: Map<string, StepResult>, lbaSize: number): void {
  for (const name of ['block-write', 'block-read']) {
    const recs = records(get(results, name, 0));
    assert.deepEqual(recs.map((r) => [r.engine, r.target.path]), [
      ['uring', '/dev/nvme0n1'],
      ['uring-poll', '/dev/nvme0n1'],
    ]);
    for (const r of recs) {
      assert.equal(r.status, 'ok', `${name} ${r.engine}: ${r.errorMessage}`);
      assert.equal(r.errors, 0);
      assert.equal(r.target.logicalBlockSize, lbaSize);
      // Writes read every block back after the run; reads check every block they read.
      assert.ok(r.verifiedBlocks > 0, `${name} ${r.engine} verified nothing`);
    }
  }
}

/** A filesystem mounted on the namespace: writes through any node are refused and nothing changes. */
const MOUNT_STEPS: Step[] = [
  { name: 'mount', sh: 'mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/nvme0n1 && mkdir -p /tmp/m && mount /dev/nvme0n1 /tmp/m && echo keep > /tmp/m/precious && sync && dd if=/dev/nvme0n1 bs=1M count=8 iflag=direct status=none | sha256sum' },
  { name: 'mounted-block', args: run('randwrite', '--engine', 'uring', '/dev/nvme0n1') },
  { name: 'mounted-pt', args: run('randwrite', '--engine', 'pt,ioctl', '/dev/ng0n1') },
  { name: 'mounted-read', args: run('randread', '--engine', 'pt', '--size', '64k', '--format', 'json', '/dev/ng0n1') },
  { name: 'after-mount', sh: 'dd if=/dev/nvme0n1 bs=1M count=8 iflag=direct status=none | sha256sum && cat /tmp/m/precious && umount /tmp/m' },
];

function checkMounted(results: Map<string, StepResult>): void {
  const before = get(results, 'mount', 0).stdout.trim();
  for (const name of ['mounted-block', 'mounted-pt']) {
    const r = get(results, name, 2);
    assert.match(r.stderr, /refusing to write to \/dev\/n[gv][^:]*: mounted: \/dev\/nvme0n1 on \/tmp\/m.*--force-destroy/, `${name}: ${r.stderr}`);
  }
  assert.equal(records(get(results, 'mounted-read', 0))[0].status, 'ok', 'reads of a mounted namespace are fine');
  const after = get(results, 'after-mount', 0).stdout.trim().split('\n');
  assert.equal(after[0], before, 'the device is unchanged');
  assert.equal(after[1], 'keep');
}

function checkVerify(results: Map<string, StepResult>, lbaSize: number): void {
  for (const name of ['write', 'read']) {
    const recs = records(get(results, name, 0));
    assert.deepEqual(recs.map((r) => r.engine), ['pt', 'pt-poll', 'ioctl'], name);
    for (const r of recs) {
      assert.equal(r.status, 'ok', `${name} ${r.engine}: ${r.errorMessage}`);
      assert.equal(r.errors, 0);
      assert.ok(r.ios > 0, `${name} ${r.engine} did no I/O`);
      assert.equal(r.target.path, '/dev/ng0n1');
      assert.equal(r.target.logicalBlockSize, lbaSize);
      assert.equal(r.target.emulated, true);
      if (name === 'read') assert.ok(r.verifiedBlocks > 0, `${r.engine} verified nothing`);
      // Linux 6.1 takes SINGLE_ISSUER and DEFER_TASKRUN but not NO_SQARRAY (6.6): the ring fell back one step, and interrupt completions deferred to the worker still arrive.
      const ring = r.engine === 'ioctl' ? undefined : ['SQE128', 'CQE32', 'SINGLE_ISSUER', 'DEFER_TASKRUN'];
      assert.deepEqual(r.ringFlags, ring && (r.engine === 'pt-poll' ? ['IOPOLL', ...ring] : ring), `${name} ${r.engine}`);
    }
  }
}

function checkDevices(r: StepResult, lbaSize: number, poll: boolean): void {
  const d = JSON.parse(get(new Map([[r.name, r]]), r.name, 0).stdout) as Discovery;
  assert.equal(d.controllers.length, 1);
  const c = d.controllers[0];
  assert.equal(c.name, 'nvme0');
  assert.equal(c.model, LAB_MODEL);
  assert.equal(c.serial, LAB_SERIAL);
  assert.equal(c.pciAddress, LAB_PCI);
  assert.equal(c.driver, 'nvme');
  assert.equal(c.charPath, '/dev/nvme0');
  assert.equal(d.pollQueuesParam, poll ? 2 : 0);
  assert.equal(c.namespaces.length, 1);
  const ns = c.namespaces[0];
  assert.equal(ns.name, 'nvme0n1');
  assert.equal(ns.nsid, 1);
  assert.equal(ns.charPath, '/dev/ng0n1');
  assert.equal(ns.blockPath, '/dev/nvme0n1');
  assert.equal(ns.lbaSize, lbaSize);
  assert.equal(ns.metaSize, 0);
  assert.equal(ns.capacityBytes, LAB_NS_BYTES);
  assert.equal(ns.identified, true, 'Identify answered (root in the guest)');
  assert.equal(ns.ioPoll, poll);
  assert.deepEqual(ns.mounts, []);
  const usable = ns.engines.filter((v) => v.usable).map((v) => v.engine);
  assert.deepEqual(usable, poll ? ['psync', 'aio', 'uring', 'uring-poll', 'pt', 'pt-poll', 'ioctl'] : ['psync', 'aio', 'uring', 'pt', 'ioctl']);
  assert.equal(ns.engines.find((v) => v.engine === 'uring')!.node, '/dev/nvme0n1');
  assert.equal(ns.engines.find((v) => v.engine === 'ioctl')!.node, '/dev/ng0n1');
}

/** Boot once, on first use; every test of the group reads the same results. */
function once(labArgs: string[], steps: Step[]): () => Map<string, StepResult> {
  let outcome: { results?: Map<string, StepResult>; error?: unknown } | undefined;
  return () => {
    if (!outcome) {
      try {
        outcome = { results: boot(labArgs, steps) };
      } catch (error) {
        outcome = { error };
      }
    }
    if (outcome.error) throw outcome.error;
    return outcome.results!;
  };
}

const CROSS = ['--bs', '4k', '--size', '64k', '--offset', '1m', '--verify', '--format', 'json'];

/** Hand the controller back to the nvme driver with poll_queues=0: what booting with nvme.poll_queues=0 gives. */
const REBIND_WITHOUT_POLL_QUEUES = [
  `echo ${LAB_PCI} > /sys/bus/pci/drivers/nvme/unbind`,
  'echo 0 > /sys/module/nvme/parameters/poll_queues',
  `echo ${LAB_PCI} > /sys/bus/pci/drivers/nvme/bind`,
  'i=0; while [ $i -lt 200 ] && ! { [ -e /dev/ng0n1 ] && [ -e /dev/nvme0n1 ] && [ -e /sys/block/nvme0n1/queue/io_poll ]; }; do sleep 0.1; i=$((i+1)); done',
  'cat /sys/block/nvme0n1/queue/io_poll',
].join(' && ');

const lab512 = once(
  ['--lba-size', '512'],
  [
    { name: 'devices', args: ['devices', '--json'] },
    { name: 'devices-table', args: ['devices'] },
    { name: 'doctor', args: ['doctor', '--json', '--engine', 'pt,pt-poll,ioctl,uring,uring-poll'] },
    { name: 'doctor-table', args: ['doctor', '/dev/ng0n1'] },
    ...verifySteps('512', '64k'),
    ...blockVerifySteps('512', '64k'),
    // pt with vectored commands (NVME_URING_CMD_IO_VEC) and with SQPOLL reads what was written.
    { name: 'pt-vectored', args: run('randread', '--engine', 'pt', '--vectored', '--verify', '--bs', '512', '--size', '64k', '--format', 'json', '/dev/ng0n1') },
    { name: 'pt-sqpoll', args: run('randread', '--engine', 'pt', '--sqpoll', '--verify', '--bs', '512', '--size', '64k', '--format', 'json', '/dev/ng0n1') },
    // An NVMe error status is decoded, counted, and stops the run past --max-errors.
    { name: 'lba-out-of-range', args: ['raw', '--quiet', '--opcode', '0x02', '--cdw10', '0x10000000', '--cdw12', '0', '--data-len', '512', '--read', '--qd', '1', '--ios', '50', '--max-errors', '3', '--format', 'json', '/dev/ng0n1'] },
    // Cross-path: what pt writes, uring reads back on the block node, and the reverse.
    { name: 'pt-write', args: run('write', '--engine', 'pt', '--verify-seed', '77', ...CROSS, '/dev/ng0n1') },
    { name: 'uring-read', args: run('randread', '--engine', 'uring', '--verify-seed', '77', ...CROSS, '/dev/nvme0n1') },
    { name: 'uring-write', args: run('write', '--engine', 'uring', '--verify-seed', '99', ...CROSS, '/dev/nvme0n1') },
    { name: 'pt-read', args: run('randread', '--engine', 'pt', '--verify-seed', '99', ...CROSS, '/dev/ng0n1') },
    { name: 'wrong-seed', args: run('randread', '--engine', 'pt', '--verify-seed', '77', ...CROSS, '/dev/ng0n1') },
    // A block engine pointed at the char node runs on the block node; a controller node stands for its namespace.
    { name: 'block-on-ng', args: run('randread', '--engine', 'uring,uring-poll', '--size', '64k', '--format', 'json', '/dev/ng0n1') },
    { name: 'controller', args: run('randread', '--size', '64k', '--format', 'json', '/dev/nvme0') },
    { name: 'controller-nsid', args: run('randread', '--engine', 'ioctl', '--nsid', '1', '--size', '64k', '--format', 'json', '/dev/nvme0') },
    { name: 'controller-bad-nsid', args: run('randread', '--nsid', '2', '/dev/nvme0') },
    { name: 'ng-bad-nsid', args: run('randread', '--nsid', '2', '/dev/ng0n1') },
    { name: 'profile', args: ['profile', 'seed001-kiops', '/dev/ng0n1', '--runtime', '0.3', '--quiet', '--size', '1m'] },
    { name: 'profile-003', args: ['profile', 'seed003-ng-vs-block', '/dev/ng0n1', '--runtime', '0.5', '--quiet', '--size', '1m', '--format', 'json'] },
    // Interrupts per I/O at QD 1 on the block node: one per completion interrupt-driven, none polled.
    { name: 'irqs-qd1', args: run('randread', '--engine', 'uring,uring-poll', '--qd', '1', '--size', '1m', '--format', 'json', '/dev/nvme0n1') },
    { name: 'proc-interrupts', sh: 'grep nvme0q /proc/interrupts' },
    // Seed 003 explained: --explain on uring-poll against pt-poll, the layer table, the JSON, the diff.
    { name: 'explain-003', args: ['profile', 'seed003-explain', '/dev/ng0n1', '--runtime', '1', '--quiet', '--size', '1m', '--json', '/tmp/explain-003.json'] },
    { name: 'explain-003-json', sh: 'cat /tmp/explain-003.json' },
    { name: 'explain-diff', args: ['explain', '/tmp/explain-003.json', '--baseline', 'uring-poll', '--engine', 'pt-poll'] },
    // No poll queues.
    { name: 'rebind', sh: REBIND_WITHOUT_POLL_QUEUES },
    { name: 'nopoll-devices', args: ['devices', '--json'] },
    { name: 'nopoll-pt-poll', args: run('randread', '--engine', 'pt-poll', '/dev/ng0n1') },
    { name: 'nopoll-uring-poll', args: run('randread', '--engine', 'uring-poll', '/dev/ng0n1') },
    { name: 'nopoll-pt', args: run('randread', '--engine', 'pt', '--verify', '--bs', '512', '--size', '64k', '--format', 'json', '/dev/ng0n1') },
    { name: 'nopoll-doctor-polled', args: ['doctor', '--json', '--engine', 'pt-poll', '/dev/ng0n1'] },
    { name: 'nopoll-doctor-plain', args: ['doctor', '--json'] },
    // Last but one, since mkfs overwrites what the steps above wrote.
    ...MOUNT_STEPS,
    // Last: the rest runs as nobody, with the nodes at their default 0600.
    { name: 'nobody-pt', dropRoot: true, args: run('randread', '--engine', 'pt', '--size', '64k', '/dev/ng0n1') },
    { name: 'nobody-doctor', args: ['doctor', '--json', '/dev/ng0n1'] },
    { name: 'nobody-devices', args: ['devices', '--json'] },
  ],
);

const lab4096 = once(
  ['--lba-size', '4096'],
  [
    { name: 'devices', args: ['devices', '--json'] },
    ...verifySteps('4k', '256k'),
    ...blockVerifySteps('4k', '256k'),
    { name: 'bs-512', args: run('randread', '--engine', 'pt', '--bs', '512', '/dev/ng0n1') },
    { name: 'cross-write', args: run('write', '--engine', 'ioctl', '--verify', '--verify-seed', '5', '--size', '256k', '--offset', '1m', '--format', 'json', '/dev/ng0n1') },
    { name: 'cross-read', args: run('randread', '--engine', 'uring', '--verify', '--verify-seed', '5', '--size', '256k', '--offset', '1m', '--format', 'json', '/dev/nvme0n1') },
  ],
);

const opts = { timeout: 480_000 };

test('lab 512: devices and doctor against the lab\'s configuration', opts, () => {
  const results = lab512();
  checkDevices(get(results, 'devices', 0), 512, true);
  const table = get(results, 'devices-table', 0).stdout;
  assert.match(table, /nvme0\s+│ 0000:00:10\.0 │.*│ nvme\s+│ QEMU NVMe Ctrl │ nvmebench-lab-0/);
  assert.match(table, /nvme0n1\s+│\s+1 │ \/dev\/ng0n1\s+│\s+512 │\s+64 MiB │ yes/);
  const doctor = JSON.parse(get(results, 'doctor', 0).stdout) as DoctorReport;
  assert.equal(doctor.counts.fail, 0, JSON.stringify(doctor.checks.filter((c) => c.status === 'fail')));
  const check = (id: string) => doctor.checks.find((c) => c.id === id)!;
  assert.match(check('kernel').message, /^Linux 6\.1\.\S+ has every feature nvmebench uses/);
  assert.equal(check('poll-queues').status, 'ok');
  assert.equal(check('poll-queues-param').message, 'the nvme driver has poll queues (poll_queues=2)');
  assert.equal(check('binding').status, 'ok');
  assert.equal(check('access').status, 'ok');
  assert.equal(check('scheduler').message, 'I/O scheduler is none');
  assert.ok(doctor.checks.every((c) => c.status === 'ok' || c.fix), 'every warning carries a fix');
  assert.match(get(results, 'doctor-table', 0).stdout, /nvme0n1: \/dev\/ng0n1, \/dev\/nvme0n1, 64 MiB, 512-byte blocks/);
});

test('lab 512: pt, pt-poll and ioctl write then read back with --verify', opts, () => {
  checkVerify(lab512(), 512);
});

test('lab 512: uring and uring-poll write then read back with --verify on the block node', opts, () => {
  checkBlockVerify(lab512(), 512);
});

test('lab 512: writes to a namespace with a mounted filesystem are refused through every node, and its data is unchanged', opts, () => {
  checkMounted(lab512());
});

test('lab 512: seed003-explain: CPU by layer for uring-poll against pt-poll, adding up to the measured CPU', opts, () => {
  const results = lab512();
  const table = get(results, 'explain-003', 0).stdout;
  process.stdout.write(table.split('\n').map((l) => `# ${l}`).join('\n') + '\n');
  assert.match(table, /CPU by layer: randread bs=512 qd=128 threads=1/);
  assert.match(table, /perf: % of the CPU per symbol, here \(--explain\) and in the source \(seed 003/);
  const [uringPoll, ptPoll] = records(get(results, 'explain-003-json', 0));
  assert.equal(uringPoll.engine, 'uring-poll');
  assert.equal(ptPoll.engine, 'pt-poll');
  for (const r of [uringPoll, ptPoll]) {
    assert.equal(r.status, 'ok', r.errorMessage);
    assertLayersAddUp(r, false);
    assert.ok(r.emptyPollsPerIo !== undefined, `${r.engine} counts its empty polls`);
    assert.ok(r.explain!.layers.nvme.pct > 0, `${r.engine} spends CPU in the NVMe driver`);
  }
  assert.ok(uringPoll.explain!.layers.block.pct > 0, 'uring-poll goes through the block layer');
  const diff = get(results, 'explain-diff', 0).stdout;
  assert.match(diff, /pt-poll against uring-poll: randread bs=512 qd=128 threads=1/);
  assert.match(diff, /^pt-poll (saves|spends) .* than uring-poll; .* in all/m);
});

test('lab 512: pt with vectored commands and with SQPOLL verifies what was written', opts, () => {
  const results = lab512();
  for (const name of ['pt-vectored', 'pt-sqpoll']) {
    const [r] = records(get(results, name, 0));
    assert.equal(r.status, 'ok', `${name}: ${r.errorMessage}`);
    assert.ok(r.verifiedBlocks > 0, `${name} verified nothing`);
  }
  assert.equal(records(get(results, 'pt-vectored', 0))[0].options.fixedBufs, false, 'vectored passthrough runs without fixed buffers');
  assert.equal(records(get(results, 'pt-sqpoll', 0))[0].options.sqpoll, true);
});

test('lab 512: an NVMe error status is named, counted, and stops the run past --max-errors', opts, () => {
  const r = get(lab512(), 'lba-out-of-range', 1);
  assert.match(r.stderr, /LBA Out of Range \(SCT 0x0, SC 0x80/);
  const [rec] = records(r);
  assert.equal(rec.status, 'failed');
  assert.equal(rec.errors, 4, 'one past --max-errors 3, at QD 1');
});

test('lab 512: cross-path verify, pt to uring and uring to pt', opts, () => {
  const results = lab512();
  for (const name of ['pt-write', 'uring-read', 'uring-write', 'pt-read']) {
    const [r] = records(get(results, name, 0));
    assert.equal(r.status, 'ok', `${name}: ${r.errorMessage}`);
    assert.equal(r.target.path, name.startsWith('pt') ? '/dev/ng0n1' : '/dev/nvme0n1');
    if (name.endsWith('read')) assert.ok(r.verifiedBlocks > 0, `${name} verified nothing`);
  }
  assert.match(get(results, 'wrong-seed', 1).stderr, /verify failed|seed/i, "reading uring's seed-99 data while expecting seed 77 must fail");
});

test('lab 512: block engines on an ng node, controller nodes and --nsid', opts, () => {
  const results = lab512();
  const blockOnNg = records(get(results, 'block-on-ng', 0));
  assert.deepEqual(blockOnNg.map((r) => [r.engine, r.target.path]), [
    ['uring', '/dev/nvme0n1'],
    ['uring-poll', '/dev/nvme0n1'],
  ]);
  const [ctrl] = records(get(results, 'controller', 0));
  assert.deepEqual([ctrl.engine, ctrl.target.path], ['pt', '/dev/ng0n1'], 'the default engine for a controller node is pt on its namespace');
  assert.equal(records(get(results, 'controller-nsid', 0))[0].target.path, '/dev/ng0n1');
  assert.match(get(results, 'controller-bad-nsid', 2).stderr, /\/dev\/nvme0 has no namespace 2 \(it has nsid 1\): give --nsid 1, or a namespace node: \/dev\/ng0n1/);
  assert.match(get(results, 'ng-bad-nsid', 2).stderr, /--nsid 2 does not match \/dev\/ng0n1, which is namespace 1/);
});

test('lab 512: the seed 001 profile prints the seed\'s table shape and its numbers', opts, () => {
  const profile = get(lab512(), 'profile', 0).stdout;
  assert.match(profile, /^profile seed001-kiops: seed 001/m);
  assert.match(profile, /KIOPS by engine[^\n]*\n.*\n│ QD\s+│\s+uring │\s+pt │\s+uring-poll │\s+pt-poll │/, "the matrix: rows QD, columns the engines in the seed's order");
  for (const qd of ['8', '64', '256']) assert.match(profile, new RegExp(`│ ${qd}\\s+│[^\\n]*│[^\\n]*│[^\\n]*│[^\\n]*│`));
  assert.match(profile, /KIOPS here \/ reference \(seed 001/);
  assert.match(profile, /│ 8\s+│\s+\S+ \/ 538 │\s+\S+ \/ 589 │\s+\S+ \/ 831 │\s+\S+ \/ 902 │/);
  assert.match(profile, /│ 256 │\s+\S+ \/ 1043 │\s+\S+ \/ 1230 │\s+\S+ \/ 1376 │\s+\S+ \/ 1429 │/);
  // seed 003: block (uring-poll) then ng (pt-poll), on the one node given, with the seed's t/io_uring settings.
  const seed3 = records(get(lab512(), 'profile-003', 0));
  assert.deepEqual(seed3.map((r) => [r.engine, r.target.path, r.ioDepth, r.blockSize]), [
    ['uring-poll', '/dev/nvme0n1', 128, 512],
    ['pt-poll', '/dev/ng0n1', 128, 512],
  ]);
  for (const r of seed3) {
    assert.deepEqual([r.options.batchSubmit, r.options.batchComplete, r.options.fixedBufs, r.options.regFiles, r.options.cpus, r.threads], [32, 32, true, true, [1], 1]);
  }
});

test('lab 512: uring takes about one interrupt per I/O at QD 1, uring-poll about none', opts, () => {
  // The guest's kernel names the controller's vectors after its queues.
  assert.match(get(lab512(), 'proc-interrupts', 0).stdout, /PCI-MSI\S*\s+\S+\s+nvme0q1$/m);
  const recs = records(get(lab512(), 'irqs-qd1', 0));
  const by = new Map(recs.map((r) => [r.engine, r]));
  const uring = by.get('uring')!;
  const polled = by.get('uring-poll')!;
  for (const r of [uring, polled]) {
    assert.equal(r.status, 'ok');
    assert.ok(r.system && r.system.irqSources.includes('nvme0q1'), JSON.stringify(r.system));
    assert.ok(r.sysCpuNsPerIo >= r.cpuNsPerIo, `${r.engine}: sys ${r.sysCpuNsPerIo} < worker ${r.cpuNsPerIo}`);
  }
  assert.ok(uring.irqsPerIo >= 0.5 && uring.irqsPerIo <= 1.5, `uring: ${uring.irqsPerIo} interrupts per I/O`);
  assert.ok(polled.irqsPerIo < 0.1, `uring-poll: ${polled.irqsPerIo} interrupts per I/O`);
});

test('lab 512, no poll queues: polled engines refuse with the fix, doctor fails only for them', opts, () => {
  const results = lab512();
  assert.equal(get(results, 'rebind', 0).stdout.trim(), '0', 'queue/io_poll after the rebind');
  checkDevices(get(results, 'nopoll-devices', 0), 512, false);
  assert.match(get(results, 'nopoll-pt-poll', 2).stderr, /^nvmebench: pt-poll needs poll queues, and the nvme driver has none for nvme0: boot with nvme\.poll_queues=N/m);
  assert.match(get(results, 'nopoll-uring-poll', 2).stderr, /uring-poll needs poll queues, and \/dev\/nvme0n1 has none \(queue\/io_poll is 0\)/);
  const [pt] = records(get(results, 'nopoll-pt', 0));
  assert.equal(pt.status, 'ok', 'pt needs no poll queues');
  assert.ok(pt.verifiedBlocks > 0, 'the data written before the rebind reads back');
  const polled = JSON.parse(get(results, 'nopoll-doctor-polled', 1).stdout) as DoctorReport;
  const poll = polled.checks.find((c) => c.id === 'poll-queues')!;
  assert.equal(poll.status, 'fail');
  assert.match(poll.message, /no poll queues \(\/sys\/block\/nvme0n1\/queue\/io_poll=0\): uring-poll and pt-poll cannot run/);
  assert.match(poll.fix!, /nvme\.poll_queues=N/);
  const plain = JSON.parse(get(results, 'nopoll-doctor-plain', 0).stdout) as DoctorReport;
  assert.equal(plain.checks.find((c) => c.id === 'poll-queues')!.status, 'warn', 'without --engine pt-poll, missing poll queues only warn');
});

test('lab 512, as nobody: the permission message names the fix', opts, () => {
  const results = lab512();
  const nobody = get(results, 'nobody-pt', 1);
  assert.match(nobody.stderr, /\/dev\/ng0n1: Permission denied/);
  assert.match(nobody.stderr, /needs root, or access to the node: sudo chmod 0666 \/dev\/ng0n1/);
  const doctor = JSON.parse(get(results, 'nobody-doctor', 1).stdout) as DoctorReport;
  const access = doctor.checks.find((c) => c.id === 'access-ng')!;
  assert.equal(access.status, 'fail');
  assert.match(access.message, /no read-write access to \/dev\/ng0n1 \(mode 0600, owner root\)/);
  assert.match(access.fix!, /run as root, or grant access: sudo chmod 0666 \/dev\/ng0n1.*before Linux 6\.2 passthrough also needs CAP_SYS_ADMIN/);
  const ns = (JSON.parse(get(results, 'nobody-devices', 0).stdout) as Discovery).controllers[0].namespaces[0];
  const pt = ns.engines.find((v) => v.engine === 'pt')!;
  assert.equal(pt.usable, false);
  assert.match(pt.reason!, /no read-write access to \/dev\/ng0n1/);
  assert.equal(ns.identified, false);
  assert.equal(ns.lbaSize, 512, 'without Identify, the format comes from sysfs');
});

test('lab 4096: devices, pt, pt-poll and ioctl verify, and ioctl to uring', opts, () => {
  const results = lab4096();
  checkDevices(get(results, 'devices', 0), 4096, true);
  checkVerify(results, 4096);
  checkBlockVerify(results, 4096);
  assert.match(get(results, 'bs-512', 2).stderr, /block size 512 is not a multiple of the 4096-byte logical block size/);
  const [read] = records(get(results, 'cross-read', 0));
  assert.equal(read.status, 'ok', read.errorMessage);
  assert.ok(read.verifiedBlocks > 0);
});
