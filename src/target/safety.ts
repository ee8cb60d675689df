// Never lose data: a write workload to a device is refused when the device or
// any partition of it is mounted, held (dm, md, LVM), used as swap, carries any
// signature util-linux's probing knows (filesystem, partition table, RAID, LVM,
// crypto, swap), or another process holds it exclusively. --force-destroy overrides.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import type { Target } from './target.js';
import { readSys } from '../system/sysfs.js';

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


/** One signature util-linux found on a device. */
export interface Signature {
  /** blkid's TYPE or PTTYPE, wipefs's type: ext4, crypto_LUKS, gpt, PMBR… */
  type: string;
  /** blkid's USAGE (filesystem, raid, crypto, other) or "partition table". */
  usage?: string;
  /** Byte offsets of the magic, as wipefs prints them (0x438). */
  offsets: string[];
}

/** Parse `wipefs --no-act --json`: one entry per magic, so a type may come several times. */
export function parseWipefsJson(text: string): Signature[] {
  const parsed = JSON.parse(text) as { signatures?: Array<{ type?: unknown; offset?: unknown }> };
  if (!Array.isArray(parsed.signatures)) throw new Error('no "signatures" array');
  const found: Signature[] = [];
  for (const entry of parsed.signatures) {
    if (typeof entry?.type !== 'string' || !entry.type) continue;
    const offset = typeof entry.offset === 'string' ? entry.offset : typeof entry.offset === 'number' ? `0x${entry.offset.toString(16)}` : undefined;
    mergeSignature(found, { type: entry.type, offsets: offset ? [offset] : [] });
  }
  return found;
}

/** Parse `blkid -p -o export`: KEY=value lines; TYPE with USAGE, and PTTYPE for a partition table. */
export function parseBlkidExport(text: string): Signature[] {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const found: Signature[] = [];
  const type = values.get('TYPE');
  const usage = values.get('USAGE');
  if (type) found.push({ type, ...(usage ? { usage } : {}), offsets: [] });
  const ptType = values.get('PTTYPE');
  if (ptType) found.push({ type: ptType, usage: 'partition table', offsets: [] });
  return found;
}

function mergeSignature(into: Signature[], sig: Signature): void {
  const same = into.find((s) => s.type === sig.type);
  if (!same) {
    into.push({ ...sig, offsets: [...sig.offsets] });
    return;
  }
  if (sig.usage && !same.usage) same.usage = sig.usage;
  for (const offset of sig.offsets) if (!same.offsets.includes(offset)) same.offsets.push(offset);
}

/** A DOS partition table with at least one entry that has a type (a bare 55 AA boot signature has none). */
export function mbrHasPartitions(sector0: Buffer): boolean {
  if (sector0.length < 512) return false;
  return [0, 1, 2, 3].some((i) => sector0[446 + i * 16 + 4] !== 0);
}

/** Where blkid and wipefs live: root's PATH has sbin, a user's may not. */
const TOOL_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

export interface ProbeResult {
  signatures: Signature[];
  /** Set when neither tool could say what is on the device: the caller must fail closed. */
  unprobed?: string;
}

/**
 * Every signature libblkid finds on a device (or an image file), through util-linux's
 * own tools: wipefs lists every magic with its offset (secondary superblocks and
 * partition tables too), blkid -p adds what each one is used for. A device with
 * neither tool installed is reported as unprobed, never as blank.
 */
export function probeSignatures(devPath: string, opts: { searchPath?: string } = {}): ProbeResult {
  const env = { ...process.env, PATH: opts.searchPath ?? TOOL_PATH, LC_ALL: 'C' };
  const failures: string[] = [];
  let answered = false;
  const signatures: Signature[] = [];

  const wipefs = spawnSync('wipefs', ['--no-act', '--json', devPath], { encoding: 'utf8', env, timeout: 30_000 });
  if (wipefs.error) {
    failures.push(`wipefs: ${(wipefs.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed' : wipefs.error.message}`);
  } else if (wipefs.status === 0) {
    try {
      // An empty answer is no signature (older wipefs prints nothing then).
      for (const sig of wipefs.stdout.trim() ? parseWipefsJson(wipefs.stdout) : []) mergeSignature(signatures, sig);
      answered = true;
    } catch (err) {
      failures.push(`wipefs: unreadable output (${(err as Error).message})`);
    }
  } else {
    failures.push(`wipefs: ${firstLine(wipefs.stderr) || `exit ${wipefs.status}`}`);
  }

  // blkid -p: 0 found, 2 nothing found, 8 ambivalent (more than one filesystem).
  const blkid = spawnSync('blkid', ['-p', '-o', 'export', devPath], { encoding: 'utf8', env, timeout: 30_000 });
  if (blkid.error) {
    failures.push(`blkid: ${(blkid.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed' : blkid.error.message}`);
  } else if (blkid.status === 0 || blkid.status === 2) {
    for (const sig of parseBlkidExport(blkid.stdout)) mergeSignature(signatures, sig);
    answered = true;
  } else if (blkid.status === 8) {
    if (!signatures.length) signatures.push({ type: 'more than one filesystem', usage: 'blkid: ambivalent result, wipefs -n lists them', offsets: [] });
    answered = true;
  } else {
    failures.push(`blkid: ${firstLine(blkid.stderr) || `exit ${blkid.status}`}`);
  }

  // libblkid calls any sector ending in 55 AA a DOS table; one without entries is only a boot sector.
  const dos = signatures.find((s) => s.type === 'dos');
  if (dos) {
    try {
      if (!mbrHasPartitions(readHead(devPath, 512))) signatures.splice(signatures.indexOf(dos), 1);
    } catch {
      // unreadable sector 0: keep the table, refusing is the safe side
    }
  }
  for (const sig of signatures) if (sig.type === 'gpt' || sig.type === 'PMBR' || sig.type === 'dos') sig.usage ??= 'partition table';
  return answered ? { signatures } : { signatures, unprobed: failures.join('; ') };
}

