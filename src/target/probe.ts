// What the user pointed us at: a file, a block device, or an NVMe generic
// char device. Resolves the sibling nodes of an NVMe namespace so each engine
// runs on its own node, and reads what sysfs and Identify say about it.
import fs from 'node:fs';
import path from 'node:path';
import { devNumbers, readSys } from '../system/sysfs.js';
import { describeErrno, usageError } from '../errors.js';
import { native, type NvmeIdentify } from '../native/addon.js';
import { controllerNamespaceNames, isControllerName, parseNvmeName } from '../system/nvme-sysfs.js';
import { realSys, type SysReader } from '../system/sysfs.js';
import { pciAddressBehind, pciAddressTarget } from '../system/pci.js';
import { nvmePciDevice, pciTargetInfo, probePciTarget } from './pci.js';
import { isEmulated, nvmeTarget, transferLimit, type NvmeNamespace, type Target, type TargetNode } from './target.js';


function identifyNamespace(node: string): NvmeIdentify | undefined {
  try {
    return native().nvmeIdentify(node);
  } catch {
    return undefined;
  }
}

/** Fill the NVMe view of a namespace from sysfs and, where we may, Identify. */
function describeNvme(name: string, sizeFromSys: number): NvmeNamespace {
  const ids = parseNvmeName(name)!;
  const blockName = `nvme${ids.instance}n${ids.nsid}`;
  const charName = `ng${ids.instance}n${ids.nsid}`;
  const blockPath = fs.existsSync(`/dev/${blockName}`) ? `/dev/${blockName}` : undefined;
  const charPath = fs.existsSync(`/dev/${charName}`) ? `/dev/${charName}` : undefined;
  const controller = `nvme${ids.instance}`;
  const identify = charPath ? identifyNamespace(charPath) : blockPath ? identifyNamespace(blockPath) : undefined;
  const lbaSize = identify?.ns?.lbaSize ?? Number(readSys(`/sys/class/block/${blockName}/queue/logical_block_size`) ?? 512);
  const capacity = identify?.ns ? identify.ns.nsze * identify.ns.lbaSize : sizeFromSys;
  const hwKb = Number(readSys(`/sys/class/block/${blockName}/queue/max_hw_sectors_kb`) ?? 0);
  return {
    name: blockName,
    controller,
    nsid: identify?.ns?.nsid ?? Number(readSys(`/sys/class/block/${blockName}/nsid`) ?? ids.nsid),
    blockPath,
    charPath,
    lbaSize,
    metaSize: identify?.ns?.metaSize ?? 0,
    extendedMeta: Boolean(identify?.ns?.extendedMeta),
    capacityBytes: capacity,
    maxTransferBytes: transferLimit(identify?.ctrl.mdts ?? 0, hwKb),
    pciAddress: pciAddressBehind(`/sys/class/nvme/${controller}/device`),
    identify,
  };
}

function controllerInfo(controller: string, identify?: NvmeIdentify): { model: string; serial: string; firmware: string } {
  return {
    model: identify?.ctrl.model || readSys(`/sys/class/nvme/${controller}/model`) || '',
    serial: identify?.ctrl.serial || readSys(`/sys/class/nvme/${controller}/serial`) || '',
    firmware: identify?.ctrl.firmware || readSys(`/sys/class/nvme/${controller}/firmware_rev`) || '',
  };
}

export interface ProbeOptions {
  /** --nsid: picks the namespace behind a controller node (/dev/nvme0), and must match a namespace node's own. */
  nsid?: number;
}

