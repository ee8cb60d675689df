// What the device says it supports, checked before a command workload runs:
// ONCS, Identify for the command sets, the Commands Supported and Effects
// log, and for zone-append the zones themselves (Report Zones).
import { BenchError, runError, usageError } from '../errors.js';
import type { CommandName, EngineName } from '../model.js';
import { native, type NvmeCommandInfo, type NvmeZone, type NvmeZoneReport } from '../native/addon.js';
import { interruptibleVfio } from '../target/pci.js';
import type { NvmeNamespace, Target } from '../target/target.js';
import { readSys } from '../system/sysfs.js';
import { COMMANDS, KNOWN_READ_ONLY, csiWords, hex, isPassthrough, type CommandPlan, type RawCommand } from './command-table.js';

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

/**
 * The same for a controller on vfio-pci (node is its PCI address): each
 * report brings the controller up, on a pool thread, Ctrl-C cutting it short
 * (interruptibleVfio).
 */
async function reportZonesVfio(address: string, nsid: number, zoneLbas: number, first: number, count: number): Promise<NvmeZone[]> {
  const zones: NvmeZone[] = [];
  while (zones.length < count) {
    const slba = (first + zones.length) * zoneLbas;
    const max = Math.min(1023, count - zones.length);
    let got: NvmeZoneReport;
    try {
      got = await interruptibleVfio(address, (abort) => native().vfioReportZones(address, nsid, slba, max, abort), 'reading the zones of');
    } catch (err) {
      if (err instanceof BenchError) throw err;
      throw runError(`cannot read the zones of ${address}: ${(err as Error).message}`, 'zone-append reads the zones through the vfio driver: run as root');
    }
    if (!got.zones.length) break;
    zones.push(...got.zones);
  }
  return zones.slice(0, count);
}

/** What the check asked a ZoneReader for, thrown so that the zones can be read asynchronously and the check run again. */
class ZonesWanted {
  constructor(readonly nsid: number, readonly zoneLbas: number, readonly first: number, readonly count: number) {}
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
export async function checkCommand(cmd: CommandPlan, target: Target, ctx: CheckContext): Promise<void> {
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
  if (!info) return;
  // Only zone-append reads zones: through the node, or below through the vfio driver.
  if (target.kind !== 'pci' || cmd.name !== 'zone-append') return checkCommandSupport(cmd, target, ctx, info, reportZones);
  // Over vfio the zones come from a promise: the first pass stops where it asks for them (every check before
  // the report done, nothing set, notes held back), they are read, and the second pass checks them.
  let wanted: ZonesWanted | undefined;
  try {
    checkCommandSupport(cmd, target, { ...ctx, warn: () => undefined }, info, (_node, nsid, zoneLbas, first, count) => {
      throw new ZonesWanted(nsid, zoneLbas, first, count);
    });
    return;
  } catch (err) {
    if (!(err instanceof ZonesWanted)) throw err;
    wanted = err;
  }
  const zones = await reportZonesVfio(target.nvme.pciAddress, wanted.nsid, wanted.zoneLbas, wanted.first, wanted.count);
  checkCommandSupport(cmd, target, ctx, info, () => zones);
}

/** checkCommand's device half, on Identify data and the effects log already read (tests feed made-up ones). */
export function checkCommandSupport(cmd: CommandPlan, target: Target, ctx: CheckContext, info: NvmeCommandInfo, zonesOf: ZoneReader): void {
  if (cmd.name === 'raw') return;
  if (cmd.name === 'zone-append') return checkZoneAppend(cmd, target, ctx, info, zonesOf);
  const spec = COMMANDS[cmd.name];
  requireSupport(cmd.name, spec.opcode, spec.title, info, target, ctx, spec.oncsBit);
  for (const bs of ctx.blockSizes) {
    if (cmd.name === 'copy') checkCopyBlock(cmd, target.nvme!, info, bs);
    checkSizeLimits(cmd, target.nvme!, info, bs);
  }
}

/** zone-append: a zoned namespace, whole zones that can be reset, blocks within ZASL, and as many open zones as workers. */
function checkZoneAppend(cmd: CommandPlan, target: Target, ctx: CheckContext, info: NvmeCommandInfo, zonesOf: ZoneReader): void {
  const nvme = target.nvme!;
  const lba = nvme.lbaSize;
  // The zones are read through the char (or block) node, or, on vfio-pci, the PCI address.
  const node = nvme.charPath ?? nvme.blockPath ?? nvme.pciAddress;
  const ctrlName = controllerName(nvme);
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
}

/** copy: descriptor format 0h, and each block's ranges within MSRC, MSSRL and MCL. */
function checkCopyBlock(cmd: CommandPlan, nvme: NvmeNamespace, info: NvmeCommandInfo, bs: number): void {
  const lba = nvme.lbaSize;
  const lbas = bs / lba;
  const ctrlName = controllerName(nvme);
  const nsWords = `Identify Namespace ${nvme.nsid}`;
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

/** The NVM Identify Controller's size limits: WZSL for write-zeroes, VSL for verify, DMRSL for trim. */
function checkSizeLimits(cmd: CommandPlan, nvme: NvmeNamespace, info: NvmeCommandInfo, bs: number): void {
  const lba = nvme.lbaSize;
  const lbas = bs / lba;
  const nvmCtrl = info.nvmCtrl;
  const limit = (exp: number, field: string): void => {
    if (exp && bs > 4096 * 2 ** exp) throw usageError(`block size ${bs} is over ${cmd.name}'s limit of ${4096 * 2 ** exp} bytes (${field} ${exp} in the NVM Identify Controller)`, `use --bs ${4096 * 2 ** exp} or less`);
  };
  if (nvmCtrl && cmd.name === 'write-zeroes') limit(nvmCtrl.wzsl, 'WZSL');
  if (nvmCtrl && cmd.name === 'verify') limit(nvmCtrl.vsl, 'VSL');
  if (nvmCtrl && cmd.name === 'trim' && nvmCtrl.dmrsl && lbas > nvmCtrl.dmrsl) {
    throw usageError(`a trim of ${lbas} LBAs is over DMRSL ${nvmCtrl.dmrsl} in the NVM Identify Controller`, `use --bs ${nvmCtrl.dmrsl * lba} or less`);
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