function firstLine(text: string | undefined): string {
  return (text ?? '').trim().split('\n')[0] ?? '';
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

export function describeSignature(sig: Signature): string {
  const details = [sig.usage, sig.offsets.length ? `${sig.offsets.length > 1 ? 'offsets' : 'offset'} ${sig.offsets.join(', ')}` : undefined].filter(Boolean);
  return `${sig.type}${details.length ? ` (${details.join(', ')})` : ''}`;
}

type HazardKind = 'mounted' | 'swap' | 'held' | 'partitions' | 'signature' | 'unprobed';

export interface Hazard {
  kind: HazardKind;
  text: string;
}

/** The block node a write to this target reaches: /dev/ngXnY writes land on /dev/nvmeXnY. */
function blockNodeOf(target: Target): string | undefined {
  if (target.kind === 'block') return target.path;
  return target.nvme?.blockPath;
}

/** Every reason a write to this target would destroy someone's data. */
export function writeHazards(target: Target, probeOpts: { searchPath?: string } = {}): Hazard[] {
  if (target.kind === 'file') return [];
  const blockName = target.blockName ?? target.nvme?.name;
  const hazards: Hazard[] = [];
  if (blockName && fs.existsSync(`/sys/class/block/${blockName}`)) {
    const family = blockFamily(blockName);
    hazards.push(...mountsOf(family).map((m): Hazard => ({ kind: m.endsWith(' as swap') ? 'swap' : 'mounted', text: `mounted: ${m}` })));
    hazards.push(...holdersOf(family).map((h): Hazard => ({ kind: 'held', text: h })));
    if (family.length > 1) hazards.push({ kind: 'partitions', text: `has partitions: ${family.slice(1).join(', ')}` });
  }
  const node = blockNodeOf(target);
  if (node && readable(node)) {
    const probe = probeSignatures(node, probeOpts);
    hazards.push(...probe.signatures.map((s): Hazard => ({ kind: 'signature', text: `carries a signature: ${describeSignature(s)}` })));
    if (probe.unprobed) hazards.push({ kind: 'unprobed', text: `cannot check it for signatures (${probe.unprobed})` });
  }
  return hazards;
}

/** An unreadable node is not probed: the open for the run says why (permission, absent). */
function readable(node: string): boolean {
  try {
    fs.closeSync(fs.openSync(node, fs.constants.O_RDONLY));
    return true;
  } catch {
    return false;
  }
}

/** The fix for what was found: unmount a mount, stop a holder, wipe a signature. */
function hazardFix(hazards: Hazard[], node: string): string {
  const kinds = new Set(hazards.map((h) => h.kind));
  const fixes: string[] = [];
  if (kinds.has('mounted')) fixes.push('unmount it');
  if (kinds.has('swap')) fixes.push('swapoff it');
  if (kinds.has('held')) fixes.push('stop the holder named (dmsetup remove, vgchange -an, mdadm --stop)');
  // Wiping comes after the device is free: wipefs refuses a mounted or held device anyway.
  const inUse = kinds.has('mounted') || kinds.has('swap') || kinds.has('held');
  if (!inUse && (kinds.has('signature') || kinds.has('partitions'))) fixes.push(`wipe it with wipefs -a ${node} if the data is not needed`);
  if (kinds.has('unprobed')) fixes.push('install util-linux (blkid, wipefs) so the device can be checked');
  fixes.push('pick another target, or pass --force-destroy to write anyway and destroy the data');
  return fixes.join('; ');
}

export function assertWritable(target: Target, forceDestroy: boolean, probeOpts: { searchPath?: string } = {}): void {
  if (forceDestroy) return;
  const hazards = writeHazards(target, probeOpts);
  if (hazards.length) {
    throw usageError(`refusing to write to ${target.given}: ${hazards.map((h) => h.text).join('; ')}`, hazardFix(hazards, blockNodeOf(target) ?? target.path));
  }
}

/** An exclusive open held for a whole write run; release() ends it. */
export interface DeviceClaim {
  node: string;
  release(): void;
}

/**
 * Claim the target's block node with O_EXCL for the run, as mount, device-mapper, md and
 * LVM do: the claim fails (EBUSY) while any of them, or another nvmebench write run,
 * holds the device, and keeps them off it until release(). The workers open the node
 * without O_EXCL, so they are not stopped by it. --force-destroy warns and writes anyway.
 */
export function claimDevice(target: Target, forceDestroy: boolean): DeviceClaim | undefined {
  if (target.kind !== 'block' && target.kind !== 'nvme-char') return undefined;
  const node = blockNodeOf(target);
  if (!node) return undefined;
  let fd: number;
  try {
    fd = fs.openSync(node, fs.constants.O_RDONLY | fs.constants.O_EXCL);
  } catch (err) {
    // Other errors (EACCES, ENOENT): the workers' own open reports them.
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') return undefined;
    const held = `${node} is held exclusively by another process (EBUSY): a mount, device-mapper, md, LVM or another nvmebench write run`;
    if (!forceDestroy) {
      throw usageError(`refusing to write to ${target.given}: ${held}`, 'stop that process or unmount it, or pick another target; --force-destroy writes anyway');
    }
    process.stderr.write(`nvmebench: warning: ${held}; writing anyway (--force-destroy)\n`);
    return undefined;
  }
  let open = true;
  return {
    node,
    release() {
      if (!open) return;
      open = false;
      fs.closeSync(fd);
    },
  };
}
