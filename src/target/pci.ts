// PCI-address targets (0000:00:04.0). A controller the kernel drives is the
// same target as its namespace node; one bound to vfio-pci has no node, so
// the userspace driver brings it up once to Identify it (vfioProbe).
import { BenchError, runError, usageError } from '../errors.js';
import { native, type NativeError, type VfioProbeResult } from '../native/addon.js';
import { isEmulated, nvmeTarget, type NvmeNamespace, type PciTargetInfo, type Target } from './target.js';
import { IOMMU_FIX, NVME_CLASS, bindCommand, pciDevice, type PciDevice } from '../system/pci.js';
import { withInterruptHandlers } from '../system/signals.js';

/** A fix for what vfio_open or the bring-up said, for messages that carry none of their own (err.fix). */
export function vfioFix(message: string, address: string): string {
  if (/IOMMU group.*not viable/.test(message)) return 'bind every device of the IOMMU group to vfio-pci, or move the controller to a slot with its own group';
  if (/IOMMU is off|no IOMMU group/.test(message)) return IOMMU_FIX;
  if (/not bound to vfio-pci/.test(message)) return `bind it first: ${bindCommand(address)} (or add --vfio-auto-bind)`;
  if (/needs root|Permission denied|Operation not permitted/.test(message)) return 'run as root (sudo): VFIO needs it';
  if (/another process holds the group|Device or resource busy/.test(message)) return 'stop the other user of the device (another nvmebench run, or a VM)';
  if (/memlock/.test(message)) return 'run as root, or raise the memlock limit: ulimit -l unlimited';
  if (/namespace .* does not exist|not active/.test(message)) return 'give --nsid of an active namespace';
  if (/modprobe|vfio modules/.test(message)) return 'sudo modprobe vfio-pci';
  return 'check dmesg for what the kernel said; nvmebench vfio unbind, then bind, resets the controller';
}

/** The PCI device at address, which must be an NVMe controller. */
export function nvmePciDevice(address: string): PciDevice {
  const dev = pciDevice(address);
  if (!dev.exists) throw usageError(`there is no PCI device ${address}`, 'lspci -D -d ::0108 lists the NVMe controllers');
  if (dev.classCode !== NVME_CLASS) {
    throw usageError(`${address} is not an NVMe controller (PCI class 0x${dev.classCode.toString(16).padStart(6, '0')})`, 'lspci -D -d ::0108 lists the NVMe controllers');
  }
  return dev;
}

export function pciTargetInfo(dev: PciDevice): PciTargetInfo {
  return { address: dev.address, driver: dev.driver, iommuGroup: dev.iommuGroup };
}

/**
 * A native vfio call that takes an abort flag (vfioProbe, vfioReportZones,
 * vfioFdpInfo), awaited with
 * SIGINT and SIGTERM held: while it runs, a signal sets the flag, which cuts
 * a ready wait or an admin command short; the controller is shut down (or
 * disabled) and closed on its own thread before the promise settles, and
 * then this throws, so nothing was left half up when the command exits.
 */
const interruptions = new WeakSet<Error>();

/** Whether err is interruptibleVfio's: the user stopped the command, which must end rather than carry on without the controller. */
export function probeInterrupted(err: unknown): boolean {
  return err instanceof Error && interruptions.has(err);
}

export async function interruptibleVfio<T>(address: string, call: (abort: Int32Array) => Promise<T>, doing = 'probing'): Promise<T> {
  const abort = new Int32Array(new SharedArrayBuffer(4));
  let signal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    signal ??= sig;
    Atomics.store(abort, 0, 1);
  };
  const result = await withInterruptHandlers(onSignal, async () => {
    try {
      return await call(abort);
    } catch (err) {
      if (!signal) throw err;
      return undefined as T;
    }
  });
  if (signal) {
    const err = runError(`interrupted (${signal}) while ${doing} ${address}; the controller was shut down and nothing ran`, 'run the command again');
    interruptions.add(err);
    throw err;
  }
  return result;
}

/**
 * A controller the kernel does not drive (probe.ts turns one it drives into
 * its namespace node): on vfio-pci the vfio driver Identifies it; on any
 * other driver, or none, the target is the bare address.
 */
export async function probePciTarget(given: string, dev: PciDevice, nsid: number | undefined): Promise<Target & { pci: PciTargetInfo }> {
  const address = dev.address;
  const pci = pciTargetInfo(dev);
  const target: Target & { pci: PciTargetInfo } = {
    given,
    path: address,
    kind: 'pci',
    sizeBytes: 0,
    logicalBlockSize: 512,
    model: '',
    serial: '',
    firmware: '',
    emulated: isEmulated(''),
    pci,
  };
  if (dev.driver !== 'vfio-pci') return target;
  const want = nsid ?? 1;
  let probe: VfioProbeResult;
  try {
    // On a pool thread: a bring-up may wait CAP.TO (up to 127 s) while the live line and Ctrl-C go on.
    probe = await interruptibleVfio(address, (abort) => native().vfioProbe(address, want, abort));
  } catch (err) {
    if (err instanceof BenchError) throw err;
    const e = err as NativeError;
    pci.probeError = e.message;
    pci.probeErrorCode = e.code;
    pci.probeFix = e.fix;
    return target;
  }
  const ns = probe.ns!;
  const nvme: NvmeNamespace = {
    name: '',
    controller: '',
    nsid: ns.nsid,
    lbaSize: ns.lbaSize,
    metaSize: ns.metaSize,
    extendedMeta: Boolean(ns.extendedMeta),
    capacityBytes: ns.nsze * ns.lbaSize,
    maxTransferBytes: probe.cap.maxTransferBytes,
    pciAddress: address,
    identify: { ctrl: probe.ctrl, ns: probe.ns },
    commandInfo: probe.commands,
  };
  return { ...nvmeTarget({ given, path: address, kind: 'pci', sizeBytes: nvme.capacityBytes, logicalBlockSize: ns.lbaSize, pci }, nvme, probe.ctrl), pci };
}
