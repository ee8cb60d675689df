// The record of what nvmebench bound to vfio-pci, and the driver each device
// came from: a small JSON file under /run/nvmebench (or
// $XDG_RUNTIME_DIR/nvmebench), so it goes with a reboot, like the binding.
import fs from 'node:fs';
import path from 'node:path';
import { NVME_CLASS, type PciDevice } from '../system/pci.js';

export interface BindRecord {
  address: string;
  /** The driver the device was on before nvmebench bound it to vfio-pci; null for none. */
  originalDriver: string | null;
  boundAt: string;
  /** Bound by --vfio-auto-bind for one run (and not given back if that run was killed). */
  auto: boolean;
  controllers: string[];
  namespaces: string[];
}

interface RecordFile {
  version: 1;
  devices: Record<string, BindRecord>;
}

export function recordDir(): string {
  if (process.env.NVMEBENCH_RUNTIME_DIR) return process.env.NVMEBENCH_RUNTIME_DIR;
  if (process.getuid?.() !== 0 && process.env.XDG_RUNTIME_DIR) return path.join(process.env.XDG_RUNTIME_DIR, 'nvmebench');
  return '/run/nvmebench';
}

export function recordPath(): string {
  return path.join(recordDir(), 'vfio.json');
}

export function readRecords(): Record<string, BindRecord> {
  try {
    const data = JSON.parse(fs.readFileSync(recordPath(), 'utf8')) as RecordFile;
    return data && typeof data.devices === 'object' && data.devices ? data.devices : {};
  } catch {
    return {};
  }
}

function writeRecords(devices: Record<string, BindRecord>): void {
  const file = recordPath();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.${process.pid}.tmp`;
  const body: RecordFile = { version: 1, devices };
  fs.writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n', { mode: 0o644 });
  fs.renameSync(tmp, file);
}

export function saveRecord(rec: BindRecord): void {
  const all = readRecords();
  all[rec.address] = rec;
  writeRecords(all);
}

export function dropRecord(address: string): void {
  const all = readRecords();
  if (!(address in all)) return;
  delete all[address];
  writeRecords(all);
}

/** The driver unbind gives a device back to: the recorded one, else nvme for an NVMe controller. */
export function restoreDriverFor(address: string, dev: PciDevice, records = readRecords()): string | null {
  const rec = records[address];
  if (rec) return rec.originalDriver;
  return dev.classCode === NVME_CLASS ? 'nvme' : null;
}