/** What the target is; async because a controller on vfio-pci is brought up to Identify it (pci.ts), off the JS thread. */
export async function probeTarget(given: string, opts: ProbeOptions = {}): Promise<Target> {
  const pciAddress = pciAddressTarget(given);
  if (pciAddress) {
    const dev = nvmePciDevice(pciAddress);
    // The kernel drives it: the same target as the namespace node (--nsid picks one).
    if (dev.driver === 'nvme' && dev.controllers.length) return { ...(await probeTarget(`/dev/${dev.controllers[0]}`, opts)), given, pci: pciTargetInfo(dev) };
    return probePciTarget(given, dev, opts.nsid);
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(given);
  } catch (err) {
    throw describeErrno((err as NodeJS.ErrnoException).code, given);
  }
  const resolved = path.resolve(given);
  if (stat.isDirectory()) {
    throw usageError(`${given} is a directory`, 'give a file, a block device (/dev/nvme0n1) or an NVMe char device (/dev/ng0n1)');
  }
  if (stat.isFile()) {
    return {
      given,
      path: resolved,
      kind: 'file',
      sizeBytes: stat.size,
      logicalBlockSize: 512,
      model: '',
      serial: '',
      firmware: '',
      emulated: false,
    };
  }
  if (stat.isBlockDevice()) {
    const sysLink = `/sys/dev/block/${devNumbers(stat.rdev)}`;
    const blockName = path.basename(fs.realpathSync(sysLink));
    const sectors = Number(readSys(`${sysLink}/size`) ?? 0);
    const lbs = Number(readSys(`/sys/class/block/${blockName}/queue/logical_block_size`) ?? 512);
    const poll = readSys(`/sys/class/block/${blockName}/queue/io_poll`);
    const node: TargetNode = { given, path: resolved, kind: 'block', sizeBytes: sectors * 512, logicalBlockSize: lbs, blockName, pollQueues: poll === '1' };
    if (parseNvmeName(blockName)) {
      const nvme = describeNvme(blockName, node.sizeBytes);
      checkNsid(nvme, opts.nsid, given);
      return nvmeTarget(node, nvme, controllerInfo(nvme.controller, nvme.identify));
    }
    const model = readSys(`/sys/class/block/${blockName}/device/model`) ?? '';
    return { ...node, model, serial: '', firmware: '', emulated: isEmulated(model) };
  }
  if (stat.isCharacterDevice()) {
    const sysLink = `/sys/dev/char/${devNumbers(stat.rdev)}`;
    let charName = '';
    try {
      charName = path.basename(fs.realpathSync(sysLink));
    } catch {
      charName = path.basename(resolved);
    }
    if (isControllerName(charName)) {
      return { ...(await probeTarget(namespaceOfController(given, charName, opts.nsid))), given };
    }
    if (parseNvmeName(charName)?.node !== 'char') {
      throw usageError(`${given} is a character device but not an NVMe generic namespace node`, 'give /dev/ngXnY, /dev/nvmeXnY or a file');
    }
    const nvme = describeNvme(charName, 0);
    const blockName = nvme.blockPath ? nvme.name : undefined;
    const poll = blockName ? readSys(`/sys/class/block/${blockName}/queue/io_poll`) : undefined;
    const info = controllerInfo(nvme.controller, nvme.identify);
    checkNsid(nvme, opts.nsid, given);
    const sizeBytes = nvme.capacityBytes || Number(readSys(`/sys/class/block/${nvme.name}/size`) ?? 0) * 512;
    const pollQueues = poll === undefined ? pollQueuesFromModule() : poll === '1';
    return nvmeTarget({ given, path: resolved, kind: 'nvme-char', sizeBytes, logicalBlockSize: nvme.lbaSize, blockName, pollQueues }, nvme, info);
  }
  throw usageError(`${given} is not a file or a device`, 'give a file, a block device or an NVMe char device');
}

/** Without a block node, fall back on the nvme driver's poll_queues parameter. */
function pollQueuesFromModule(): boolean {
  return Number(readSys('/sys/module/nvme/parameters/poll_queues') ?? 0) > 0;
}

// Controller nodes: /dev/nvme0 names a controller, not a namespace. With
// --nsid it stands for that namespace; without, for the only one there is.

/** The namespace a controller node stands for; throws naming the choices when it is ambiguous. */
export function pickNamespace<N extends { instance: number; nsid: number; index?: number }>(given: string, namespaces: N[], nsid: number | undefined): N {
  const nsids = namespaces.map((n) => n.nsid);
  const list = namespaces.map((n) => `/dev/ng${n.instance}n${n.index ?? n.nsid}`).join(', ');
  const none = 'create and attach a namespace first (nvme create-ns, nvme attach-ns)';
  if (nsid !== undefined) {
    const found = namespaces.find((n) => n.nsid === nsid);
    if (found) return found;
    if (!namespaces.length) throw usageError(`${given} has no namespace ${nsid} (it has no namespaces)`, none);
    throw usageError(`${given} has no namespace ${nsid} (it has ${nsids.length === 1 ? 'nsid' : 'nsids'} ${nsids.join(', ')})`, `give --nsid ${nsids[0]}, or a namespace node: ${list}`);
  }
  if (namespaces.length === 1) return namespaces[0];
  if (!namespaces.length) throw usageError(`${given} is a controller with no namespaces`, none);
  throw usageError(`${given} is a controller with ${namespaces.length} namespaces (nsids ${nsids.join(', ')})`, `give --nsid N, or a namespace node: ${list}`);
}

/** /dev/nvmeX (+ --nsid) → the namespace's char node /dev/ngXnN (or its block node when the char node is missing). */
export function namespaceOfController(given: string, controller: string, nsid: number | undefined, sys: SysReader = realSys): string {
  const { instance, index, nsid: chosen } = pickNamespace(given, controllerNamespaceNames(sys, controller), nsid);
  for (const node of [`/dev/ng${instance}n${index}`, `/dev/nvme${instance}n${index}`]) {
    if (sys.exists(node)) return node;
  }
  throw usageError(`namespace ${chosen} of ${given} has no device node (/dev/ng${instance}n${index} and /dev/nvme${instance}n${index} are missing)`, 'check that udev created the nodes: ls -l /dev/ng* /dev/nvme*');
}

/** --nsid given with a namespace node must name that namespace. */
export function checkNsid(nvme: NvmeNamespace | undefined, nsid: number | undefined, given: string): void {
  if (nsid === undefined || !nvme || nvme.nsid === nsid) return;
  throw usageError(
    `--nsid ${nsid} does not match ${given}, which is namespace ${nvme.nsid}`,
    `drop --nsid, or give /dev/ng${nvme.controller.replace(/^nvme/, '')}n${nsid}, or the controller: /dev/${nvme.controller} --nsid ${nsid}`,
  );
}

