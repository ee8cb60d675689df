// What a Target is: the file, block device, NVMe namespace or PCI controller
// the user pointed at, as every engine and check sees it.
import type { NvmeCommandInfo, NvmeIdentify } from '../native/addon.js';

export type TargetKind = 'file' | 'block' | 'nvme-char' | 'pci';

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
}
