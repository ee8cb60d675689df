// The native run handle's life, and native exports fed hostile input: a
// handle dropped while wait() is pending, process.exit() in the middle of an
// --ios run, a copy job with copyRanges it cannot hold, a raw NLB longer
// than its data, a native error's fix. Each child script runs in its own
// node so a crash or a hang fails the test instead of the suite.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, runCli } from '../cli.js';
import { native, type NativeError } from '../../src/native/addon.js';
import { checkRawTransfer } from '../../src/engines/commands.js';
import type { BenchError } from '../../src/errors.js';

let dir = '';
let file = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-life-'));
  file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(4 * 1024 * 1024));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A complete psync job on the temp file; the script gets it as JOB. */
function jobSource(o: Record<string, unknown>): string {
  const job = {
    engine: 'psync', path: file, readPercent: 100, random: true, blockSize: 4096, ioDepth: 1, threads: 1, cpus: [],
    runtimeMs: 0, rampMs: 0, ioLimit: 0, offset: 0, size: 4 * 1024 * 1024, batchSubmit: 1, batchComplete: 1,
    fixedBufs: false, regFiles: false, sqpoll: false, direct: false, verify: false, verifySeed: 0, nsid: 0, lbaSize: 0,
    vectored: false, maxErrors: 0, latEvery: 1, clockMode: 0, ...o,
  };
  return `const JOB = ${JSON.stringify(job)};`;
}

/** Run body in a fresh node (ESM, the addon as n) and return what it did, killed after timeoutMs. */
function runScript(body: string, timeoutMs: number, nodeArgs: string[] = []) {
  const script = path.join(dir, `script-${process.hrtime.bigint()}.mjs`);
  const nativeJs = path.join(ROOT, 'dist', 'src', 'native', 'addon.js');
  fs.writeFileSync(script, `import { native } from ${JSON.stringify(nativeJs)};\nconst n = native();\n${body}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [...nodeArgs, script], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

test('a run handle dropped while wait() is pending survives gc: the wait holds it, nothing is joined twice', () => {
  // Time-based runs of 300 ms: the handle is unreachable from the first tick, gc runs while the
  // workers and the wait are still going, and every promise must still resolve with a result.
  const r = runScript(
    `${jobSource({ runtimeMs: 300 })}
const pending = [];
for (let i = 0; i < 4; i++) pending.push(n.wait(n.start(JOB)));
const timer = setInterval(() => { globalThis.gc(); }, 5);
const results = await Promise.all(pending);
clearInterval(timer);
for (let i = 0; i < 20; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 5)); }
console.log(JSON.stringify(results.map((x) => [x.stopped, x.workers.length, x.latencyCount > 0])));`,
    30_000,
    ['--expose-gc'],
  );
  assert.equal(r.signal, null, `killed (${r.signal}) after ${r.ms} ms: the wait hung or crashed\n${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), Array(4).fill(['done', 1, true]));
});

test('process.exit() in the middle of an --ios 1000000000 run exits at once', () => {
  const r = runScript(
    `${jobSource({ ioLimit: 1_000_000_000 })}
const p = n.wait(n.start(JOB));
setTimeout(() => process.exit(7), 200);
await p;
console.log('the run finished, which it should not have');`,
    20_000,
  );
  assert.equal(r.signal, null, `still running after ${r.ms} ms: exit waited for the run\n${r.stderr}`);
  assert.equal(r.code, 7, r.stderr);
  assert.ok(r.ms < 10_000, `exit took ${r.ms} ms`);
});

test('process.exit() with a run that nobody waits for exits at once too', () => {
  const r = runScript(
    `${jobSource({ ioLimit: 1_000_000_000, readPercent: 0 })}
globalThis.keep = n.start(JOB);
setTimeout(() => process.exit(3), 200);`,
    20_000,
  );
  assert.equal(r.signal, null, `still running after ${r.ms} ms\n${r.stderr}`);
  assert.equal(r.code, 3, r.stderr);
});

