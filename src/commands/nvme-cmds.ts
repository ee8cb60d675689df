// The NVMe command workloads as subcommands, beside randread and friends:
// nvmebench write-zeroes --engine all --qd 1,32 /dev/ng0n1
// nvmebench copy --copy-ranges 4 --verify /dev/ng0n1
// nvmebench zone-append --zones 4 /dev/ng0n2
// nvmebench raw --opcode 0x02 --cdw12 7 --data-len 4096 --read /dev/ng0n1
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { COMMAND_WORKLOADS, type CommandName, type Workload } from '../model.js';
import { checkRawDirection, checkRawTransfer } from '../engines/commands.js';
import { checkRawMetadata } from '../engines/pi.js';
import { rawEffects, readCommandInfo } from '../engines/command-support.js';
import { COMMANDS, hex, type CommandPlan, type RawCommand } from '../engines/command-table.js';
import { buildPlan, type RawRunOptions, type RunPlan } from '../plan/options.js';
import { prepareTargets } from '../run/targets.js';
import { probeTarget } from '../target/probe.js';
import { parseCount, parseSize } from '../plan/units.js';
import { pciAddressTarget } from '../system/pci.js';
import { addRunOptions, executeRun } from './run.js';

export interface CommandCliOptions extends RawRunOptions {
  sequential?: boolean;
  copyRanges?: string;
  zones?: string;
  opcode?: string;
  cdw10?: string;
  cdw11?: string;
  cdw12?: string;
  cdw13?: string;
  cdw14?: string;
  cdw15?: string;
  dataLen?: string;
  write?: boolean;
  read?: boolean;
  dump?: string;
}

/** The pattern pass (compare, copy --verify) covers at most this much unless --size says otherwise. */
export const PATTERN_DEFAULT_SIZE = 1024 ** 3;

/** 0x1f, 31, 0b11111: a dword or an opcode. */
export function parseDword(text: string, what: string, max = 0xffffffff): number {
  const t = text.trim().toLowerCase();
  let v: number;
  if (/^0x[0-9a-f]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^0b[01]+$/.test(t)) v = parseInt(t.slice(2), 2);
  else if (/^\d+$/.test(t)) v = Number(t);
  else throw usageError(`${what} '${text}' is not a number`, 'give decimal, 0x hex or 0b binary');
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw usageError(`${what} ${text} is out of range`, `give 0 to ${hex(max, 2)}`);
  return v;
}

function rawCommand(o: CommandCliOptions): RawCommand {
  if (o.opcode === undefined) throw usageError('raw needs --opcode', 'e.g. nvmebench raw --opcode 0x02 --cdw12 7 --data-len 4096 --read /dev/ng0n1');
  if (o.write && o.read) throw usageError('--write and --read both given', 'a command moves data one way: pick one');
  const cdw = (['cdw10', 'cdw11', 'cdw12', 'cdw13', 'cdw14', 'cdw15'] as const).map((k) => (o[k] !== undefined ? parseDword(o[k]!, `--${k}`) : 0));
  const dataLen = o.dataLen !== undefined ? parseSize(o.dataLen, '--data-len') : 0;
  const dir = o.write ? 'write' : o.read ? 'read' : 'none';
  if (dir !== 'none' && !dataLen) throw usageError(`--${dir} needs --data-len`, 'give the transfer size, e.g. --data-len 4096');
  if (dataLen % 4) throw usageError(`--data-len ${dataLen} is not a whole number of dwords`, 'NVMe moves data in dwords: use a multiple of 4');
  if (dataLen > 64 * 1024 * 1024) throw usageError(`--data-len ${dataLen} is over 64 MiB`, 'use a smaller transfer');
  if (o.dump !== undefined && dir !== 'read') throw usageError('--dump saves the data a read brings back', 'add --read and --data-len');
  const raw: RawCommand = { opcode: parseDword(o.opcode, '--opcode', 0xff), cdw, dataLen, dir, dump: o.dump };
  checkRawDirection(raw);
  return raw;
}

function isPciTarget(targetPath: string | undefined): boolean {
  return targetPath !== undefined && pciAddressTarget(targetPath) !== undefined;
}

/** Turn a command's options into a RunPlan: buildPlan for what every run shares, then the command. */
export function buildCommandPlan(name: CommandName, targetPath: string | undefined, o: CommandCliOptions): RunPlan {
  const spec = COMMANDS[name];
  if (o.verify && spec.verify !== true) throw usageError(`--verify does not apply to ${name}: ${spec.verify}`, 'drop --verify');
  if ((name === 'flush' || name === 'raw') && o.bs !== undefined) {
    throw usageError(`--bs does not apply to ${name}: ${name === 'flush' ? 'a flush covers the namespace' : 'its transfer is --data-len'}`, 'drop --bs');
  }
  const raw = name === 'raw' ? rawCommand(o) : undefined;
  const opts: RawRunOptions = { ...o };
  // Passthrough-only commands on a block node run on its char sibling by default
  // (a PCI address keeps its own default: vfio on vfio-pci, pt on a kernel-driven one).
  if (!spec.block && opts.engine === undefined && !isPciTarget(targetPath)) opts.engine = 'pt';
  const plan = buildPlan(name as Workload, targetPath, opts);
  const cmd: CommandPlan = {
    name,
    writes: spec.writes,
    copyRanges: o.copyRanges !== undefined ? parseCount(o.copyRanges, '--copy-ranges', 1, 128) : 1,
    zones: o.zones !== undefined ? parseCount(o.zones, '--zones', 1, 65536) : undefined,
    raw,
  };
  plan.command = cmd;
  if (plan.series.precondition) throw usageError('--precondition applies to reads and writes, not to NVMe command workloads', 'precondition with a separate nvmebench write --precondition seq run first');
  plan.readPercent = spec.readPercent;
  plan.random = spec.ranged && !o.sequential;
  return plan;
}

