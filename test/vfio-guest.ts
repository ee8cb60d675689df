// Runs inside the lab guest (nvmebench lab --controllers 2 --namespaces 2
// --zoned --vfio --ns-props c1n2:mssrl=0,mcl=0,msrc=0): the vfio checks in one Node process, because every Node start costs
// tens of seconds under TCG. Each nvmebench command goes through the CLI's
// main() exactly as bin/nvmebench.js calls it; the Ctrl-C check runs the real
// binary in a child and signals it. One "@@step {json}" line per step on
// stdout; test/vfio.test.ts asserts on them. Not a test file itself.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli.js';
import { probeTarget } from '../src/target/probe.js';
import { native } from '../src/native/addon.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'nvmebench.js');
export const VFIO_BDF = '0000:00:11.0';
export const KERNEL_BDF = '0000:00:10.0';

interface Step {
  name: string;
  rc: number;
  stdout: string;
  stderr: string;
  ms: number;
  extra?: Record<string, unknown>;
}

function emit(step: Step): void {
  process.stdout.write(`@@step ${JSON.stringify(step)}\n`);
}

/** One nvmebench command line through main(), its output captured. */
async function cli(name: string, args: string[], extra?: () => Record<string, unknown>): Promise<Step> {
  const out: string[] = [];
  const err: string[] = [];
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  const t0 = Date.now();
  process.exitCode = undefined;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let rc: number;
  try {
    rc = await main(['node', BIN, ...args]);
  } catch (e) {
    err.push(`threw: ${(e as Error).stack}`);
    rc = -1;
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    process.exitCode = undefined;
  }
  const step: Step = { name, rc, stdout: out.join(''), stderr: err.join(''), ms: Date.now() - t0 };
  if (extra) step.extra = extra();
  emit(step);
  return step;
}

function sh(name: string, script: string): Step {
  const t0 = Date.now();
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  const step = { name, rc: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
  emit(step);
  return step;
}

/**
 * The real binary, sent signal once the vfio engine has its queue pair (by
 * default: I/O in flight), or once stderr matches `when`.
 */
async function interruptedRun(
  name: string,
  args: string[],
  signal: NodeJS.Signals = 'SIGINT',
  opts: { when?: RegExp; afterMs?: number; env?: Record<string, string>; extra?: () => Record<string, unknown> } = {},
): Promise<void> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NVMEBENCH_VFIO_DEBUG: '1', ...opts.env } });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  let signalledAt = 0;
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => {
    stderr += String(d);
    if (!signalled && (opts.when ?? /I\/O queue pair 1 created/).test(stderr)) {
      signalled = true;
      // Let it run a moment (I/O in flight, or the bring-up waiting), then Ctrl-C.
      setTimeout(() => {
        signalledAt = Date.now();
        child.kill(signal);
      }, opts.afterMs ?? 1500);
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const rc = await new Promise<number>((resolve) => child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : -1))));
  clearTimeout(killer);
  emit({ name, rc, stdout, stderr, ms: Date.now() - t0, extra: { signalled, exitAfterSignalMs: signalledAt ? Date.now() - signalledAt : -1, ...(opts.extra ?? nodes)() } });
}

/**
 * probeTarget on the controller while it takes 1.5 s to come ready
 * (NVMEBENCH_VFIO_READY_DELAY_MS): the bring-up runs on a pool thread, so a
 * 10 ms timer keeps firing meanwhile. Were it on the JS thread, not once.
 */
async function probeTicks(name: string): Promise<void> {
  const t0 = Date.now();
  let ticks = 0;
  let error = '';
  let target: Awaited<ReturnType<typeof probeTarget>> | undefined;
  process.env.NVMEBENCH_VFIO_READY_DELAY_MS = '1500';
  const timer = setInterval(() => ticks++, 10);
  try {
    target = await probeTarget(VFIO_BDF);
  } catch (e) {
    error = (e as Error).stack ?? String(e);
  } finally {
    clearInterval(timer);
    delete process.env.NVMEBENCH_VFIO_READY_DELAY_MS;
  }
  const extra = { ticks, sizeBytes: target?.sizeBytes ?? 0, lbaSize: target?.nvme?.lbaSize ?? 0, probeError: target?.pci?.probeError ?? '', commands: Boolean(target?.nvme?.commandInfo) };
  emit({ name, rc: error ? 1 : 0, stdout: '', stderr: error, ms: Date.now() - t0, extra });
}

/**
 * vfioReportZones and vfioFdpInfo on the zoned namespace of the first
 * controller (on vfio-pci) while each bring-up takes 1.5 s to come ready: on
 * a pool thread, a 10 ms timer keeps firing through both.
 */
