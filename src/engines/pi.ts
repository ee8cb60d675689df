// Metadata and end-to-end protection information: the namespace's LBA format
// as `devices` shows it, --pi-act / --pi-check / --pi-apptag parsed and checked
// against that format, and the native job's fields (native/core/pi.h).
import path from 'node:path';
import { usageError } from '../errors.js';
import type { EngineName, MetadataRecord, NativeJob } from '../model.js';
import type { NvmeNamespace } from '../target/target.js';
import { engineSpec } from './registry.js';
import { NLB_DATA_OPCODES } from './commands.js';
import type { RawCommand } from './command-table.js';
import { readSys } from '../system/sysfs.js';

/** What --pi-* asked: PRACT, the PRCHK bits (reftag 1, apptag 2, guard 4, as CDW12 bits 26..28) and the application tag. */
export interface PiOptions {
  act: boolean;
  check: number;
  apptag: number | undefined;
}

export interface LbaFormat {
  index: number;
  dataSize: number;
  metaSize: number;
  /** 0 none, 1..3 (DPS bits 2:0) */
  piType: number;
  /** The PI tuple sits in the first 8 bytes of the metadata (DPS bit 3), else the last. */
  piFirst: boolean;
  /** Extended LBA, FLBAS bit 4 (mset=1): the metadata inline after each block. */
  extended: boolean;
}

const CHECK_BITS: Record<string, number> = { reftag: 1, apptag: 2, guard: 4 };

export function lbaFormat(nvme: NvmeNamespace): LbaFormat {
  const dps = nvme.identify?.ns?.dps ?? 0;
  return {
    index: nvme.identify?.ns?.lbaFormat ?? 0,
    dataSize: nvme.lbaSize,
    metaSize: nvme.metaSize,
    // A tuple needs 8 bytes of metadata: DPS on a smaller format describes nothing.
    piType: nvme.metaSize >= 8 ? dps & 7 : 0,
    piFirst: Boolean(dps & 8),
    extended: nvme.extendedMeta,
  };
}

/** "LBA format 1: 512+8, PI type 1 in the first 8 bytes, extended (mset=1)" */
export function describeLbaFormat(f: LbaFormat, withIndex = true): string {
  const head = `${withIndex ? `LBA format ${f.index}: ` : ''}${f.dataSize}${f.metaSize ? `+${f.metaSize}` : ''}`;
  if (!f.metaSize) return `${head}, no metadata`;
  const pi = f.piType ? `PI type ${f.piType} in the ${f.piFirst ? 'first' : 'last'} 8 bytes` : 'no PI';
  return `${head}, ${pi}, ${f.extended ? 'extended (mset=1)' : 'separate buffer (mset=0)'}`;
}

/** --pi-check guard,apptag,reftag as the PRCHK bits. */
export function parsePiCheck(text: string): number {
  let bits = 0;
  for (const word of text.split(',').map((w) => w.trim().toLowerCase())) {
    if (word === 'none' || word === '') continue;
    if (word === 'all') bits |= 7;
    else if (CHECK_BITS[word] !== undefined) bits |= CHECK_BITS[word];
    else throw usageError(`--pi-check ${text}: '${word}' is not a PI field`, 'list guard, apptag and reftag, comma-separated (or all)');
  }
  return bits;
}

export function parsePiOptions(raw: { piAct?: boolean; piCheck?: string; piApptag?: string }): PiOptions | undefined {
  if (!raw.piAct && raw.piCheck === undefined && raw.piApptag === undefined) return undefined;
  let apptag: number | undefined;
  if (raw.piApptag !== undefined) {
    const t = raw.piApptag.trim().toLowerCase();
    apptag = /^0x[0-9a-f]+$/.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
    if (!(apptag >= 0 && apptag <= 0xffff)) throw usageError(`--pi-apptag ${raw.piApptag} is not a 16-bit tag`, 'give 0 to 0xffff');
  }
  return { act: raw.piAct ?? false, check: raw.piCheck !== undefined ? parsePiCheck(raw.piCheck) : 0, apptag };
}

/** /sys/class/block/X/<file> of the namespace's block device; undefined without one. */
function blockSys(nvme: NvmeNamespace, file: string): string | undefined {
  return nvme.blockPath ? readSys(`/sys/class/block/${path.basename(nvme.blockPath)}/${file}`)?.trim() : undefined;
}

/** Whether the kernel hides the namespace's block device (capacity 0), as it does with metadata it cannot handle. */
function blockHidden(nvme: NvmeNamespace): boolean {
  return blockSys(nvme, 'size') === '0';
}

/**
 * Why this engine cannot run on the namespace's metadata format; undefined when it can.
 * pt, pt-poll, ioctl and vfio drive every format; the block engines run where
 * the kernel shows the disk (it hides some metadata formats behind capacity 0).
 */
export function metadataRefusal(engine: EngineName, nvme: NvmeNamespace | undefined): { reason: string; fix: string } | undefined {
  if (!nvme || nvme.metaSize <= 0) return undefined;
  const opens = engineSpec(engine).opens;
  if ((opens === 'block' || opens === 'block-or-file') && blockHidden(nvme)) {
    const f = describeLbaFormat(lbaFormat(nvme), false);
    return { reason: `the kernel shows ${nvme.blockPath} with capacity 0: its block layer does not carry ${f}`, fix: 'use pt, pt-poll, ioctl or vfio, which drive the metadata themselves' };
  }
  return undefined;
}

/**
 * A note for `devices` and `doctor`: who makes the PI (or moves the metadata)
 * on each kind of path. The block engines' part is what this kernel set up:
 * its integrity profile (queue integrity/format), PRACT where it has none, or
 * a hidden disk.
 */
