// Binding NVMe controllers to vfio-pci and back, safely: refuse while any
// namespace is mounted or held, record the driver we took the device from
// (records.ts), and give it back on unbind.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BenchError, runError, usageError } from '../errors.js';
import { blockFamily, holdersOf, mountsOf } from '../target/safety.js';
import {
  IOMMU_FIX,
  NVME_CLASS,
  bindCommand,
  controllerNamespaces,
  groupBlockers,
  normalizePciAddress,
  pciAddressOfNode,
  pciDevice,
  sysfsRoot,
  unbindCommand,
  vfioBoundDevices,
  type PciDevice,
} from '../system/pci.js';

import { dropRecord, readRecords, restoreDriverFor, saveRecord } from './records.js';


/** A PCI address, or /dev/nvmeX, /dev/nvmeXnY, /dev/ngXnY → the controller's PCI address. */
export function resolvePciArgument(given: string): string {
  const addr = normalizePciAddress(given);
  if (addr) return addr;
  if (given.startsWith('/') || given.startsWith('.')) {
    const fromNode = pciAddressOfNode(given);
    if (fromNode) return fromNode;
    if (!fs.existsSync(given)) throw usageError(`${given} does not exist`, 'give the PCI address of the controller, e.g. 0000:00:04.0 (nvmebench vfio status lists bound ones)');
    throw usageError(`${given} is not a PCI NVMe device node`, 'give the PCI address of the controller, e.g. 0000:00:04.0');
  }
  throw usageError(`'${given}' is not a PCI address or an NVMe device node`, 'give e.g. 0000:00:04.0 or /dev/nvme0');
}

function requireRoot(what: string): void {
  if ((process.geteuid?.() ?? process.getuid?.()) !== 0) {
    throw runError(`${what} needs root (it rebinds a PCI device in sysfs)`, `run it as root: sudo nvmebench vfio ${what.split(' ')[0]} …`);
  }
}

function sysPath(...parts: string[]): string {
  return path.join(sysfsRoot(), ...parts);
}