async function zonesFdpTicks(name: string): Promise<void> {
  const t0 = Date.now();
  const ticks = { zones: 0, fdp: 0 };
  let which: keyof typeof ticks = 'zones';
  let error = '';
  let zones = -1;
  let fdps: boolean | undefined;
  const ms = { zones: 0, fdp: 0 };
  process.env.NVMEBENCH_VFIO_READY_DELAY_MS = '1500';
  const timer = setInterval(() => ticks[which]++, 10);
  try {
    let t = Date.now();
    zones = (await native().vfioReportZones(KERNEL_BDF, 3, 0, 4)).zones.length;
    ms.zones = Date.now() - t;
    which = 'fdp';
    t = Date.now();
    fdps = (await native().vfioFdpInfo(KERNEL_BDF, 3)).fdps;
    ms.fdp = Date.now() - t;
  } catch (e) {
    error = (e as Error).stack ?? String(e);
  } finally {
    clearInterval(timer);
    delete process.env.NVMEBENCH_VFIO_READY_DELAY_MS;
  }
  emit({ name, rc: error ? 1 : 0, stdout: '', stderr: error, ms: Date.now() - t0, extra: { ticks, ms, zones, fdps: fdps ?? null } });
}

function driverOf(bdf: string): string {
  try {
    return path.basename(fs.readlinkSync(`/sys/bus/pci/devices/${bdf}/driver`));
  } catch {
    return '';
  }
}

const nodes = () => ({ driver: driverOf(VFIO_BDF), ng1n1: fs.existsSync('/dev/ng1n1'), nvme1n1: fs.existsSync('/dev/nvme1n1') });

const JSONQ = ['--format', 'json', '--quiet'];

