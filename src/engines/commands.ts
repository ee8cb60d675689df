// NVMe command workloads: write-zeroes, trim, verify, compare, flush, copy,
// zone-append and raw. Each one sends a single NVMe command over the region
// through the passthrough engines (nvme_cmd.c builds it), and where the block
// layer has an equivalent the block engines run that, so the paths compare.
// Here: what each command is, which engine can issue it, what the device says
// it supports (ONCS, Identify for the command sets, the Commands Supported
// and Effects log) and the job fields the native side needs.
import os from 'node:os';
import path from 'node:path';
import { runError, usageError } from '../errors.js';
import { engineSpec, type Usability } from './registry.js';
import type { CommandName, CommandRecord, EngineName, NativeJob } from '../model.js';
import { native, type NativeRunResult, type NvmeCommandInfo, type NvmeZone } from '../native/addon.js';
import type { NvmeNamespace, Target } from '../target/target.js';
import { readSys } from '../system/sysfs.js';
import { kernelAtLeast, kernelVersion } from '../system/kernel.js';

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
const KNOWN_READ_ONLY = new Set([0x00, 0x02, 0x05, 0x0c, 0x7a]);

const CSI_NAMES: Record<number, string> = { 0: 'NVM', 1: 'Key Value', 2: 'Zoned Namespace' };

export function hex(n: number, width = 2): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

function isPassthrough(engine: EngineName): boolean {
  const opens = engineSpec(engine).opens;
  return opens === 'nvme-char' || opens === 'vfio';
}

let engineCommandsCache: Record<string, string[]> | undefined;

function engineCommands(): Record<string, string[]> {
  engineCommandsCache ??= native().engineCommands();
  return engineCommandsCache;
}

/** Whether the command moves no data (nothing for the kernel's passthrough to poll by before 6.5). */
export function carriesNoData(cmd: CommandPlan): boolean {
  return cmd.name === 'write-zeroes' || cmd.name === 'verify' || cmd.name === 'flush' || (cmd.name === 'raw' && cmd.raw?.dir === 'none');
}

/** Can this engine issue this command, on this node? Called once usableOn said the engine runs on the target. */
export function commandUsable(cmd: CommandPlan, engine: EngineName, target: Target, node: string, release = os.release()): Usability {
  const spec = COMMANDS[cmd.name];
  if (engine === 'pt-poll' && carriesNoData(cmd) && !kernelAtLeast(6, 5, release)) {
    return {
      usable: false,
      reason: `Linux ${kernelVersion(release).join('.')} polls passthrough commands by their data (bio), and ${cmd.name} carries none: it would never complete on pt-poll's IOPOLL ring (Linux 6.5 polls the request)`,
      fix: 'use pt (interrupts) or ioctl, or a kernel from 6.5 on',
      severity: 'capability',
    };
  }
  if (engine === 'uring' && cmd.name === 'trim' && target.kind !== 'file' && !kernelAtLeast(6, 12, release)) {
    return {
      usable: false,
      reason: `io_uring discards on a block device from Linux 6.12 (BLOCK_URING_CMD_DISCARD); this kernel is ${kernelVersion(release).join('.')}, and fallocate(PUNCH_HOLE) there writes zeroes instead`,
      fix: 'use psync (BLKDISCARD) for the block path, or the passthrough engines',
      severity: 'capability',
    };
  }
  if (!(engineCommands()[engine] ?? []).includes(cmd.name)) {
    if (engine === 'uring-poll' && spec.block) {
      return {
        usable: false,
        reason: `io_uring takes only reads and writes on an IOPOLL ring, so uring-poll cannot issue ${cmd.name} (uring sends ${spec.block.uring})`,
        fix: 'use uring for the block path, or pt-poll for the polled passthrough path',
        severity: 'usage',
      };
    }
    if (!spec.block) {
      return {
        usable: false,
        reason: `${cmd.name} has no block-layer equivalent: only the passthrough engines (pt, pt-poll, ioctl, vfio) send ${spec.title}${spec.opcode >= 0 ? ` (opcode ${hex(spec.opcode)})` : ''}`,
        fix: `use --engine pt, pt-poll or ioctl on ${target.nvme?.charPath ?? '/dev/ngXnY'}`,
        severity: 'usage',
      };
    }
    const alternatives = (['psync', 'uring', 'aio'] as const).filter((e) => spec.block?.[e]).join(' or ');
    return { usable: false, reason: `${engine} has no way to issue ${cmd.name} (Linux AIO offers fdatasync only)`, fix: `use ${alternatives} for the block path, or the passthrough engines`, severity: 'usage' };
  }
  if (!isPassthrough(engine) && node.startsWith('/dev/')) {
    // The block layer passes the command down only when the queue says it may.
    const name = path.basename(node);
    if (cmd.name === 'trim' && readSys(`/sys/class/block/${name}/queue/discard_max_bytes`) === '0') {
      return { usable: false, reason: `the block layer has no discard for ${name} (queue/discard_max_bytes is 0)`, fix: 'use the passthrough engines, which send Dataset Management as given', severity: 'capability' };
    }
    if (cmd.name === 'write-zeroes' && readSys(`/sys/class/block/${name}/queue/write_zeroes_max_bytes`) === '0') {
      return {
        usable: false,
        reason: `the block layer sends no Write Zeroes to ${name} (queue/write_zeroes_max_bytes is 0): BLKZEROOUT would write pages of zeroes instead`,
        fix: 'use the passthrough engines, which send Write Zeroes as given',
        severity: 'capability',
      };
    }
  }
  return { usable: true, node };
}

