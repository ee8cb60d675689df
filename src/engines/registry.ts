// The engine registry: what each I/O path is, what it needs, and on which
// node of a target it runs. `--engine all` asks every path here (PATH_ENGINES):
// nop, which opens nothing, is a yardstick rather than a path to a device.
import type { EngineName } from '../model.js';
import type { NvmeNamespace, Target } from '../target/target.js';
import { bindCommand, pciDevice, unbindCommand } from '../system/pci.js';
import { vfioFix } from '../target/pci.js';

export interface EngineSpec {
  name: EngineName;
  /** Which kinds of target node it opens. */
  /** 'nothing': nop, IORING_OP_NOP with no target. */
  opens: 'block-or-file' | 'block' | 'nvme-char' | 'vfio' | 'nothing';
  /** One I/O in flight per worker, whatever --qd says. */
  synchronous: boolean;
  polled: boolean;
  ioUring: boolean;
}

export const ENGINES: EngineSpec[] = [
  { name: 'psync', opens: 'block-or-file', synchronous: true, polled: false, ioUring: false },
  { name: 'aio', opens: 'block-or-file', synchronous: false, polled: false, ioUring: false },
  { name: 'uring', opens: 'block-or-file', synchronous: false, polled: false, ioUring: true },
  { name: 'uring-poll', opens: 'block', synchronous: false, polled: true, ioUring: true },
  { name: 'pt', opens: 'nvme-char', synchronous: false, polled: false, ioUring: true },
  { name: 'pt-poll', opens: 'nvme-char', synchronous: false, polled: true, ioUring: true },
  { name: 'ioctl', opens: 'nvme-char', synchronous: true, polled: false, ioUring: false },
  { name: 'vfio', opens: 'vfio', synchronous: false, polled: true, ioUring: false },
  { name: 'nop', opens: 'nothing', synchronous: false, polled: false, ioUring: true },
];

/** The engines that reach a device: what `--engine all` runs and the device listings show. */
export const PATH_ENGINES: EngineSpec[] = ENGINES.filter((e) => e.opens !== 'nothing');

/** nop alone needs no target. */
export function needsTarget(name: EngineName): boolean {
  return engineSpec(name).opens !== 'nothing';
}

export function engineSpec(name: EngineName): EngineSpec {
  const spec = ENGINES.find((e) => e.name === name);
  if (!spec) throw new Error(`no engine ${name}`);
  return spec;
}

export const POLL_QUEUES_FIX = 'boot with nvme.poll_queues=N on the kernel command line, or load the nvme module with poll_queues=N (nvmebench lab --poll-queues N)';

export type Usability =
  | { usable: true; node: string }
  /** severity: 'usage' for a target the engine can never run on, 'capability' for a device that lacks a feature. */
  | { usable: false; reason: string; fix: string; severity: 'usage' | 'capability' };