async function run(): Promise<void> {
  // Bring-up and what is bound.
  await cli('status-initial', ['vfio', 'status', '--json']);
  await cli('all-on-vfio', ['randread', '--engine', 'all', '--ios', '400', '--qd', '8', ...JSONQ, VFIO_BDF]);
  // --explain on the userspace driver: its CPU is nearly all user time, in the vfio layer.
  await cli('vfio-explain', ['randread', '--engine', 'vfio', '--runtime', '1', '--qd', '8', '--size', '4M', '--explain', ...JSONQ, VFIO_BDF]);
  await cli('all-on-kernel', ['randread', '--engine', 'all', '--ios', '200', '--qd', '4', ...JSONQ, '/dev/ng0n1']);

  // Data written through vfio: 4 MiB at 0, every block once, seed 77.
  await cli('vfio-write-77', ['write', '--engine', 'vfio', '--bs', '64k', '--qd', '16', '--size', '4M', '--ios', '64', '--verify', '--verify-seed', '77', ...JSONQ, VFIO_BDF]);
  await cli('vfio-read-77', ['read', '--engine', 'vfio', '--bs', '64k', '--qd', '16', '--size', '4M', '--ios', '64', '--verify', '--verify-seed', '77', ...JSONQ, VFIO_BDF]);
  // PRP1 only, PRP1+PRP2, PRP lists (3 pages, and 128 pages = MDTS), all checked against the stamps.
  await cli('vfio-prp-sizes', ['read', '--engine', 'vfio', '--bs', '4k,8k,12k,512k', '--qd', '4', '--size', '4M', '--ios', '24', '--verify', '--verify-seed', '77', ...JSONQ, VFIO_BDF]);
  await cli('vfio-over-mdts', ['read', '--engine', 'vfio', '--bs', '1m', '--size', '4M', '--ios', '4', ...JSONQ, VFIO_BDF]);
  // The whole queue: QEMU's CAP.MQES is 2047, so 2048 entries, 2047 commands in flight.
  await cli('vfio-qd-max', ['randread', '--engine', 'vfio', '--qd', '2047', '--batch-submit', '256', '--size', '4M', '--ios', '8000', '--verify', '--verify-seed', '77', ...JSONQ, VFIO_BDF]);
  await cli('vfio-qd-over', ['randread', '--engine', 'vfio', '--qd', '2048', '--ios', '100', ...JSONQ, VFIO_BDF]);
  // Several workers, one queue pair each, random writes then the read-back pass.
  await cli('vfio-randwrite-mt', ['randwrite', '--engine', 'vfio', '--threads', '3', '--qd', '32', '--offset', '8M', '--size', '8M', '--ios', '3000', '--verify', ...JSONQ, VFIO_BDF]);
  // randrw checks any stamped block a read meets: stamp the region first, so a read that races a write still finds one.
  await cli('vfio-prefill-rw', ['write', '--engine', 'vfio', '--bs', '128k', '--qd', '8', '--offset', '16M', '--size', '8M', '--ios', '64', '--verify', ...JSONQ, VFIO_BDF]);
  await cli('vfio-randrw', ['randrw', '--engine', 'vfio', '--threads', '2', '--qd', '16', '--offset', '16M', '--size', '8M', '--ios', '2000', '--verify', ...JSONQ, VFIO_BDF]);

  // The NVMe commands through vfio. Write Zeroes over stamped data, every block once, read back as zeroes.
  await cli('vfio-wz-stamp', ['write', '--engine', 'vfio', '--bs', '64k', '--qd', '8', '--offset', '32M', '--size', '2M', '--ios', '32', '--verify', ...JSONQ, VFIO_BDF]);
  await cli('vfio-wz', ['write-zeroes', '--engine', 'vfio', '--sequential', '--bs', '64k', '--qd', '8', '--offset', '32M', '--size', '2M', '--ios', '32', '--verify', ...JSONQ, VFIO_BDF]);
  // Copy with its descriptors in the command buffers: the pattern into the sources first, each destination checked against its 4 sources.
  await cli('vfio-copy', ['copy', '--engine', 'vfio', '--qd', '4', '--offset', '36M', '--size', '2M', '--copy-ranges', '4', '--ios', '64', '--verify', ...JSONQ, VFIO_BDF]);
  await cli('vfio-flush', ['flush', '--engine', 'vfio', '--qd', '4', '--ios', '32', ...JSONQ, VFIO_BDF]);
  await cli('vfio-trim', ['trim', '--engine', 'vfio', '--qd', '4', '--offset', '40M', '--size', '2M', '--ios', '32', ...JSONQ, VFIO_BDF]);
  await cli('vfio-verify', ['verify', '--engine', 'vfio', '--qd', '4', '--size', '4M', '--ios', '32', ...JSONQ, VFIO_BDF]);
  await cli('vfio-compare', ['compare', '--engine', 'vfio', '--qd', '4', '--offset', '44M', '--size', '1M', '--ios', '32', ...JSONQ, VFIO_BDF]);
  // Raw Read (0x02) of LBAs 8-39 (16 KiB: PRP1 and a PRP list) of what vfio-write-77 stamped; compared with the kernel's read after unbind-1.
  await cli('vfio-raw', ['raw', '--opcode', '0x02', '--cdw10', '8', '--cdw12', '31', '--data-len', '16384', '--read', '--dump', 'vfio-raw.bin', '--engine', 'vfio', '--ios', '8', ...JSONQ, VFIO_BDF], () => {
    const raw = fs.existsSync('vfio-raw.bin') ? fs.readFileSync('vfio-raw.bin') : Buffer.alloc(0);
    const sectors = [];
    for (let at = 0; at + 512 <= raw.length; at += 512) sectors.push([raw.subarray(at, at + 8).toString('latin1'), Number(raw.readBigUInt64LE(at + 8)), raw.readUInt32LE(at + 16)]);
    return { bytes: raw.length, sectors };
  });
  // Namespace 2 of the vfio controller has MSSRL 0 (--ns-props c1n2:...): the check reads it through the vfio driver and refuses.
  await cli('vfio-copy-mssrl0', ['copy', '--engine', 'vfio', '--nsid', '2', '--ios', '8', ...JSONQ, VFIO_BDF]);

  // Back to the kernel: vfio's data read through pt; pt writes a second region.
  await cli('unbind-1', ['vfio', 'unbind', VFIO_BDF], nodes);
  await cli('pt-read-77', ['read', '--engine', 'pt', '--bs', '64k', '--qd', '16', '--size', '4M', '--ios', '64', '--verify', '--verify-seed', '77', ...JSONQ, '/dev/ng1n1']);
  sh('vfio-raw-cmp', 'dd if=/dev/nvme1n1 iflag=direct bs=4096 skip=1 count=4 status=none | cmp - vfio-raw.bin && echo same');
  await cli('pt-write-88', ['write', '--engine', 'pt', '--bs', '64k', '--qd', '16', '--offset', '4M', '--size', '4M', '--ios', '64', '--verify', '--verify-seed', '88', ...JSONQ, '/dev/ng1n1']);

  // A mounted namespace keeps the controller from being bound.
  sh('mount', 'mkfs.ext4 -q -F /dev/nvme1n2 && mkdir -p /tmp/m && mount /dev/nvme1n2 /tmp/m && echo mounted');
  await cli('bind-mounted', ['vfio', 'bind', VFIO_BDF], nodes);
  sh('umount', 'umount /tmp/m && echo unmounted');
  // The controller node resolves to its PCI address.
  await cli('bind-by-node', ['vfio', 'bind', '/dev/nvme1'], nodes);
  await cli('status-bound', ['vfio', 'status', '--json']);
  // The probe of a PCI target is off the JS thread; Ctrl-C while the controller will not come ready ends it at once.
  await probeTicks('probe-ticks');
  await interruptedRun('probe-sigint', ['randread', '--engine', 'vfio', '--ios', '100', ...JSONQ, VFIO_BDF], 'SIGINT', {
    when: /enabling, ready within/,
    afterMs: 500,
    env: { NVMEBENCH_VFIO_READY_DELAY_MS: '600000' },
  });
  await cli('vfio-read-88', ['read', '--engine', 'vfio', '--bs', '64k', '--qd', '16', '--offset', '4M', '--size', '4M', '--ios', '64', '--verify', '--verify-seed', '88', ...JSONQ, VFIO_BDF]);
  // And the check can fail: the same blocks do not carry seed 77.
  await cli('vfio-read-wrong-seed', ['read', '--engine', 'vfio', '--bs', '64k', '--qd', '16', '--offset', '4M', '--size', '4M', '--ios', '64', '--verify', '--verify-seed', '77', ...JSONQ, VFIO_BDF]);

  // Ctrl-C in the middle of a run: a clean shutdown, then the kernel takes the controller back and it works.
  await interruptedRun('sigint', ['randread', '--engine', 'vfio', '--runtime', '60', '--qd', '32', ...JSONQ, VFIO_BDF]);
  // A crash (SIGKILL, no exit path at all) with I/O in flight: the next bring-up resets the controller.
  await interruptedRun('sigkill', ['randread', '--engine', 'vfio', '--runtime', '60', '--qd', '64', ...JSONQ, VFIO_BDF], 'SIGKILL');
  await cli('vfio-after-kill', ['randread', '--engine', 'vfio', '--ios', '2000', '--qd', '64', ...JSONQ, VFIO_BDF]);
  await cli('unbind-2', ['vfio', 'unbind', VFIO_BDF], nodes);
  await cli('pt-after-sigint', ['randread', '--engine', 'pt', '--ios', '2000', ...JSONQ, '/dev/ng1n1']);

  // --vfio-auto-bind: pt and vfio on the same controller in one command, the kernel's driver back afterwards.
  await cli('auto-bind', ['randread', '--engine', 'pt,pt-poll,vfio', '--vfio-auto-bind', '--runtime', '1', '--qd', '16', ...JSONQ, '/dev/ng1n1'], () => ({ ...nodes(), status: fs.existsSync('/run/nvmebench/vfio.json') ? fs.readFileSync('/run/nvmebench/vfio.json', 'utf8') : '' }));

  // Zone Append through vfio: the zoned namespace (--zoned: nsid 3 of the first controller), its zones read through the
  // vfio driver (vfioReportZones), reset and appended to, each returned LBA checked and read back; then nvme takes it back.
  const nodes0 = () => ({ driver: driverOf(KERNEL_BDF), ng0n1: fs.existsSync('/dev/ng0n1'), ng0n3: fs.existsSync('/dev/ng0n3') });
  await cli('bind-0', ['vfio', 'bind', KERNEL_BDF], nodes0);
  await cli('vfio-za', ['zone-append', '--engine', 'vfio', '--nsid', '3', '--zones', '3', '--qd', '4', '--ios', '256', '--verify', ...JSONQ, KERNEL_BDF]);
  await cli('vfio-za-nvm', ['zone-append', '--engine', 'vfio', '--nsid', '1', '--ios', '8', ...JSONQ, KERNEL_BDF]);
  // The zone report and the FDP read bring the controller up off the JS thread too, and Ctrl-C cuts either short:
  // the probe (the first bring-up) is quick, the next never comes ready, and the command ends at once.
  await zonesFdpTicks('zones-fdp-ticks');
  const wedged = { NVMEBENCH_VFIO_READY_DELAY_MS: '600000', NVMEBENCH_VFIO_READY_DELAY_SKIP: '1' };
  const secondBringUp = /enabling, ready within[\s\S]*enabling, ready within/;
  await interruptedRun('za-sigint', ['zone-append', '--engine', 'vfio', '--nsid', '3', '--zones', '3', '--ios', '64', ...JSONQ, KERNEL_BDF], 'SIGINT', { when: secondBringUp, afterMs: 500, env: wedged, extra: nodes0 });
  await interruptedRun('fdp-sigint', ['write', '--engine', 'vfio', '--nsid', '1', '--fdp', '--ios', '64', ...JSONQ, KERNEL_BDF], 'SIGINT', { when: secondBringUp, afterMs: 500, env: wedged, extra: nodes0 });
  await cli('unbind-0', ['vfio', 'unbind', KERNEL_BDF], nodes0);

  // The errors: not bound (with the bind command), not root.
  await cli('not-bound', ['randread', '--engine', 'vfio', '--ios', '100', '/dev/ng0n1']);
  process.seteuid?.(65534);
  try {
    await cli('not-root', ['vfio', 'bind', VFIO_BDF]);
  } finally {
    process.seteuid?.(0);
  }
}

await run();
