// `nvmebench lab --kernel 6.12`: the bookworm-backports kernel, fetched through
// a private apt state, boots, and every engine writes and reads back with
// --verify on it (a sequential write covers the region, a random read checks it) (the block engines on /dev/nvme0n1, passthrough on /dev/ng0n1,
// vfio on a second controller bound to vfio-pci). On 6.12, pt-poll runs the
// commands without data (write-zeroes, verify, flush) that 6.1 cannot poll, and
// uring discards on the block device (BLOCK_URING_CMD_DISCARD). One boot; the
// steps go through one guest node process (src/lab/driver.ts).
// The --kernel parsing and apt source reading are unit-tested in lab-unit.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { RunRecord } from '../src/model.js';
import { ROOT, runCli } from './cli.js';
import { encodeSteps, parseResults, type Step, type StepResult } from '../src/lab/steps.js';

const VFIO_BDF = '0000:00:11.0';
const opts = { timeout: 900_000 };

function records(r: StepResult): RunRecord[] {
  return (JSON.parse(r.stdout) as { records: RunRecord[] }).records;
}

const q = ['--quiet', '--format', 'json'];
const rw = (workload: string, engines: string, target: string, ...more: string[]) =>
  [workload, '--engine', engines, '--verify', '--qd', '4', '--ios', '256', '--size', '1m', ...more, ...q, target];

const STEPS: Step[] = [
  { name: 'uname', sh: 'uname -r' },
  { name: 'block-write', args: rw('write', 'psync,aio,uring,uring-poll', '/dev/nvme0n1', '--offset', '2m') },
  { name: 'block-read', args: rw('randread', 'psync,aio,uring,uring-poll', '/dev/nvme0n1', '--offset', '2m') },
  { name: 'pt-write', args: rw('write', 'pt,pt-poll,ioctl', '/dev/ng0n1') },
  { name: 'pt-read', args: rw('randread', 'pt,pt-poll,ioctl', '/dev/ng0n1') },
  { name: 'vfio-write', args: rw('write', 'vfio', VFIO_BDF) },
  { name: 'vfio-read', args: rw('randread', 'vfio', VFIO_BDF) },
  { name: 'write-zeroes', args: ['write-zeroes', '--engine', 'pt-poll', '--qd', '4', '--ios', '64', '--size', '2m', '--verify', ...q, '/dev/ng0n1'] },
  { name: 'verify', args: ['verify', '--engine', 'pt-poll', '--qd', '4', '--ios', '64', '--size', '2m', ...q, '/dev/ng0n1'] },
  { name: 'flush', args: ['flush', '--engine', 'pt-poll', '--qd', '4', '--ios', '32', ...q, '/dev/ng0n1'] },
  { name: 'trim', args: ['trim', '--engine', 'uring', '--qd', '4', '--ios', '64', '--size', '2m', '--offset', '4m', ...q, '/dev/nvme0n1'] },
];

test('lab --kernel 6.12: every engine verifies; pt-poll runs commands without data; uring trims the block device', opts, () => {
  const driver = path.join(ROOT, 'dist', 'src', 'lab', 'driver.js');
  const exec = `${process.execPath} ${driver} ${encodeSteps(STEPS)}`;
  const lab = runCli(['lab', '--kernel', '6.12', '--controllers', '2', '--vfio', '--timeout', '600', '--exec', exec], { timeoutMs: 840_000 });
  const results = parseResults(lab.stdout);
  const missing = STEPS.filter((s) => !results.has(s.name)).map((s) => s.name);
  assert.deepEqual(missing, [], `the guest did not finish (lab exit ${lab.code}):\n${lab.stderr.slice(-3000)}\n${lab.stdout.slice(-3000)}`);
  // The banner names the kernel that was asked for.
  assert.match(lab.stderr, /booting Linux 6\.12\.\S+ \(--kernel 6\.12\)/);
  const get = (name: string): StepResult => {
    const r = results.get(name)!;
    assert.equal(r.code, 0, `${name}: exit ${r.code}\n${r.stderr}\n${r.stdout.slice(-2000)}`);
    return r;
  };
  assert.match(get('uname').stdout, /^6\.12\./);

  const seen = new Set<string>();
  for (const [name, engines] of [
    ['block', ['psync', 'aio', 'uring', 'uring-poll']],
    ['pt', ['pt', 'pt-poll', 'ioctl']],
    ['vfio', ['vfio']],
  ] as const) {
    for (const phase of ['write', 'read']) {
      const recs = records(get(`${name}-${phase}`));
      assert.deepEqual(recs.map((r) => r.engine), engines, `${name}-${phase}`);
      for (const r of recs) {
        assert.equal(r.status, 'ok', `${name}-${phase} ${r.engine}: ${r.errorMessage}`);
        assert.equal(r.errors, 0);
        assert.ok(r.verifiedBlocks > 0, `${name}-${phase} ${r.engine} verified nothing`);
        assert.match(r.env.kernel, /^6\.12\./, 'the record carries the guest kernel');
        // 6.12 takes every ring flag asked for, NO_SQARRAY (6.6) included.
        if (['uring', 'uring-poll', 'pt', 'pt-poll'].includes(r.engine)) {
          assert.ok(['SINGLE_ISSUER', 'DEFER_TASKRUN', 'NO_SQARRAY'].every((f) => r.ringFlags?.includes(f)), `${name}-${phase} ${r.engine}: ${r.ringFlags}`);
          assert.equal(r.ringFlags?.includes('IOPOLL'), r.engine.endsWith('-poll'));
        } else {
          assert.equal(r.ringFlags, undefined);
        }
        seen.add(r.engine);
      }
    }
  }
  assert.equal(seen.size, 8, 'every engine but nop ran');

  for (const name of ['write-zeroes', 'verify', 'flush']) {
    const [r] = records(get(name));
    assert.equal(r.engine, 'pt-poll');
    assert.equal(r.status, 'ok', `${name}: ${r.errorMessage}`);
    assert.equal(r.errors, 0);
    assert.ok(r.ios > 0, `${name} on pt-poll did nothing`);
  }
  const [trim] = records(get('trim'));
  assert.equal(trim.engine, 'uring');
  assert.equal(trim.status, 'ok', trim.errorMessage);
  assert.ok(trim.ios > 0);
  assert.match(trim.command?.blockCall ?? '', /BLOCK_URING_CMD_DISCARD/);
});