/** Can this engine run on this target, and on which node? vfioAutoBind: the run binds the controller itself. */
export function usableOn(name: EngineName, target: Target, opts: { buffered: boolean; vfioAutoBind?: boolean }): Usability {
  const spec = engineSpec(name);
  const nvme = target.nvme;
  if (spec.opens === 'nothing') return { usable: true, node: '' };
  if (target.kind === 'none') return { usable: false, reason: `${name} needs a target`, fix: `name a file or device, or use --engine nop alone`, severity: 'usage' };
  if (spec.opens !== 'vfio' && target.kind === 'pci') {
    // A controller the kernel does not drive has no node for the kernel's paths.
    const addr = target.pci?.address ?? target.path;
    const driver = target.pci?.driver;
    return driver === 'vfio-pci'
      ? { usable: false, reason: `${addr} is bound to vfio-pci, so the kernel has no node for ${name}`, fix: `give it back to the kernel: ${unbindCommand(addr)}`, severity: 'capability' }
      : { usable: false, reason: `${addr} is ${driver ? `bound to ${driver}` : 'on no driver'}, so the kernel has no NVMe node for ${name}`, fix: 'bind it to nvme: echo ' + addr + ' > /sys/bus/pci/drivers/nvme/bind', severity: 'capability' };
  }
  switch (spec.opens) {
    case 'block-or-file':
      if (target.kind === 'file') return { usable: true, node: target.path };
      if (target.kind === 'block') return { usable: true, node: target.path };
      if (nvme?.blockPath) return { usable: true, node: nvme.blockPath };
      return { usable: false, reason: `${target.given} has no block node (/dev/${nvme?.name ?? 'nvmeXnY'} is missing)`, fix: 'give the block device, or use pt, pt-poll or ioctl on the char node', severity: 'usage' };
    case 'block': {
      if (target.kind === 'file') {
        return { usable: false, reason: `${name} needs O_DIRECT on a block device with poll queues; ${target.given} is a regular file`, fix: 'point it at a block device such as /dev/nvme0n1', severity: 'usage' };
      }
      if (opts.buffered) {
        return { usable: false, reason: `${name} needs O_DIRECT`, fix: 'drop --buffered', severity: 'usage' };
      }
      const node = target.kind === 'block' ? target.path : nvme?.blockPath;
      if (!node) return { usable: false, reason: `${target.given} has no block node`, fix: 'use pt-poll on the char node', severity: 'usage' };
      if (!target.pollQueues) {
        return { usable: false, reason: `${name} needs poll queues, and ${node} has none (queue/io_poll is 0)`, fix: POLL_QUEUES_FIX, severity: 'capability' };
      }
      return { usable: true, node };
    }
    case 'nvme-char': {
      if (!nvme) {
        return { usable: false, reason: `${name} needs an NVMe namespace; ${target.given} is ${target.kind === 'file' ? 'a regular file' : 'not an NVMe device'}`, fix: 'point it at /dev/ngXnY', severity: 'usage' };
      }
      if (!nvme.charPath) {
        return { usable: false, reason: `the generic char node /dev/ng${nvme.name.slice(4)} is missing (kernel older than 5.13?)`, fix: 'use a kernel with NVMe generic char devices (5.13 or later)', severity: 'capability' };
      }
      if (spec.polled && !target.pollQueues) {
        return { usable: false, reason: `${name} needs poll queues, and the nvme driver has none for ${nvme.controller}`, fix: POLL_QUEUES_FIX, severity: 'capability' };
      }
      return { usable: true, node: nvme.charPath };
    }
    case 'vfio':
      return vfioUsable(target, opts.vfioAutoBind ?? false);
  }
}

/** The vfio engine runs on the controller's PCI address, once it is bound to vfio-pci. */
function vfioUsable(target: Target, autoBind: boolean): Usability {
  const addr = target.pci?.address ?? target.nvme?.pciAddress;
  if (!addr) {
    const what = target.kind === 'file' ? 'a regular file' : target.kind === 'block' ? 'a block device that is not on a PCI NVMe controller' : 'not on a PCI NVMe controller';
    return { usable: false, reason: `vfio drives a PCI NVMe controller; ${target.given} is ${what}`, fix: 'give the controller\'s PCI address (e.g. 0000:00:04.0), or /dev/nvmeX', severity: 'usage' };
  }
  const driver = target.pci?.driver ?? pciDevice(addr).driver;
  if (driver !== 'vfio-pci') {
    if (autoBind) return { usable: true, node: addr };
    return {
      usable: false,
      reason: `${addr} is ${driver ? `bound to ${driver}` : 'on no driver'}, not vfio-pci`,
      fix: `${bindCommand(addr)}, or add --vfio-auto-bind to bind it for the run`,
      severity: 'capability',
    };
  }
  if (target.pci?.probeError) {
    return { usable: false, reason: target.pci.probeError, fix: target.pci.probeFix ?? vfioFix(target.pci.probeError, addr), severity: 'capability' };
  }
  return { usable: true, node: addr };
}


// run/runner.ts still imports it from here; it lives in system/kernel.ts.