function writeSys(file: string, value: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw runError(`writing '${value.trim()}' to ${file} failed: ${e.code ?? e.message}`, 'check dmesg for what the kernel said');
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

/** Load a PCI driver's module when its directory in sysfs is missing. */
function ensureDriverLoaded(driver: string): void {
  const dir = sysPath('bus', 'pci', 'drivers', driver);
  if (fs.existsSync(dir)) return;
  const module = driver.replace(/-/g, '_');
  const res = spawnSync('modprobe', [module], { encoding: 'utf8' });
  if (!fs.existsSync(dir)) {
    const why = res.error ? res.error.message : (res.stderr || '').trim() || `exit status ${res.status}`;
    throw runError(`the ${driver} driver is not loaded and modprobe ${module} failed (${why})`, `load it by hand: modprobe ${module}`);
  }
}

/** Function-level reset through sysfs where the device has one; quietly skipped otherwise. */
function resetDevice(address: string): void {
  try {
    fs.writeFileSync(sysPath('bus', 'pci', 'devices', address, 'reset'), '1');
  } catch {
    // no reset method: the next driver's own controller reset has to do
  }
}

/** Why writing to this controller's namespaces would destroy someone's data. */
export function bindHazards(dev: PciDevice): string[] {
  const namespaces = dev.controllers.flatMap((c) => controllerNamespaces(c));
  const family = [...new Set(namespaces.flatMap((n) => blockFamily(n)))];
  return [...mountsOf(family).map((m) => `mounted: ${m}`), ...holdersOf(family)];
}

export interface BindOptions {
  forceDestroy: boolean;
  /** For --vfio-auto-bind: marks the record so status tells it apart. */
  auto?: boolean;
  /** Progress lines go here; none when undefined. */
  log?: (line: string) => void;
}

export interface BindResult {
  address: string;
  already: boolean;
  previousDriver: string | null;
  group: number;
}

/** Check everything that would make binding fail or destroy data, before touching sysfs. */
export function checkBindable(address: string, dev: PciDevice, forceDestroy: boolean): number {
  if (!dev.exists) throw usageError(`there is no PCI device ${address}`, 'lspci -D -d ::0108 lists the NVMe controllers');
  if (dev.classCode !== NVME_CLASS) {
    throw usageError(`${address} is not an NVMe controller (PCI class 0x${dev.classCode.toString(16).padStart(6, '0')})`, 'lspci -D -d ::0108 lists the NVMe controllers');
  }
  if (dev.iommuGroup === undefined) {
    throw runError(`${address} has no IOMMU group: the IOMMU is off, and VFIO needs it`, IOMMU_FIX);
  }
  const blockers = groupBlockers(address, dev.iommuGroup);
  if (blockers.length) {
    throw runError(
      `IOMMU group ${dev.iommuGroup} of ${address} is not viable for VFIO: it also holds ${blockers.map((b) => `${b.address} (bound to ${b.driver})`).join(', ')}`,
      'bind every device of the group to vfio-pci, or put the controller in a slot with its own IOMMU group',
    );
  }
  if (!forceDestroy) {
    const hazards = bindHazards(dev);
    if (hazards.length) {
      throw usageError(
        `refusing to take ${address} from the kernel: ${hazards.join('; ')}`,
        'unmount it and stop what holds it, or pick another controller; --force-destroy overrides this',
      );
    }
  }
  return dev.iommuGroup;
}

export async function bindVfio(given: string, opts: BindOptions): Promise<BindResult> {
  const address = resolvePciArgument(given);
  const dev = pciDevice(address);
  if (dev.exists && dev.driver === 'vfio-pci') {
    return { address, already: true, previousDriver: 'vfio-pci', group: dev.iommuGroup ?? -1 };
  }
  requireRoot('bind');
  const group = checkBindable(address, dev, opts.forceDestroy);
  ensureDriverLoaded('vfio-pci');

  const previous = dev.driver ?? null;
  // Record first: whatever happens next, unbind knows where the device came from.
  saveRecord({
    address,
    originalDriver: previous,
    boundAt: new Date().toISOString(),
    auto: Boolean(opts.auto),
    controllers: dev.controllers,
    namespaces: dev.controllers.flatMap((c) => controllerNamespaces(c)),
  });
  const devDir = sysPath('bus', 'pci', 'devices', address);
  try {
    writeSys(path.join(devDir, 'driver_override'), 'vfio-pci');
    if (previous) writeSys(path.join(devDir, 'driver', 'unbind'), address);
    resetDevice(address);
    writeSys(sysPath('bus', 'pci', 'drivers_probe'), address);
    if (!(await waitFor(() => pciDevice(address).driver === 'vfio-pci', 10_000))) {
      throw runError(`${address} did not bind to vfio-pci (it is on ${pciDevice(address).driver ?? 'no driver'})`, 'check dmesg for what vfio-pci said');
    }
    const node = `/dev/vfio/${group}`;
    if (!(await waitFor(() => fs.existsSync(node), 5_000))) {
      throw runError(`${node} did not appear after binding ${address}`, 'check that udev or devtmpfs creates /dev/vfio nodes');
    }
  } catch (err) {
    // Put it back where it was.
    try {
      await giveBack(address, previous);
      dropRecord(address);
    } catch {
      // the record stays: nvmebench vfio unbind will try again
    }
    throw err;
  }
  opts.log?.(`bound ${address} to vfio-pci (was ${previous ?? 'on no driver'}); ${unbindCommand(address)} gives it back`);
  return { address, already: false, previousDriver: previous, group };
}

/** Off vfio-pci (if on it), override cleared, reset, and onto driver (or none). */
async function giveBack(address: string, driver: string | null): Promise<void> {
  const devDir = sysPath('bus', 'pci', 'devices', address);
  const now = pciDevice(address);
  if (now.driver && now.driver !== driver) writeSys(path.join(devDir, 'driver', 'unbind'), address);
  writeSys(path.join(devDir, 'driver_override'), '\n');
  if (!driver || pciDevice(address).driver === driver) return;
  resetDevice(address);
  ensureDriverLoaded(driver);
  try {
    fs.writeFileSync(sysPath('bus', 'pci', 'drivers', driver, 'bind'), address);
  } catch {
    // some drivers refuse a direct bind: let the bus match it
    writeSys(sysPath('bus', 'pci', 'drivers_probe'), address);
  }
  if (!(await waitFor(() => pciDevice(address).driver === driver, 10_000))) {
    throw runError(`${address} did not bind back to ${driver} (it is on ${pciDevice(address).driver ?? 'no driver'})`, `check dmesg; then try: echo ${address} > /sys/bus/pci/drivers/${driver}/bind`);
  }
}

/** Is the VFIO group open in some process (a run, a VM)? Unbinding would block until it lets go. */
function groupBusy(group: number): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(`/dev/vfio/${group}`, fs.constants.O_RDWR);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EBUSY';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface UnbindResult {
  address: string;
  already: boolean;
  driver: string | null;
  controllers: string[];
  namespaces: string[];
}