/** The controller as messages name it: nvme0, or the PCI address of one on vfio-pci. */
function controllerName(nvme: NvmeNamespace): string {
  return nvme.controller || nvme.pciAddress;
}

/**
 * What the device says it supports; throws a run error naming the node when
 * it cannot be read. A controller on vfio-pci has no node: the vfio driver
 * read the same data when it probed the target (vfioProbe).
 */
export function readCommandInfo(target: Target): NvmeCommandInfo | undefined {
  if (target.kind === 'pci' && target.nvme) {
    if (target.nvme.commandInfo) return target.nvme.commandInfo;
    throw runError(`the vfio driver read no Identify data for namespace ${target.nvme.nsid} of ${target.nvme.pciAddress}`, 'check the controller: nvmebench devices, or NVMEBENCH_VFIO_DEBUG=1');
  }
  const node = target.nvme?.charPath ?? target.nvme?.blockPath;
  if (!target.nvme || !node) return undefined;
  try {
    return native().nvmeCommandInfo(node, target.nvme.nsid);
  } catch (err) {
    throw runError(`cannot read what ${node} supports (Identify, log page 05h): ${(err as Error).message}`, `NVMe admin commands need root, or access to the node: sudo chmod 0666 ${node}`);
  }
}

function effectsUsable(info: NvmeCommandInfo): boolean {
  // LPA bit 1: the controller has the Commands Supported and Effects log.
  return !!info.effects && (info.ctrl.lpa & 0x2) !== 0;
}

/** The Commands Supported and Effects entry for an I/O opcode, or undefined when the log is not there. */
export function effectsOf(info: NvmeCommandInfo, opcode: number): number | undefined {
  return effectsUsable(info) ? info.effects![opcode] : undefined;
}

function csiWords(csi: number): string {
  return `${hex(csi < 0 ? 0 : csi)} (${CSI_NAMES[csi < 0 ? 0 : csi] ?? 'unknown'})`;
}

/**
 * ONCS and the Commands Supported and Effects log should agree; when they do
 * not (QEMU 7.2 runs Verify but leaves ONCS bit 7 clear), the log, which
 * lists each opcode for this namespace's command set, wins, with a note.
 */
