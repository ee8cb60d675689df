// The lab for real: each test boots QEMU once and checks several things inside
// that boot. Never skipped: CI installs QEMU and busybox-static (.ci/run) and
// the first boot fetches the kernel into the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, ROOT } from './cli.js';

const BOOT_MS = 240_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function lab(args: string[], cwd: string, timeoutMs = BOOT_MS): Result {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGTERM' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
}

function tmpCwd(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-labtest-'));
}

/** key=value lines printed by a guest script. */
function kv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

/** Pids whose parent is ppid (from /proc, so no procps needed). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const explain = (r: Result) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

test('default lab: devices, poll queues, block size, env, output streams, cwd writes, exit code', () => {
  const cwd = tmpCwd();
  try {
    const script = [
      'echo ns=$(ls /dev/nvme0n1 /dev/ng0n1 | tr "\\n" " ")',
      'echo poll=$(cat /sys/module/nvme/parameters/poll_queues)',
      'echo lba=$(cat /sys/block/nvme0n1/queue/logical_block_size)',
      'echo serial=$(cat /sys/class/nvme/nvme0/serial)',
      'echo lab=$NVMEBENCH_LAB',
      'echo pwd=$(pwd)',
      'echo to-stderr >&2',
      'echo from-guest > out/written.txt',
      // A filesystem on the namespace (ext4 loads on demand) and nvmebench in the same boot.
      'mkfs.ext4 -q -F /dev/nvme0n1 && mkdir -p /tmp/m && mount /dev/nvme0n1 /tmp/m && echo fs=$(stat -f -c %T /tmp/m)',
      `echo version=$(node ${BIN} --version)`,
      'exit 7',
    ].join('\n');
    fs.mkdirSync(path.join(cwd, 'out'));
    const r = lab(['lab', '--exec', script], cwd);
    assert.equal(r.code, 7, explain(r));
    const v = kv(r.stdout);
    assert.equal(v.ns, '/dev/ng0n1 /dev/nvme0n1', explain(r));
    assert.equal(v.poll, '2');
    assert.equal(v.lba, '512');
    assert.equal(v.serial, 'nvmebench-lab-0');
    assert.equal(v.lab, '1');
    assert.equal(v.pwd, cwd);
    assert.equal(v.fs, 'ext2/ext3', explain(r));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(v.version, pkg.version);
    assert.match(r.stderr, /^to-stderr$/m, 'the guest stderr comes back on stderr');
    assert.doesNotMatch(r.stdout, /to-stderr/);
    assert.doesNotMatch(r.stdout + r.stderr, /reboot: Power down|nvmebench-lab:/, 'no kernel or init noise');
    assert.equal(fs.readFileSync(path.join(cwd, 'out', 'written.txt'), 'utf8'), 'from-guest\n');
    assert.match(r.stderr, /^lab: guest ready after [\d.]+ s/m);
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('nvmebench runs in the guest with the arguments after --, and its exit code reaches the host', () => {
  const cwd = tmpCwd();
  try {
    // A usage error inside the guest: exit 2 on the host, the message on stderr.
    const r = lab(['lab', '-q', '--', 'no-such-command', "it's"], cwd);
    assert.equal(r.code, 2, explain(r));
    assert.match(r.stderr, /unknown command 'no-such-command'/);
    assert.doesNotMatch(r.stderr, /^lab: /m, '-q hides the lab lines');
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('two controllers, two 4K namespaces each, a zoned namespace, no poll queues, the last controller on vfio-pci', () => {
  const cwd = tmpCwd();
  try {
    const script = [
      'echo ctrls=$(ls /sys/class/nvme | tr "\\n" " ")',
      'echo serial0=$(cat /sys/class/nvme/nvme0/serial)',
      'echo ns=$(ls /dev | grep -E "^(nvme|ng)[0-9]+n[0-9]+$" | sort | tr "\\n" " ")',
      'echo lba1=$(cat /sys/block/nvme0n1/queue/logical_block_size)',
      'echo lba2=$(cat /sys/block/nvme0n2/queue/logical_block_size)',
      'echo nsid2=$(cat /sys/block/nvme0n2/nsid)',
      'echo zoned3=$(cat /sys/block/nvme0n3/queue/zoned)',
      'echo poll=$(cat /sys/module/nvme/parameters/poll_queues)',
      'd=/sys/bus/pci/devices/0000:00:11.0',
      'echo vfio_driver=$(basename $(readlink $d/driver))',
      'g=$(basename $(readlink $d/iommu_group))',
      'test -c /dev/vfio/$g && echo vfio_dev=yes',
      'echo nvme0_driver=$(basename $(readlink /sys/bus/pci/devices/0000:00:10.0/driver))',
    ].join('\n');
    const r = lab(
      ['lab', '--controllers', '2', '--namespaces', '2', '--lba-size', '4096', '--zoned', '--poll-queues', '0', '--vfio', '--exec', script],
      cwd,
    );
    assert.equal(r.code, 0, explain(r));
    const v = kv(r.stdout);
    assert.equal(v.ctrls, 'nvme0', explain(r));
    assert.equal(v.serial0, 'nvmebench-lab-0');
    assert.equal(v.ns, 'ng0n1 ng0n2 ng0n3 nvme0n1 nvme0n2 nvme0n3');
    assert.equal(v.lba1, '4096');
    assert.equal(v.lba2, '4096');
    assert.equal(v.nsid2, '2');
    assert.equal(v.zoned3, 'host-managed');
    assert.equal(v.poll, '0');
    assert.equal(v.vfio_driver, 'vfio-pci');
    assert.equal(v.vfio_dev, 'yes');
    assert.equal(v.nvme0_driver, 'nvme');
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('a lab that fails to boot shows the end of the guest console and exits non-zero', () => {
  const cwd = tmpCwd();
  try {
    // No init to run: the kernel panics, QEMU exits.
    const r = lab(['lab', '--append', 'rdinit=/nonexistent', '--exec', 'true'], cwd, 120_000);
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stderr, /last lines of the guest console/);
    assert.match(r.stderr, /Kernel panic/);
    assert.match(r.stderr, /^nvmebench: the guest kernel panicked/m);
    // A boot that takes too long is stopped and reported.
    const slow = lab(['lab', '--boot-timeout', '0.5', '--exec', 'true'], cwd, 60_000);
    assert.equal(slow.code, 1, explain(slow));
    assert.match(slow.stderr, /did not boot within 0\.5 s/);
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('the guest command has a timeout, and QEMU goes away with the host process', async () => {
  const cwd = tmpCwd();
  try {
    const r = lab(['lab', '-q', '--timeout', '2', '--exec', 'echo started; sleep 120'], cwd);
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stdout, /started/);
    assert.match(r.stderr, /did not finish within 2 s/);
    assert.ok(r.ms < 100_000, `stopped in time (${r.ms} ms)`);

    // SIGTERM to nvmebench stops QEMU and exits 143.
    const child = spawn(process.execPath, [BIN, 'lab', '--exec', 'echo started; sleep 120'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', () => {});
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + BOOT_MS;
    while (!out.includes('started') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    assert.ok(out.includes('started'), 'the guest command started');
    const kids = childrenOf(child.pid ?? -1);
    assert.ok(kids.length > 0, 'QEMU runs as a child of nvmebench');
    child.kill('SIGTERM');
    assert.equal(await done, 143);
    await new Promise((res) => setTimeout(res, 500));
    for (const pid of kids) {
      let state = 'gone';
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2)[0] ?? 'gone';
      } catch {
        state = 'gone';
      }
      assert.ok(state === 'gone' || state === 'Z', `QEMU ${pid} is not left running (state ${state})`);
    }
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('demo: compares the engines in the lab and writes results where asked', () => {
  const cwd = tmpCwd();
  try {
    const r = lab(['demo', '--runtime', '1', '--qd', '1', '--csv', 'results/demo.csv'], cwd, 400_000);
    assert.equal(r.code, 0, explain(r));
    const csv = fs.readFileSync(path.join(cwd, 'results', 'demo.csv'), 'utf8');
    for (const engine of ['psync', 'aio', 'uring', 'uring-poll', 'pt', 'pt-poll', 'ioctl', 'vfio']) {
      assert.match(csv, new RegExp(`(^|[^-\\w])${engine}([^-\\w]|$)`, 'm'), `${engine} in the CSV`);
      assert.match(r.stdout, new RegExp(`│ ${engine} +│`), `${engine} in the table`);
    }
    // The chart goes next to the CSV, one line per engine.
    const svg = fs.readFileSync(path.join(cwd, 'results', 'demo.svg'), 'utf8');
    assert.match(svg, /^<svg/);
    for (const engine of ['uring', 'pt-poll', 'vfio']) assert.ok(svg.includes(`>${engine}<`), `${engine} in the chart legend`);
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