/** What a command's plan takes from the target itself (raw's effects and transfer, the pattern's size): probes it when needed. */
export async function fitCommandPlan(plan: RunPlan): Promise<RunPlan> {
  const cmd = plan.command!;
  const { name, raw } = cmd;
  const needsTarget = raw || name === 'compare' || (name === 'copy' && plan.verify);
  const target = needsTarget ? await probeTarget(plan.targetPath, { nsid: plan.nsid }) : undefined;
  if (raw && target) {
    const effects = rawEffects(raw, readCommandInfo(target));
    if (effects.warning) process.stderr.write(`nvmebench: ${effects.warning}\n`);
    cmd.writes = effects.writes;
    plan.readPercent = raw.dir === 'write' || (raw.dir === 'none' && effects.writes) ? 0 : 100;
    plan.workload = `raw:0x${raw.opcode.toString(16).padStart(2, '0')}`;
    const lba = target.nvme?.lbaSize ?? target.logicalBlockSize;
    // Extended LBAs move their metadata inline, unless PRACT (CDW12 bit 29) strips a PI-only format's.
    const pract = (raw.cdw[2] >>> 29) & 1 && target.nvme?.metaSize === 8;
    checkRawTransfer(raw, lba + (target.nvme?.extendedMeta && !pract ? target.nvme.metaSize : 0));
    checkRawMetadata(raw, target.nvme, plan.targetPath);
    plan.blockSizes = [Math.max(lba, Math.ceil(raw.dataLen / lba) * lba)];
  }
  if ((name === 'compare' || (name === 'copy' && plan.verify)) && plan.size === undefined && target) {
    const whole = target.sizeBytes - plan.offset;
    if (whole > PATTERN_DEFAULT_SIZE) {
      plan.size = PATTERN_DEFAULT_SIZE;
      process.stderr.write(`nvmebench: ${name} writes its pattern over the first ${PATTERN_DEFAULT_SIZE / 1024 ** 3} GiB of the region first; --size changes that\n`);
    }
  }
  return plan;
}

export function register(program: Command): void {
  for (const name of COMMAND_WORKLOADS) {
    const spec = COMMANDS[name];
    const cmd = program
      .command(name)
      .summary(spec.summary)
      .description(spec.help)
      .argument('[target]', spec.block ? 'file, /dev/nvmeXnY, /dev/ngXnY, or a PCI address on vfio-pci' : '/dev/ngXnY (or its /dev/nvmeXnY), or a PCI address on vfio-pci');
    addRunOptions(cmd);
    if (spec.ranged) cmd.option('--sequential', 'offsets in order through the region (default: at random)');
    if (name === 'copy') cmd.option('--copy-ranges <n>', 'source ranges per Copy command, 1 to 128 (default 1): each is bs/N bytes');
    if (name === 'zone-append') cmd.option('--zones <n>', 'zones open at once over all threads (default: 4, at most the region\'s zones and MOR+1)');
    if (name === 'raw') {
      cmd
        .option('--opcode <op>', 'NVMe I/O opcode, e.g. 0x02 (vendor and new command-set opcodes go through as given)')
        .option('--cdw10 <dword>', 'command dword 10 (default 0)')
        .option('--cdw11 <dword>', 'command dword 11')
        .option('--cdw12 <dword>', 'command dword 12')
        .option('--cdw13 <dword>', 'command dword 13')
        .option('--cdw14 <dword>', 'command dword 14')
        .option('--cdw15 <dword>', 'command dword 15')
        .option('--data-len <bytes>', 'data transfer size (with --write or --read)')
        .option('--write', 'the command sends --data-len bytes to the device')
        .option('--read', 'the command reads --data-len bytes from the device')
        .option('--dump <file>', 'with --read: write the data of the last command to this file');
    }
    const block = spec.block ? Object.entries(spec.block).map(([e, call]) => `  ${e}: ${call}`).join('\n') : '  none: passthrough engines only (pt, pt-poll, ioctl, vfio)';
    cmd.addHelpText(
      'after',
      `\nNVMe: ${spec.title}${spec.opcode >= 0 ? ` (opcode ${hex(spec.opcode)})` : ''} through pt, pt-poll and ioctl, and vfio on a controller bound to vfio-pci.\nBlock layer:\n${block}\nSupport is checked first (ONCS, Identify, the Commands Supported and Effects log); an unsupported command is refused.`,
    );
    cmd.action(async (target: string | undefined, o: CommandCliOptions) => {
      const plan = await fitCommandPlan(buildCommandPlan(name, target, o));
      const prep = await prepareTargets(plan);
      return (await executeRun(prep, name)).outcome;
    });
  }
}