function requireSupport(cmd: CommandName, opcode: number, title: string, info: NvmeCommandInfo, target: Target, ctx: CheckContext, oncsBit?: number): void {
  const nvme = target.nvme!;
  const ctrlName = controllerName(nvme);
  const ns = `namespace ${nvme.nsid} of ${ctrlName}`;
  const oncsSays = oncsBit === undefined ? undefined : ((info.ctrl.oncs >> oncsBit) & 1) === 1;
  const entry = effectsOf(info, opcode);
  const logSays = entry === undefined ? undefined : (entry & 1) === 1;
  const oncsWords = oncsBit === undefined ? '' : `ONCS bit ${oncsBit} (${title}) is 0 in Identify Controller (ONCS ${hex(info.ctrl.oncs, 4)})`;
  const logWords = `the Commands Supported and Effects log (log page 05h, CSI ${csiWords(info.csi)}) lists opcode ${hex(opcode)} (${title}) as not supported (CSUPP is 0)`;
  const blockFix =
    target.kind === 'pci'
      ? `the block engines may still emulate it: give the controller back to the kernel (nvmebench vfio unbind ${nvme.pciAddress}) and try --engine psync,uring`
      : 'the block engines may still emulate it: try --engine psync,uring';
  const fix = cmd === 'trim' || cmd === 'write-zeroes' || cmd === 'flush' ? blockFix : 'use a namespace that supports it (nvmebench lab emulates one that does)';
  if (logSays === false) {
    throw usageError(`${cmd} is not supported on ${ns}: ${oncsSays === false ? `${oncsWords}, and ` : ''}${logWords}`, fix);
  }
  if (oncsSays === false && logSays === undefined) throw usageError(`${cmd} is not supported by ${ctrlName}: ${oncsWords}`, fix);
  if (oncsSays === false) {
    (ctx.warn ?? defaultWarn)(`${oncsWords}, but the Commands Supported and Effects log lists opcode ${hex(opcode)} as supported: running ${cmd}`);
  }
}

function defaultWarn(msg: string): void {
  process.stderr.write(`nvmebench: ${msg}\n`);
}

/** Zoned: by the Command Set Identifier, or what sysfs says when the descriptors name none. */
function isZoned(info: NvmeCommandInfo, target: Target): boolean {
  if (info.csi === 0x02) return true;
  if (info.csi >= 0) return false;
  const name = target.nvme?.name;
  const model = name ? readSys(`/sys/class/block/${name}/queue/zoned`) : undefined;
  return model === 'host-managed';
}

export type ZoneReader = (node: string, nsid: number, zoneLbas: number, first: number, count: number) => NvmeZone[];

/** Report Zones over [first, first + count) zones; throws when the device will not say. */
function reportZones(node: string, nsid: number, zoneLbas: number, first: number, count: number): NvmeZone[] {
  return reportZonesBy(node, nsid, zoneLbas, first, count, (slba, max) => native().nvmeReportZones(node, nsid, slba, max), 'zone-append needs Zone Management Receive through the char node (root)');
}

/** The same for a controller on vfio-pci (node is its PCI address), through the vfio driver. */
function reportZonesVfio(address: string, nsid: number, zoneLbas: number, first: number, count: number): NvmeZone[] {
  return reportZonesBy(address, nsid, zoneLbas, first, count, (slba, max) => native().vfioReportZones(address, nsid, slba, max), 'zone-append reads the zones through the vfio driver: run as root');
}

function reportZonesBy(
  node: string,
  nsid: number,
  zoneLbas: number,
  first: number,
  count: number,
  report: (slba: number, max: number) => { reported: number; zones: NvmeZone[] },
  fix: string,
): NvmeZone[] {
  const zones: NvmeZone[] = [];
  while (zones.length < count) {
    const slba = (first + zones.length) * zoneLbas;
    let got: { reported: number; zones: NvmeZone[] };
    try {
      got = report(slba, Math.min(1023, count - zones.length));
    } catch (err) {
      throw runError(`cannot read the zones of ${node}: ${(err as Error).message}`, fix);
    }
    if (!got.zones.length) break;
    zones.push(...got.zones);
  }
  return zones.slice(0, count);
}

