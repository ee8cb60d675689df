import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSignatures } from '../src/safety.js';

function head(): Buffer {
  return Buffer.alloc(136 * 1024);
}

test('a blank device has no signature', () => {
  assert.deepEqual(findSignatures(head()), []);
});

test('ext4, XFS, GPT, LVM, swap and DOS tables are recognised', () => {
  const ext4 = head();
  ext4.writeUInt16LE(0xef53, 1080);
  assert.deepEqual(findSignatures(ext4), ['ext2/3/4 filesystem']);

  const xfs = head();
  xfs.write('XFSB', 0);
  assert.deepEqual(findSignatures(xfs), ['XFS filesystem']);

  const gpt = head();
  gpt.write('EFI PART', 512);
  gpt[510] = 0x55;
  gpt[511] = 0xaa;
  gpt[446 + 4] = 0xee; // protective MBR
  assert.ok(findSignatures(gpt).includes('GPT partition table'));

  const lvm = head();
  lvm.write('LABELONE', 512);
  assert.deepEqual(findSignatures(lvm), ['LVM2 physical volume']);

  const swap = head();
  swap.write('SWAPSPACE2', 4086);
  assert.deepEqual(findSignatures(swap), ['swap space']);

  const dos = head();
  dos[510] = 0x55;
  dos[511] = 0xaa;
  dos[446 + 4] = 0x83;
  assert.deepEqual(findSignatures(dos), ['DOS partition table']);
});

test('a boot signature without partitions is not a partition table', () => {
  const b = head();
  b[510] = 0x55;
  b[511] = 0xaa;
  assert.deepEqual(findSignatures(b), []);
});
