// The signature probe (util-linux's blkid and wipefs) on image files, and its parsers.
// Real devices, with every signature the Debian tools make: test/hostile/signatures.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BenchError } from '../src/errors.js';
import { assertWritable, mbrHasPartitions, parseBlkidExport, parseWipefsJson, probeSignatures } from '../src/target/safety.js';
import type { Target } from '../src/target/target.js';
import { requireTool, sh } from './loop.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-safety-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let images = 0;
/** A sparse image file (never a device), optionally with something made on it. */
function image(sizeBytes = 64 * 1024 * 1024, make?: (file: string) => void): string {
  const file = path.join(dir, `${++images}.img`);
  fs.writeFileSync(file, Buffer.alloc(0));
  fs.truncateSync(file, sizeBytes);
  make?.(file);
  return file;
}

function types(file: string): string[] {
  const probe = probeSignatures(file);
  assert.equal(probe.unprobed, undefined);
  return probe.signatures.map((s) => s.type);
}

function bootSector(file: string, partitionType = 0): void {
  const sector = Buffer.alloc(512);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  sector[446 + 4] = partitionType;
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, sector, 0, 512, 0);
  fs.closeSync(fd);
}

test('a blank device has no signature', () => {
  assert.deepEqual(types(image()), []);
});

test('ext4, XFS, GPT, LVM, swap and DOS tables are recognised', () => {
  for (const [tool, pkg] of [['mkfs.ext4', 'e2fsprogs'], ['mkfs.xfs', 'xfsprogs'], ['sfdisk', 'fdisk'], ['mkswap', 'util-linux']]) requireTool(tool, pkg);
  const ext4 = probeSignatures(image(undefined, (f) => sh('mkfs.ext4', ['-q', '-F', f])));
  assert.deepEqual(ext4.signatures, [{ type: 'ext4', usage: 'filesystem', offsets: ['0x438'] }]);

  assert.deepEqual(types(image(512 * 1024 * 1024, (f) => sh('mkfs.xfs', ['-q', '-f', f]))), ['xfs']);

  const gpt = probeSignatures(image(undefined, (f) => sh('sfdisk', ['-q', f], { input: 'label: gpt\n,8M\n' })));
  const table = gpt.signatures.find((s) => s.type === 'gpt');
  assert.equal(table?.usage, 'partition table');
  // The primary header and the backup at the end of the device.
  assert.deepEqual(table?.offsets, ['0x200', '0x3fffe00']);
  assert.ok(gpt.signatures.some((s) => s.type === 'PMBR'));

  // pvcreate needs a block device: this is blkid's and wipefs's answer for one (the hostile suite makes a real one).
  assert.deepEqual(parseBlkidExport('DEVNAME=/dev/loop0\nUUID=LvDMTM-IGIY\nVERSION=LVM2\\ 001\nTYPE=LVM2_member\nUSAGE=raid\n'), [
    { type: 'LVM2_member', usage: 'raid', offsets: [] },
  ]);
  assert.deepEqual(parseWipefsJson('{"signatures": [{"device": "loop0", "offset": "0x218", "type": "LVM2_member", "uuid": "x", "label": null}]}'), [
    { type: 'LVM2_member', offsets: ['0x218'] },
  ]);

  assert.deepEqual(types(image(undefined, (f) => sh('mkswap', ['-q', f]))), ['swap']);

  assert.deepEqual(types(image(undefined, (f) => sh('sfdisk', ['-q', f], { input: 'label: dos\n,8M,83\n' }))), ['dos']);
  assert.deepEqual(types(image(undefined, (f) => bootSector(f, 0x83))), ['dos']);
});

test('a boot signature without partitions is not a partition table', () => {
  // libblkid reports PTTYPE=dos for any 55 AA; the old rule stays: no entry with a type, no table.
  assert.deepEqual(types(image(undefined, (f) => bootSector(f))), []);
  const sector = Buffer.alloc(512);
  assert.equal(mbrHasPartitions(sector), false);
  sector[446 + 16 + 4] = 0x07;
  assert.equal(mbrHasPartitions(sector), true);
});

test('wipefs output with repeated types merges offsets; malformed output is an error', () => {
  const text = JSON.stringify({
    signatures: [
      { device: 'x', offset: '0x36', type: 'vfat' },
      { device: 'x', offset: '0x0', type: 'vfat' },
      { device: 'x', offset: '0x1fe', type: 'vfat' },
    ],
  });
  assert.deepEqual(parseWipefsJson(text), [{ type: 'vfat', offsets: ['0x36', '0x0', '0x1fe'] }]);
  assert.deepEqual(parseWipefsJson('{"signatures": []}'), []);
  assert.throws(() => parseWipefsJson('{}'));
  assert.throws(() => parseWipefsJson('not json'));
  assert.deepEqual(parseBlkidExport(''), []);
});

function blockTarget(file: string): Target {
  return { given: file, path: file, kind: 'block', sizeBytes: 0, logicalBlockSize: 512, model: '', serial: '', firmware: '', emulated: false };
}

test('without blkid and wipefs a write is refused, naming util-linux, unless --force-destroy', () => {
  const blank = image();
  const empty = fs.mkdtempSync(path.join(dir, 'no-tools-'));
  const probe = probeSignatures(blank, { searchPath: empty });
  assert.deepEqual(probe.signatures, []);
  assert.match(probe.unprobed ?? '', /wipefs: not installed; blkid: not installed/);
  assert.throws(
    () => assertWritable(blockTarget(blank), false, { searchPath: empty }),
    (err: unknown) => err instanceof BenchError && err.exitCode === 2 && /cannot check it for signatures/.test(err.message) && /install util-linux/.test(err.fix),
  );
  assert.doesNotThrow(() => assertWritable(blockTarget(blank), true, { searchPath: empty }));
  assert.doesNotThrow(() => assertWritable(blockTarget(blank), false));
});

test('a signature-only refusal says to wipe it, not to unmount it', () => {
  const ext4 = image(undefined, (f) => sh('mkfs.ext4', ['-q', '-F', f]));
  assert.throws(
    () => assertWritable(blockTarget(ext4), false),
    (err: unknown) =>
      err instanceof BenchError &&
      err.message === `refusing to write to ${ext4}: carries a signature: ext4 (filesystem, offset 0x438)` &&
      err.fix.startsWith(`wipe it with wipefs -a ${ext4} if the data is not needed`) &&
      !/unmount/.test(err.fix),
  );
});