const ZONE_STATES: Record<number, string> = { 1: 'empty', 2: 'implicitly open', 3: 'explicitly open', 4: 'closed', 0xd: 'read only', 0xe: 'full', 0xf: 'offline' };

export interface CheckContext {
  blockSizes: number[];
  threads: number;
  engines: EngineName[];
  region: { offset: number; size: number };
  /** Where notes go (stderr by default). */
  warn?: (msg: string) => void;
}

/**
 * Refuse, before anything runs, a command the device does not support, naming
 * the field that says so; fill in zone geometry for zone-append.
 */
export function checkCommand(cmd: CommandPlan, target: Target, ctx: CheckContext): void {
  const passthrough = ctx.engines.some(isPassthrough);
  if (cmd.name === 'copy') {
    for (const bs of ctx.blockSizes) {
      if (ctx.region.size < 2 * bs) {
        throw usageError(`copy needs a region of two blocks at least (${2 * bs} bytes): sources in the lower half, destinations in the upper`, 'give a larger --size');
      }
    }
  }
  if (!passthrough || !target.nvme) return;
  const info = readCommandInfo(target);
  if (info) checkCommandSupport(cmd, target, ctx, info, target.kind === 'pci' ? reportZonesVfio : reportZones);
}

/** checkCommand's device half, on Identify data and the effects log already read (tests feed made-up ones). */
export function checkCommandSupport(cmd: CommandPlan, target: Target, ctx: CheckContext, info: NvmeCommandInfo, zonesOf: ZoneReader): void {
  const spec = COMMANDS[cmd.name];
  const nvme = target.nvme!;
  const lba = nvme.lbaSize;
  // The zones are read through the char (or block) node, or, on vfio-pci, the PCI address.
  const node = nvme.charPath ?? nvme.blockPath ?? nvme.pciAddress;
  const ctrlName = controllerName(nvme);
  const nsWords = `Identify Namespace ${nvme.nsid}`;

  switch (cmd.name) {
    case 'raw':
      return;
    case 'zone-append': {
      if (!isZoned(info, target)) {
        throw usageError(
          `zone-append needs a zoned namespace: namespace ${nvme.nsid} of ${ctrlName} has Command Set Identifier ${csiWords(info.csi)} in its Namespace Identification Descriptor list${
            effectsOf(info, 0x7d) === 0 ? `, and the Commands Supported and Effects log for that command set lists no Zone Append (opcode 0x7d)` : ''
          }`,
          'point it at a ZNS namespace (nvmebench lab --zoned adds one)',
        );
      }
      if (!info.zns) throw runError(`cannot read the zoned namespace's Identify data (CNS 05h, CSI 02h): ${info.znsError ?? 'no data'}`, 'check the device with nvme zns id-ns');
      requireSupport(cmd.name, 0x7d, 'Zone Append', info, target, ctx);
      requireSupport(cmd.name, 0x79, 'Zone Management Send, to reset the zones', info, target, ctx);
      const zoneLbas = info.zns.zsze;
      const zoneBytes = zoneLbas * lba;
      if (!zoneLbas) throw runError(`the zone size (ZSZE) is 0 in the zoned Identify Namespace ${nvme.nsid}`, 'the device reports no zone geometry');
      if (ctx.region.offset % zoneBytes || ctx.region.size % zoneBytes) {
        throw usageError(
          `zone-append appends to whole zones: --offset ${ctx.region.offset} and --size ${ctx.region.size} must be multiples of the ${zoneBytes}-byte zone size (ZSZE ${zoneLbas} LBAs)`,
          `give --offset and --size in zones, e.g. --size ${zoneBytes * Math.max(1, Math.floor(ctx.region.size / zoneBytes))}`,
        );
      }
      const nzones = ctx.region.size / zoneBytes;
      const first = ctx.region.offset / zoneBytes;
      const zones = zonesOf(node, nvme.nsid, zoneLbas, first, nzones);
      if (zones.length < nzones) throw runError(`Report Zones returned ${zones.length} of the ${nzones} zones in the region`, 'give a smaller --size');
      for (const z of zones) {
        if (z.type !== 2) throw usageError(`zone at LBA ${z.slba} is not sequential-write-required (zone type ${z.type})`, 'give a region of sequential zones');
        if (z.state === 0xd || z.state === 0xf) {
          throw usageError(`zone at LBA ${z.slba} is ${ZONE_STATES[z.state]} and cannot be reset`, 'give a region without read-only or offline zones (--offset, --size)');
        }
      }
      const cap = Math.min(...zones.map((z) => z.cap)) * lba;
      // ZASL: 0 means MDTS; a power of two in units of the minimum page size (4 KiB).
      const maxAppend = info.zns.zasl ? 4096 * 2 ** info.zns.zasl : nvme.maxTransferBytes || Infinity;
      for (const bs of ctx.blockSizes) {
        if (bs > maxAppend) {
          throw usageError(`block size ${bs} is over the largest zone append (${maxAppend} bytes: ZASL ${info.zns.zasl} in the zoned Identify Controller)`, `use --bs ${maxAppend} or less`);
        }
        if (zoneBytes % bs || cap < bs) throw usageError(`block size ${bs} does not divide the ${zoneBytes}-byte zones (capacity ${cap})`, 'use a power-of-two --bs no larger than a zone');
      }
      // MOR/MAR are 0's based; all ones means no limit.
      const openLimit = Math.min(info.zns.mor === 0xffffffff ? Infinity : info.zns.mor + 1, info.zns.mar === 0xffffffff ? Infinity : info.zns.mar + 1);
      if (cmd.zones === undefined) {
        cmd.zones = Math.min(nzones, openLimit, Math.max(ctx.threads, 4));
        if (cmd.zones < ctx.threads) {
          throw usageError(`${ctx.threads} threads need ${ctx.threads} open zones, and the region has ${nzones}${openLimit < Infinity ? ` (the device opens ${openLimit})` : ''}`, 'use fewer --threads, or a larger --size');
        }
      }
      if (cmd.zones > nzones) throw usageError(`--zones ${cmd.zones} is more than the ${nzones} zones in the region`, `give --zones ${nzones} or less, or a larger --size`);
      if (cmd.zones > openLimit) {
        throw usageError(`--zones ${cmd.zones} is more than the device keeps open: MOR ${info.zns.mor}, MAR ${info.zns.mar} (0's based) in the zoned Identify Namespace`, `give --zones ${openLimit} or less`);
      }
      if (cmd.zones < ctx.threads) throw usageError(`--zones ${cmd.zones} is fewer than --threads ${ctx.threads}: every worker appends to zones of its own`, `give --zones ${ctx.threads} or more`);
      cmd.zoneBytes = zoneBytes;
      cmd.zoneCapBytes = cap;
      return;
    }
    default:
      break;
  }
  requireSupport(cmd.name, spec.opcode, spec.title, info, target, ctx, spec.oncsBit);
  const nvmCtrl = info.nvmCtrl;
  for (const bs of ctx.blockSizes) {
    const lbas = bs / lba;
    if (cmd.name === 'copy') {
      if (!info.ns) throw runError(`cannot read ${nsWords}: ${info.nsError ?? 'no data'}`, 'check the namespace');
      // Format 0h descriptors; OCFS bit 0 says the controller takes them (0 in OCFS: pre-2.0 controllers, which only have 0h).
      if (info.ctrl.ocfs && !(info.ctrl.ocfs & 1)) {
        throw usageError(`copy: ${ctrlName} does not take Copy descriptor format 0h: OCFS bit 0 is 0 in Identify Controller (OCFS ${hex(info.ctrl.ocfs, 4)})`, 'nvmebench builds format 0h descriptors');
      }
      if (info.ns.mssrl === 0) {
        throw usageError(`copy is not supported on namespace ${nvme.nsid}: MSSRL (Maximum Single Source Range Length) is 0 in ${nsWords}, so no source range may be copied`, 'use a namespace that allows copies');
      }
      const perRange = lbas / cmd.copyRanges;
      if (!Number.isInteger(perRange) || perRange < 1) {
        throw usageError(`--copy-ranges ${cmd.copyRanges} does not split a ${bs}-byte block into whole ${lba}-byte LBAs`, `use a --copy-ranges that divides ${lbas}`);
      }
      if (cmd.copyRanges > info.ns.msrc + 1) {
        throw usageError(`--copy-ranges ${cmd.copyRanges} is more than the namespace takes: MSRC is ${info.ns.msrc} (0's based, so ${info.ns.msrc + 1} ranges) in ${nsWords}`, `give --copy-ranges ${info.ns.msrc + 1} or less`);
      }
      if (perRange > info.ns.mssrl) {
        throw usageError(`each copy range of ${perRange} LBAs is over MSSRL ${info.ns.mssrl} in ${nsWords}`, `use a smaller --bs or more --copy-ranges (at most ${info.ns.mssrl} LBAs a range)`);
      }
      if (info.ns.mcl && lbas > info.ns.mcl) {
        throw usageError(`a copy of ${lbas} LBAs is over MCL ${info.ns.mcl} (Maximum Copy Length) in ${nsWords}`, `use --bs ${info.ns.mcl * lba} or less`);
      }
    }
    const limit = (exp: number, field: string): void => {
      if (exp && bs > 4096 * 2 ** exp) throw usageError(`block size ${bs} is over ${cmd.name}'s limit of ${4096 * 2 ** exp} bytes (${field} ${exp} in the NVM Identify Controller)`, `use --bs ${4096 * 2 ** exp} or less`);
    };
    if (nvmCtrl && cmd.name === 'write-zeroes') limit(nvmCtrl.wzsl, 'WZSL');
    if (nvmCtrl && cmd.name === 'verify') limit(nvmCtrl.vsl, 'VSL');
    if (nvmCtrl && cmd.name === 'trim' && nvmCtrl.dmrsl && lbas > nvmCtrl.dmrsl) {
      throw usageError(`a trim of ${lbas} LBAs is over DMRSL ${nvmCtrl.dmrsl} in the NVM Identify Controller`, `use --bs ${nvmCtrl.dmrsl * lba} or less`);
    }
  }
}