export function piNote(nvme: NvmeNamespace): string | undefined {
  const f = lbaFormat(nvme);
  if (!f.metaSize) return undefined;
  const ours = f.piType ? 'pt, pt-poll, ioctl and vfio: nvmebench generates and checks it (the controller with --pi-act)' : 'pt, pt-poll, ioctl and vfio move it';
  if (!nvme.blockPath) return ours;
  const profile = blockSys(nvme, 'integrity/format');
  let block: string;
  if (blockHidden(nvme)) block = 'the kernel hides the block device (capacity 0)';
  else if (profile?.startsWith('T10-DIF')) block = `the kernel's integrity layer generates and verifies the PI (${profile})`;
  else if (f.piType) block = 'the kernel has no integrity profile and asks the controller to insert and strip the PI (PRACT)';
  else if (profile === 'nop') block = 'the kernel moves the metadata unchecked (integrity profile nop)';
  else block = 'the kernel has no integrity profile for it';
  return `block engines: ${block}; ${ours}`;
}

/** --pi-* against the target's format and the chosen engines: exit 2 naming the LBA format. */
export function checkPiOptions(pi: PiOptions | undefined, nvme: NvmeNamespace | undefined, targetPath: string, engines: EngineName[]): void {
  if (!pi) return;
  const flag = pi.act ? '--pi-act' : pi.check ? '--pi-check' : '--pi-apptag';
  if (!nvme) throw usageError(`${flag} needs an NVMe namespace formatted with protection information, and ${targetPath} is not one`, `drop ${flag}`);
  const f = lbaFormat(nvme);
  if (!f.piType) {
    throw usageError(`${flag} needs protection information, but ${targetPath} is formatted with ${describeLbaFormat(f)} (DPS type 0)`, `drop ${flag}, or format the namespace with a PI format (nvme format --pi=1 --lbaf=N)`);
  }
  if (f.piType === 3 && pi.check & 1) {
    throw usageError(`--pi-check reftag: ${targetPath} is formatted with ${describeLbaFormat(f)}, and type 3 PI has no reference tag to check`, 'check guard,apptag');
  }
  const block = engines.filter((e) => engineSpec(e).opens !== 'nvme-char' && engineSpec(e).opens !== 'vfio');
  if (block.length) throw usageError(`${flag} applies to pt, pt-poll, ioctl and vfio, not ${block.join(', ')}: on the block engines the kernel's integrity layer handles PI`, `drop ${flag}, or pick --engine pt,pt-poll,ioctl,vfio`);
}

/** The native job's metadata fields: the format, and --pi-* on a PI format. */
export function piJobFields(engine: EngineName, nvme: NvmeNamespace | undefined, pi: PiOptions | undefined): Partial<NativeJob> {
  const opens = engineSpec(engine).opens;
  if (!nvme || !nvme.metaSize || (opens !== 'nvme-char' && opens !== 'vfio')) return {};
  const f = lbaFormat(nvme);
  const out: Partial<NativeJob> = { metaSize: f.metaSize, metaExtended: f.extended };
  if (!f.piType) return out;
  return {
    ...out,
    piType: f.piType,
    piFirst: f.piFirst,
    piAct: pi?.act ?? false,
    piCheck: pi?.check ?? 0,
    piApptag: pi?.apptag ?? 0,
    // Compare every bit of the tag when one is given; 0 means the controller ignores it.
    piApptagMask: pi?.check && pi.check & 2 ? 0xffff : 0,
  };
}

/** Commands whose data the worker lays out per block (compare's pattern, copy's check, zone append's stamps) assume no inline metadata. */
export function checkMetadataCommand(command: string | undefined, nvme: NvmeNamespace | undefined, targetPath: string): void {
  if (!command || !nvme?.metaSize || !['compare', 'copy', 'zone-append'].includes(command)) return;
  throw usageError(`${command} does not run on metadata formats yet, and ${targetPath} is formatted with ${describeLbaFormat(lbaFormat(nvme))}`, 'use read/write workloads, raw, or a namespace without metadata');
}

/** What a record says about the metadata format of its run (the job's fields, as the worker used them). */
export function metadataRecord(job: NativeJob): MetadataRecord {
  const check = Object.entries(CHECK_BITS).filter(([, bit]) => (job.piCheck ?? 0) & bit).map(([name]) => name);
  return { bytes: job.metaSize ?? 0, extended: job.metaExtended ?? false, piType: job.piType ?? 0, pi: !job.piType ? 'none' : job.piAct ? 'controller' : 'host', check };
}

/**
 * raw has no metadata buffer to give: on a separate-metadata format a read or
 * write would have the controller move metadata at address 0 (MPTR 0). Only
 * PRACT on a PI-only format moves none.
 */
export function checkRawMetadata(raw: RawCommand, nvme: NvmeNamespace | undefined, targetPath: string): void {
  const name = NLB_DATA_OPCODES.get(raw.opcode);
  if (!name || !nvme?.metaSize || nvme.extendedMeta) return;
  const f = lbaFormat(nvme);
  const pract = (raw.cdw[2] >>> 29) & 1;
  if (pract && f.piType && f.metaSize === 8) return;
  throw usageError(
    `raw ${name} on ${targetPath} would move ${f.metaSize} bytes of metadata per block through a separate buffer (${describeLbaFormat(f)}), and raw has none to give`,
    f.piType && f.metaSize === 8 ? 'set PRACT (--cdw12 bit 29, 0x20000000) so the controller inserts and strips the PI, or use the read/write workloads' : 'use the read/write workloads, which carry the metadata',
  );
}
