// What a Target is: the file, block device, NVMe namespace or PCI controller
// the user pointed at, as every engine and check sees it.
import type { NvmeCommandInfo, NvmeIdentify } from '../native/addon.js';
import { insideLab } from '../system/kernel.js';

/** 'none': no target at all (the nop engine alone). */
export type TargetKind = 'file' | 'block' | 'nvme-char' | 'pci' | 'none';

export interface NvmeNamespace {
  /** nvme0n1 */
  name: string;
  controller: string;
  nsid: number;
  blockPath?: string;
  charPath?: string;
  lbaSize: number;
  metaSize: number;
  extendedMeta: boolean;
  capacityBytes: number;
  /** Largest transfer, from MDTS (0 when unknown or unlimited). */
  maxTransferBytes: number;
  pciAddress: string;
  identify?: NvmeIdentify;
  /**
   * A controller on vfio-pci has no node to read the command support checks'
   * data through: the vfio driver reads it when it probes the controller.
   */
  commandInfo?: NvmeCommandInfo;
}

export interface Target {
  /** What the user typed. */
  given: string;
  path: string;
  kind: TargetKind;
  sizeBytes: number;
  logicalBlockSize: number;
  /** Block device name in /sys/class/block, when there is one. */
  blockName?: string;
  /** /sys/block/X/queue/io_poll: the device has poll queues. */
  pollQueues?: boolean;
  nvme?: NvmeNamespace;
  /** A target given as a PCI address (0000:00:04.0): the controller and its driver. */
  pci?: PciTargetInfo;
  model: string;
  serial: string;
  firmware: string;
  emulated: boolean;
}

export interface PciTargetInfo {
  address: string;
  driver?: string;
  iommuGroup?: number;
  /** Why the vfio driver could not Identify the controller, when it could not. */
  probeError?: string;
  probeErrorCode?: string;
  /** The native side's fix for probeError, when it gave one. */
  probeFix?: string;
}

/** QEMU's NVMe controller, or any device in the lab's guest. */
export function isEmulated(model: string): boolean {
  return /QEMU/i.test(model) || insideLab();
}

/**
 * The largest transfer: MDTS, in units of the controller's minimum page size
 * (4 KiB on nearly every device), capped by the limit the driver applies
 * (queue/max_hw_sectors_kb). 0 when neither is known.
 */
export function transferLimit(mdts: number, hwMaxSectorsKb: number): number {
  const fromMdts = mdts ? 4096 * 2 ** mdts : 0;
  return hwMaxSectorsKb && (!fromMdts || hwMaxSectorsKb * 1024 < fromMdts) ? hwMaxSectorsKb * 1024 : fromMdts;
}

/** Where a target is and how big: everything of a Target but what the NVMe namespace and its controller say. */
export type TargetNode = Pick<Target, 'given' | 'path' | 'kind' | 'sizeBytes' | 'logicalBlockSize' | 'blockName' | 'pollQueues' | 'pci'>;

/**
 * The one way to build an NVMe namespace's Target, whether a node was probed,
 * the vfio driver Identified a controller on vfio-pci, or discovery read sysfs.
 */
export function nvmeTarget(node: TargetNode, nvme: NvmeNamespace, ctrl: { model: string; serial: string; firmware: string }): Target {
  return { ...node, nvme, model: ctrl.model, serial: ctrl.serial, firmware: ctrl.firmware, emulated: isEmulated(ctrl.model) };
}