/** raw: whether the opcode may change the media (LBCC in the effects log, else guess from the opcode) and a warning when the log lists it as unsupported. */
export function rawEffects(raw: RawCommand, info: NvmeCommandInfo | undefined): { writes: boolean; warning?: string } {
  const entry = info ? effectsOf(info, raw.opcode) : undefined;
  if (entry === undefined) return { writes: raw.dir === 'write' || !KNOWN_READ_ONLY.has(raw.opcode) };
  const writes = raw.dir === 'write' || (entry & 0x2) !== 0 || !(entry & 1);
  const warning = entry & 1 ? undefined : `opcode ${hex(raw.opcode)} is not listed as supported in the Commands Supported and Effects log (CSI ${csiWords(info!.csi)}); sending it as given`;
  return { writes, warning };
}

/** raw: the data direction the opcode's bits 1:0 encode must be the one asked for (the kernel maps by them). */
export function checkRawDirection(raw: RawCommand): void {
  const bits = raw.opcode & 0x3;
  const words = ['no data', 'host to controller', 'controller to host', 'bidirectional'][bits];
  if (bits === 3) throw usageError(`opcode ${hex(raw.opcode)} is bidirectional (bits 1:0 are 11), which the kernel's passthrough does not carry`, 'use an opcode with one data direction');
  if (raw.dir === 'none' && raw.dataLen) throw usageError('--data-len needs --write or --read', 'say which way the data goes');
  if (raw.dir === 'none') return;
  const want = raw.dir === 'write' ? 1 : 2;
  if (bits !== want) {
    throw usageError(
      `opcode ${hex(raw.opcode)} moves ${words} (bits 1:0 are ${bits.toString(2).padStart(2, '0')}), but --${raw.dir} was given`,
      bits === 0 ? 'drop --data-len and --' + raw.dir : `use --${bits === 1 ? 'write' : 'read'}`,
    );
  }
}