test('start() refuses copyRanges a command buffer cannot hold (0, 129, 1e6, 2^32-1) with EINVAL instead of crashing', () => {
  // In a child: unchecked, 0 divides by zero (SIGFPE) and 129 and up write past the slot's 4 KiB command buffer.
  // The refusal comes before the engine opens anything, so a plain file stands in for the namespace; the
  // descriptors 1 and 128 ranges write are checked in native/test/nvme_cmd_test.c.
  const r = runScript(
    `${jobSource({ engine: 'ioctl', command: 'copy', nsid: 1, lbaSize: 512, blockSize: 65536, ioLimit: 1 })}
const out = [];
for (const copyRanges of [0, 129, 1e6, 4294967295]) {
  try {
    n.stop(n.start({ ...JOB, copyRanges }));
    out.push('accepted');
  } catch (e) { out.push(e.code + ': ' + e.message); }
}
console.log(JSON.stringify(out));`,
    30_000,
  );
  assert.equal(r.signal, null, `crashed: ${r.signal}\n${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as string[];
  assert.equal(out.length, 4);
  for (const line of out) assert.match(line, /^EINVAL: .*--copy-ranges/);
});

test('raw: an opcode whose length is NLB must move exactly --data-len: (NLB + 1) blocks, else exit 2', () => {
  const raw = (opcode: number, cdw12: number, dataLen: number, dir: 'read' | 'write' | 'none') => ({ opcode, cdw: [0, 0, cdw12, 0, 0, 0], dataLen, dir });
  // Matches pass: read, write, compare, zone append; the upper bits of CDW12 (FUA, PRINFO...) do not count.
  checkRawTransfer(raw(0x02, 7, 4096, 'read'), 512);
  checkRawTransfer(raw(0x01, 0x4000_0000 | 0, 4096, 'write'), 4096);
  checkRawTransfer(raw(0x05, 0xffff, 65536 * 512, 'write'), 512);
  checkRawTransfer(raw(0x7d, 1, 1024, 'write'), 512);
  // Opcodes whose length is not NLB of data go through as given.
  checkRawTransfer(raw(0xc2, 7, 512, 'read'), 512);
  checkRawTransfer(raw(0x08, 0xffff, 0, 'none'), 512);
  // Two pages of buffer, NLB for 64: the controller would read the second data page as a PRP list on vfio.
  assert.throws(() => checkRawTransfer(raw(0x02, 127, 8192, 'read'), 512), (e: BenchError) =>
    e.exitCode === 2 && /opcode 0x02 \(Read\) moves NLB \+ 1 = 128 blocks of 512 bytes \(65536 bytes/.test(e.message) && /--cdw12 0x0000000f for 8192 bytes/.test(e.fix ?? ''));
  assert.throws(() => checkRawTransfer(raw(0x01, 0, 4096, 'write'), 512), /moves NLB \+ 1 = 1 blocks of 512 bytes \(512 bytes/);
  // A data opcode with no data at all: PRP1 would be 0.
  assert.throws(() => checkRawTransfer(raw(0x02, 0, 0, 'none'), 512), /--data-len is not given/);
  // Through the CLI, before anything opens the target.
  const r = runCli(['raw', '--opcode', '0x02', '--cdw12', '63', '--data-len', '4096', '--read', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /moves NLB \+ 1 = 64 blocks/);
});

test('a native error carries its fix as data beside the message, and none when it has none', async () => {
  // vfioProbe of a PCI device not on vfio-pci stops in vfio_open: no IOMMU group (IOMMU off), or a host driver.
  const n = native();
  const devices = fs.existsSync('/sys/bus/pci/devices') ? fs.readdirSync('/sys/bus/pci/devices') : [];
  const address = devices.find((d) => !/\/vfio-pci$/.test(fs.existsSync(`/sys/bus/pci/devices/${d}/driver`) ? fs.realpathSync(`/sys/bus/pci/devices/${d}/driver`) : ''));
  if (address) {
    await assert.rejects(n.vfioProbe(address, 1, new Int32Array(new SharedArrayBuffer(4))), (e: NativeError) =>
      typeof e.fix === 'string' && /intel_iommu=on|nvmebench vfio bind/.test(e.fix) && !e.message.includes(e.fix) && !e.message.includes('\x1f') &&
      /has no IOMMU group: the IOMMU is off$|is not bound to vfio-pci \(.*\)$/.test(e.message), address);
  }
  await assert.rejects(n.vfioProbe('0000:ff:1f.7', 1, new Int32Array(new SharedArrayBuffer(4))), (e: NativeError) => e.code === 'ENOENT' && e.fix === undefined && /no PCI device/.test(e.message));
});
