// Never lose data: a write workload to a device is refused when the device or
// any partition of it is mounted, held (dm, md, LVM), used as swap, or
// carries a filesystem or partition-table signature. --force-destroy overrides.
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from './errors.js';
import type { Target } from './target.js';
import { readSys } from './sysfs.js';

/** The block device and its partitions, as names in /sys/class/block. */
export function blockFamily(blockName: string): string[] {
  const names = [blockName];
  try {
    for (const entry of fs.readdirSync(`/sys/class/block/${blockName}`)) {
      if (entry.startsWith(blockName) && fs.existsSync(`/sys/class/block/${blockName}/${entry}/partition`)) names.push(entry);
    }
  } catch {
    // no sysfs entry: only the device itself
  }
  return names;
}

function devNumber(name: string): string | undefined {
  return readSys(`/sys/class/block/${name}/dev`);
}

/** Mount points of any of these block devices, from /proc/self/mountinfo. */
export function mountsOf(names: string[]): string[] {
  const numbers = new Map<string, string>();
  for (const name of names) {
    const dev = devNumber(name);
    if (dev) numbers.set(dev, name);
  }
  const found: string[] = [];
  const info = readSys('/proc/self/mountinfo') ?? '';
  for (const line of info.split('\n')) {
    const fields = line.split(' ');
    if (fields.length > 4 && numbers.has(fields[2])) found.push(`/dev/${numbers.get(fields[2])} on ${fields[4]}`);
  }
  const swaps = readSys('/proc/swaps') ?? '';
  for (const line of swaps.split('\n').slice(1)) {
    const dev = line.split(/\s+/)[0];
    if (dev && names.includes(path.basename(dev))) found.push(`${dev} as swap`);
  }
  return found;
}

/** Holders (device-mapper, md, LVM) of any of these block devices. */
export function holdersOf(names: string[]): string[] {
  const found: string[] = [];
  for (const name of names) {
    try {
      for (const holder of fs.readdirSync(`/sys/class/block/${name}/holders`)) {
        const dmName = readSys(`/sys/class/block/${holder}/dm/name`);
        found.push(`/dev/${name} held by ${holder}${dmName ? ` (${dmName})` : ''}`);
      }
    } catch {
      // no holders directory
    }
  }
  return found;
}

interface Signature {
  name: string;
  offset: number;
  bytes: Buffer;
}

const SIGNATURES: Signature[] = [
  { name: 'GPT partition table', offset: 512, bytes: Buffer.from('EFI PART') },
  { name: 'GPT partition table', offset: 4096, bytes: Buffer.from('EFI PART') },
  { name: 'ext2/3/4 filesystem', offset: 1080, bytes: Buffer.from([0x53, 0xef]) },
  { name: 'XFS filesystem', offset: 0, bytes: Buffer.from('XFSB') },
  { name: 'btrfs filesystem', offset: 65600, bytes: Buffer.from('_BHRfS_M') },
  { name: 'swap space', offset: 4086, bytes: Buffer.from('SWAPSPACE2') },
  { name: 'swap space', offset: 4086, bytes: Buffer.from('SWAP-SPACE') },
  { name: 'LUKS encrypted volume', offset: 0, bytes: Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]) },
  { name: 'LVM2 physical volume', offset: 512, bytes: Buffer.from('LABELONE') },
  { name: 'LVM2 physical volume', offset: 0, bytes: Buffer.from('LABELONE') },
  { name: 'NTFS filesystem', offset: 3, bytes: Buffer.from('NTFS    ') },
  { name: 'FAT filesystem', offset: 82, bytes: Buffer.from('FAT32   ') },
  { name: 'FAT filesystem', offset: 54, bytes: Buffer.from('FAT1') },
  { name: 'ISO 9660 filesystem', offset: 32769, bytes: Buffer.from('CD001') },
  { name: 'Linux RAID (md) member', offset: 4096, bytes: Buffer.from([0xfc, 0x4e, 0x2b, 0xa9]) },
  { name: 'Linux RAID (md) member', offset: 0, bytes: Buffer.from([0xfc, 0x4e, 0x2b, 0xa9]) },
  { name: 'bcache member', offset: 4120, bytes: Buffer.from([0xc6, 0x85, 0x73, 0xf6, 0x4e, 0x1a, 0x45, 0xca]) },
  { name: 'ZFS member', offset: 135168, bytes: Buffer.from([0x0c, 0xb1, 0xba, 0x00]) },
];

/** Known filesystem and partition-table signatures in a buffer read from offset 0. */
export function findSignatures(head: Buffer): string[] {
  const found = new Set<string>();
  for (const sig of SIGNATURES) {
    const end = sig.offset + sig.bytes.length;
    if (end <= head.length && head.subarray(sig.offset, end).equals(sig.bytes)) found.add(sig.name);
  }
  // A DOS partition table: the boot signature and at least one partition entry with a type.
  if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) {
    const types = [0, 1, 2, 3].map((i) => head[446 + i * 16 + 4]);
    if (types.some((t) => t !== 0) && !found.has('FAT filesystem') && !found.has('NTFS filesystem')) found.add('DOS partition table');
  }
  return [...found];
}

function readHead(devPath: string, length: number): Buffer {
  const fd = fs.openSync(devPath, fs.constants.O_RDONLY);
  try {
    const buf = Buffer.alloc(length);
    const got = fs.readSync(fd, buf, 0, length, 0);
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** Every reason a write to this target would destroy someone's data. */
export function writeHazards(target: Target): string[] {
  if (target.kind === 'file') return [];
  const blockName = target.blockName ?? target.nvme?.name;
  const hazards: string[] = [];
  if (blockName && fs.existsSync(`/sys/class/block/${blockName}`)) {
    const family = blockFamily(blockName);
    hazards.push(...mountsOf(family).map((m) => `mounted: ${m}`));
    hazards.push(...holdersOf(family));
    if (family.length > 1) hazards.push(`has partitions: ${family.slice(1).join(', ')}`);
  }
  const readable = target.kind === 'block' ? target.path : target.nvme?.blockPath;
  if (readable) {
    try {
      const sigs = findSignatures(readHead(readable, 136 * 1024));
      hazards.push(...sigs.map((s) => `carries a ${s} signature`));
    } catch {
      // unreadable head: the open for the run will say why
    }
  }
  return hazards;
}

export function assertWritable(target: Target, forceDestroy: boolean): void {
  if (forceDestroy) return;
  const hazards = writeHazards(target);
  if (hazards.length) {
    throw usageError(
      `refusing to write to ${target.given}: ${hazards.join('; ')}`,
      'unmount it or pick another target; --force-destroy overrides this and destroys the data',
    );
  }
}