/** Opcodes that move data and take NLB (0's based) in CDW12 bits 15:0: they transfer NLB + 1 blocks. */
const NLB_DATA_OPCODES = new Map<number, string>([
  [0x01, 'Write'],
  [0x02, 'Read'],
  [0x05, 'Compare'],
  [0x7d, 'Zone Append'],
]);

/**
 * raw: for an opcode whose length is NLB, the data must be exactly NLB + 1
 * blocks. The buffer (and on vfio the PRPs) cover --data-len, but the
 * controller moves what NLB says: more than the buffer reads or writes past
 * it, and on vfio a longer transfer turns PRP2 into a list pointer into data.
 * blockBytes: the LBA size, plus the metadata with an extended-LBA format.
 */
export function checkRawTransfer(raw: RawCommand, blockBytes: number): void {
  const name = NLB_DATA_OPCODES.get(raw.opcode);
  if (!name || !blockBytes) return;
  const nlb = raw.cdw[2] & 0xffff;
  const want = (nlb + 1) * blockBytes;
  if (raw.dataLen === want) return;
  const whole = raw.dataLen > 0 && raw.dataLen % blockBytes === 0 && raw.dataLen / blockBytes <= 0x10000;
  const cdw12 = whole ? ((raw.cdw[2] & 0xffff0000) >>> 0) + raw.dataLen / blockBytes - 1 : undefined;
  throw usageError(
    `opcode ${hex(raw.opcode)} (${name}) moves NLB + 1 = ${nlb + 1} blocks of ${blockBytes} bytes (${want} bytes; NLB is --cdw12 bits 15:0, 0's based), but --data-len is ${raw.dataLen || 'not given'}`,
    cdw12 !== undefined ? `give --data-len ${want}, or --cdw12 ${hex(cdw12, 8)} for ${raw.dataLen} bytes` : `give --data-len ${want} with --${raw.opcode & 1 ? 'write' : 'read'}`,
  );
}