export async function unbindVfio(given: string, opts: { log?: (line: string) => void } = {}): Promise<UnbindResult> {
  const address = resolvePciArgument(given);
  const dev = pciDevice(address);
  if (!dev.exists) throw usageError(`there is no PCI device ${address}`, 'nvmebench vfio status lists the bound devices');
  const records = readRecords();
  const driver = restoreDriverFor(address, dev, records);
  if ((dev.driver && dev.driver !== 'vfio-pci') || (!dev.driver && driver === null)) {
    // Not on vfio-pci (any more): nothing to give back; a record left behind is stale.
    if (records[address]) dropRecord(address);
    return { address, already: true, driver: dev.driver ?? null, controllers: dev.controllers, namespaces: dev.controllers.flatMap(controllerNamespaces) };
  }
  requireRoot('unbind');
  if (dev.driver === 'vfio-pci' && dev.iommuGroup !== undefined && groupBusy(dev.iommuGroup)) {
    throw runError(`${address} is in use: another process holds its VFIO group ${dev.iommuGroup} (a running nvmebench, or a VM)`, 'stop that process first');
  }
  if (driver === null && !records[address]) {
    throw usageError(`no record of the driver ${address} was on before vfio-pci, and it is not an NVMe controller`, `bind it by hand: echo ${address} > /sys/bus/pci/drivers/<driver>/bind`);
  }
  await giveBack(address, driver);
  dropRecord(address);
  let controllers: string[] = [];
  let namespaces: string[] = [];
  if (driver === 'nvme') {
    // The controller comes up asynchronously, then its namespaces are scanned.
    await waitFor(() => pciDevice(address).controllers.length > 0, 15_000);
    controllers = pciDevice(address).controllers;
    const expect = records[address]?.namespaces.length ?? 1;
    await waitFor(() => controllers.flatMap(controllerNamespaces).filter((n) => fs.existsSync(`/dev/${n}`)).length >= expect, 10_000);
    namespaces = controllers.flatMap(controllerNamespaces);
  }
  opts.log?.(`gave ${address} back to ${driver ?? 'no driver'}${controllers.length ? ` as ${controllers.join(', ')}` : ''}${namespaces.length ? ` (${namespaces.map((n) => `/dev/${n}`).join(', ')})` : ''}`);
  return { address, already: false, driver, controllers, namespaces };
}

export interface StatusEntry {
  address: string;
  driver: string | null;
  originalDriver: string | null;
  recorded: boolean;
  auto: boolean;
  boundAt?: string;
  iommuGroup?: number;
  vendorDevice: string;
}

/** Every device on vfio-pci now, and every device nvmebench has a record of. */
export function vfioStatus(): StatusEntry[] {
  const records = readRecords();
  const addresses = [...new Set([...vfioBoundDevices(), ...Object.keys(records)])].sort();
  return addresses.map((address) => {
    const dev = pciDevice(address);
    const rec = records[address];
    return {
      address,
      driver: dev.driver ?? null,
      originalDriver: rec ? rec.originalDriver : restoreDriverFor(address, dev, records),
      recorded: Boolean(rec),
      auto: Boolean(rec?.auto),
      boundAt: rec?.boundAt,
      iommuGroup: dev.iommuGroup,
      vendorDevice: dev.exists ? `${dev.vendor.toString(16).padStart(4, '0')}:${dev.device.toString(16).padStart(4, '0')}` : 'gone',
    };
  });
}

/**
 * --vfio-auto-bind: bind the controller when a vfio cell needs it, give it
 * back when a kernel cell does, and restore the original driver at the end
 * (executeRun calls restore() in a finally, so Ctrl-C and errors restore too).
 */
export class VfioAutoBind {
  private boundByUs = false;

  constructor(
    readonly address: string,
    private readonly forceDestroy: boolean,
    private log: (line: string) => void = (line) => process.stderr.write(`nvmebench: ${line}\n`),
  ) {}

  /** Where the bind and unbind lines go from now on (above the progress line while one is drawn). */
  logTo(log: (line: string) => void): void {
    this.log = log;
  }

  /** Everything that would make the bind fail, checked before the run starts. */
  precheck(): void {
    requireRoot('bind');
    checkBindable(this.address, pciDevice(this.address), this.forceDestroy);
  }

  /** Make the binding right for the next cell; node is a kernel node that must exist afterwards. */
  async ensure(wantVfio: boolean, node?: string): Promise<void> {
    const driver = pciDevice(this.address).driver;
    if (wantVfio && driver !== 'vfio-pci') {
      await bindVfio(this.address, { forceDestroy: this.forceDestroy, auto: true, log: this.log });
      this.boundByUs = true;
    } else if (!wantVfio && this.boundByUs && driver === 'vfio-pci') {
      await unbindVfio(this.address, { log: this.log });
      this.boundByUs = false;
      if (node && !(await waitFor(() => fs.existsSync(node), 10_000))) {
        throw runError(`${node} did not come back after giving ${this.address} back to the kernel`, 'run nvmebench devices to see the new names');
      }
    }
  }

  async restore(): Promise<void> {
    if (!this.boundByUs) return;
    try {
      await unbindVfio(this.address, { log: this.log });
      this.boundByUs = false;
    } catch (err) {
      const msg = err instanceof BenchError ? err.toLine() : (err as Error).message;
      this.log(`could not give ${this.address} back to its driver: ${msg}; run ${unbindCommand(this.address)}`);
    }
  }
}

export { bindCommand, unbindCommand };
