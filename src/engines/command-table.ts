// The NVMe command workloads as a table: what each command is, its opcode,
// its ONCS bit, the block layer's equivalents, and what a plan of one holds.
import { engineSpec } from './registry.js';
import type { CommandName, EngineName } from '../model.js';

export interface RawCommand {
  opcode: number;
  /** cdw10..cdw15 */
  cdw: number[];
  dataLen: number;
  dir: 'none' | 'write' | 'read';
  dump?: string;
}

/** The command part of a RunPlan. */
export interface CommandPlan {
  name: CommandName;
  /** Changes the media, or writes a pattern first (compare, copy --verify): the write-safety check applies. */
  writes: boolean;
  copyRanges: number;
  /** zone-append: --zones; undefined until checkCommand picks the default. */
  zones?: number;
  raw?: RawCommand;
  /** zone-append: filled by checkCommand from Identify and Report Zones. */
  zoneBytes?: number;
  zoneCapBytes?: number;
}

export interface CommandSpec {
  name: CommandName;
  /** NVMe opcode; -1 for raw (the user's). */
  opcode: number;
  /** The command's name in the specification. */
  title: string;
  /** Its bit in ONCS (Identify Controller bytes 521:520), when it is optional. */
  oncsBit?: number;
  /** The block layer's equivalents, per block engine. */
  block?: Partial<Record<'psync' | 'uring' | 'aio', string>>;
  readPercent: 0 | 100;
  writes: boolean;
  /** Offsets over the region (all but flush and raw). */
  ranged: boolean;
  /** One line for nvmebench --help. */
  summary: string;
  /** true when --verify means something; otherwise why it does not. */
  verify: true | string;
  help: string;
}

export const COMMANDS: Record<CommandName, CommandSpec> = {
  'write-zeroes': {
    name: 'write-zeroes',
    summary: 'NVMe Write Zeroes (block engines: BLKZEROOUT, fallocate)',
    opcode: 0x08,
    title: 'Write Zeroes',
    oncsBit: 3,
    block: { psync: 'ioctl BLKZEROOUT (fallocate ZERO_RANGE on a file)', uring: 'IORING_OP_FALLOCATE, FALLOC_FL_ZERO_RANGE' },
    readPercent: 0,
    writes: true,
    ranged: true,
    verify: true,
    help: 'Write Zeroes (opcode 0x08) over the region; psync uses BLKZEROOUT, uring fallocate(ZERO_RANGE). --verify reads the blocks back as zeroes',
  },
  trim: {
    name: 'trim',
    summary: 'NVMe Dataset Management, deallocate (block engines: BLKDISCARD)',
    opcode: 0x09,
    title: 'Dataset Management (deallocate)',
    oncsBit: 2,
    block: { psync: 'ioctl BLKDISCARD (fallocate PUNCH_HOLE on a file)', uring: 'BLOCK_URING_CMD_DISCARD, Linux 6.12 on (fallocate PUNCH_HOLE on a file)' },
    readPercent: 0,
    writes: true,
    ranged: true,
    verify: 'what a deallocated block reads back as is up to the device (DLFEAT in Identify Namespace)',
    help: 'Dataset Management with the deallocate attribute (opcode 0x09), one range per command; psync uses BLKDISCARD, uring BLOCK_URING_CMD_DISCARD (Linux 6.12 on)',
  },
  verify: {
    name: 'verify',
    summary: 'NVMe Verify (passthrough only)',
    opcode: 0x0c,
    title: 'Verify',
    oncsBit: 7,
    readPercent: 100,
    writes: false,
    ranged: true,
    verify: 'the Verify command checks the media on the device; no data comes back to check',
    help: 'Verify (opcode 0x0c): the device reads and checks the blocks without returning them. Passthrough only',
  },
  compare: {
    name: 'compare',
    summary: 'NVMe Compare against a pattern written first (passthrough only)',
    opcode: 0x05,
    title: 'Compare',
    oncsBit: 0,
    readPercent: 100,
    writes: true,
    ranged: true,
    verify: 'compare checks the data on the device itself: a mismatch is a Compare Failure, counted as an error',
    help: 'Compare (opcode 0x05) against a known pattern, written over the region first (--size bounds it, 1 GiB by default). Passthrough only',
  },
  flush: {
    name: 'flush',
    summary: 'NVMe Flush (block engines: fdatasync)',
    opcode: 0x00,
    title: 'Flush',
    block: { psync: 'fdatasync', uring: 'IORING_OP_FSYNC, IORING_FSYNC_DATASYNC', aio: 'IOCB_CMD_FDSYNC' },
    readPercent: 100,
    writes: false,
    ranged: false,
    verify: 'flush moves no data',
    help: 'Flush (opcode 0x00) of the namespace; psync uses fdatasync, uring IORING_OP_FSYNC, aio IOCB_CMD_FDSYNC',
  },
  copy: {
    name: 'copy',
    summary: 'NVMe Simple Copy of --copy-ranges N ranges (passthrough only)',
    opcode: 0x19,
    title: 'Copy',
    oncsBit: 8,
    readPercent: 0,
    writes: true,
    ranged: true,
    verify: true,
    help: 'Simple Copy (opcode 0x19): each command gathers --copy-ranges N ranges from the lower half of the region into one block of the upper half. --verify writes a pattern into the sources first and checks each destination equals its sources. Passthrough only',
  },
  'zone-append': {
    name: 'zone-append',
    summary: 'NVMe Zone Append over --zones N zones of a ZNS namespace (passthrough only)',
    opcode: 0x7d,
    title: 'Zone Append',
    readPercent: 0,
    writes: true,
    ranged: false,
    verify: true,
    help: 'Zone Append (opcode 0x7d) on a zoned namespace: resets the zones first, appends over --zones N open zones and checks the LBA the device returns lies in the zone. --verify reads each append back where the device put it. Passthrough only',
  },
  raw: {
    name: 'raw',
    summary: 'any NVMe I/O command: --opcode, --cdw10..15, --data-len (passthrough only)',
    opcode: -1,
    title: 'raw command',
    readPercent: 100,
    writes: true,
    ranged: false,
    verify: 'a raw command means what its opcode means: nvmebench cannot know what to read back (--dump saves the data a read brings)',
    help: 'any I/O command: --opcode and --cdw10..--cdw15 as given, optional data (--data-len with --write or --read). Passthrough only',
  },
};

/** Opcodes that move no data into the media, for raw when the device has no effects log. */
export const KNOWN_READ_ONLY = new Set([0x00, 0x02, 0x05, 0x0c, 0x7a]);

const CSI_NAMES: Record<number, string> = { 0: 'NVM', 1: 'Key Value', 2: 'Zoned Namespace' };

export function hex(n: number, width = 2): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

export function isPassthrough(engine: EngineName): boolean {
  const opens = engineSpec(engine).opens;
  return opens === 'nvme-char' || opens === 'vfio';
}

export function csiWords(csi: number): string {
  return `${hex(csi < 0 ? 0 : csi)} (${CSI_NAMES[csi < 0 ? 0 : csi] ?? 'unknown'})`;
}