/** The command's fields of a native job. */
export function commandJobFields(cmd: CommandPlan): Partial<NativeJob> {
  const out: Partial<NativeJob> = { command: cmd.name };
  if (cmd.name === 'copy') out.copyRanges = cmd.copyRanges;
  if (cmd.name === 'zone-append') {
    out.zones = cmd.zones;
    out.zoneBytes = cmd.zoneBytes;
    out.zoneCapBytes = cmd.zoneCapBytes;
  }
  if (cmd.raw) {
    out.rawOpcode = cmd.raw.opcode;
    out.rawCdw = cmd.raw.cdw;
    out.rawDataLen = cmd.raw.dataLen;
    out.rawDir = cmd.raw.dir;
    if (cmd.raw.dump) out.dumpPath = path.resolve(cmd.raw.dump);
  }
  return out;
}

/** What a command run's record says about the command. */
export function commandRecord(cmd: CommandPlan, engine: EngineName, result: NativeRunResult): CommandRecord {
  const spec = COMMANDS[cmd.name];
  const rec: CommandRecord = { name: cmd.name, opcode: cmd.raw ? cmd.raw.opcode : spec.opcode };
  if (!isPassthrough(engine)) {
    const call = spec.block?.[engine as 'psync' | 'uring' | 'aio'];
    if (call) rec.blockCall = call;
  }
  if (cmd.name === 'copy') rec.copyRanges = cmd.copyRanges;
  if (cmd.name === 'zone-append') {
    rec.zones = cmd.zones;
    rec.zoneBytes = cmd.zoneBytes;
    rec.zonesUsed = result.zonesUsed ?? 0;
    rec.appendsChecked = result.zoneAppendsChecked ?? 0;
    rec.appendsOutsideZone = result.zoneAppendsOutside ?? 0;
  }
  if (cmd.raw) {
    rec.cdw = cmd.raw.cdw;
    rec.dataLen = cmd.raw.dataLen;
    rec.dataDir = cmd.raw.dir;
  }
  return rec;
}
