// NVMe command workloads: write-zeroes, trim, verify, compare, flush, copy,
// zone-append and raw. Each one sends a single NVMe command over the region
// through the passthrough engines (nvme_cmd.c builds it), and where the block
// layer has an equivalent the block engines run that, so the paths compare.
// Here: what each command is, which engine can issue it, what the device says
// it supports (ONCS, Identify for the command sets, the Commands Supported
// and Effects log) and the job fields the native side needs.
//
// The table is command-table.ts, the device's support command-support.ts;
// this file says which engine issues what, and fills jobs and records.
import os from 'node:os';
import path from 'node:path';
import { usageError } from '../errors.js';
import type { Usability } from './registry.js';
import type { CommandRecord, EngineName, NativeJob } from '../model.js';
import { native, type NativeRunResult } from '../native/addon.js';
import type { Target } from '../target/target.js';
import { readSys } from '../system/sysfs.js';
import { kernelAtLeast, kernelVersion } from '../system/kernel.js';
import { COMMANDS, hex, isPassthrough, type CommandPlan, type RawCommand } from './command-table.js';

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
export const NLB_DATA_OPCODES = new Map<number, string>([
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
