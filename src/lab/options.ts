// What a lab looks like: how many controllers and namespaces, their format,
// and how the guest runs. Parsing helpers turn CLI strings into these values
// with errors a user can act on.
import os from 'node:os';
import { usageError } from '../errors.js';
import { parseSize } from '../plan/units.js';
import { DEFAULT_KERNEL, parseKernelSpec, type KernelSpec } from './apt.js';

export type Accel = 'auto' | 'tcg' | 'kvm';

export interface LabOptions {
  /** Emulated NVMe controllers (1..8). */
  controllers: number;
  /** Namespaces per controller (1..8). */
  namespaces: number;
  /** Logical (and physical) block size of every namespace. */
  lbaSize: 512 | 4096;
  /** Bytes per namespace; the backing files are sparse. */
  nsSize: number;
  /** Add a zoned (ZNS) namespace to the first controller, after the others. */
  zoned: boolean;
  /** nvme.poll_queues in the guest; 0 leaves the driver without poll queues. */
  pollQueues: number;
  /** Bind the last controller to vfio-pci inside the guest (adds an IOMMU). */
  vfio: boolean;
  /** Add an IOMMU and load vfio-pci without binding anything (for --vfio-auto-bind runs). */
  iommu: boolean;
  accel: Accel;
  /** Guest vCPUs. */
  cpus: number;
  /** Guest memory in MiB. */
  memMiB: number;
  /** Seconds the guest command may run; 0 means no limit. */
  timeout: number;
  /** Seconds the guest may take to boot to the point where it runs the command. */
  bootTimeout: number;
  /** Extra kernel command line, for debugging the lab. */
  append: string;
  /** Host directory the guest command runs in; shared writable. */
  cwd: string;
  /** More host directories to share writable (the cwd always is, unless it is /). */
  shares: string[];
  /** No "lab:" progress lines on stderr. */
  quiet: boolean;
  /** --ns-props: extra QEMU nvme-ns properties for some namespaces. */
  nsProps: NsProps[];
  /** --kernel: the Debian kernel series (6.1, 6.12) or package the guest boots. */
  kernel: KernelSpec;
  /** --fdp: the controllers (indexes) put in an nvme-subsys with Flexible Data Placement; empty: none. */
  fdp: number[];
  /** --ssh-port: forward 127.0.0.1:PORT on the host to the guest's port 22 (0: no network). */
  sshPort?: number;
}

/** One --ns-props: properties for namespace nsid, of one controller or of every controller that has it. */
export interface NsProps {
  /** As given, for messages. */
  text: string;
  /** cCnN: controller C only; undefined: nsid N on every controller that has it. */
  controller?: number;
  nsid: number;
  props: Array<[string, string]>;
}

export const MAX_CONTROLLERS = 8;
export const MAX_NAMESPACES = 8;

export function defaultLabOptions(): LabOptions {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return {
    controllers: 1,
    namespaces: 1,
    lbaSize: 512,
    nsSize: 64 * 1024 * 1024,
    zoned: false,
    pollQueues: 2,
    vfio: false,
    iommu: false,
    accel: 'auto',
    cpus: Math.max(1, Math.min(2, cores)),
    memMiB: 2048,
    timeout: 3600,
    bootTimeout: 120,
    append: '',
    cwd: process.cwd(),
    shares: [],
    quiet: false,
    kernel: parseKernelSpec(DEFAULT_KERNEL),
    nsProps: [],
    fdp: [],
  };
}

/** The reclaim unit handles every FDP controller of the lab has (fdp.nruh), all in each namespace's list. */
export const LAB_FDP_RUHS = 8;

/** --fdp [controllers]: true (bare) for every controller, or a list such as 0,2. */
export function parseFdpControllers(value: string | true | undefined, controllers: number): number[] {
  if (value === undefined) return [];
  if (value === true) return Array.from({ length: controllers }, (_, i) => i);
  const out: number[] = [];
  for (const part of value.split(',')) {
    const n = parseIntIn(part, '--fdp controller', 0, MAX_CONTROLLERS - 1);
    if (n >= controllers) throw usageError(`--fdp ${value}: there is no controller ${n} (the lab has ${controllers}, numbered from 0)`, `give controllers 0 to ${controllers - 1}, or add --controllers`);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

export function parseIntIn(text: string, what: string, min: number, max: number): number {
  const n = /^\s*\d+\s*$/.test(text) ? parseInt(text, 10) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) {
    throw usageError(`${what} "${text}" is out of range`, `give a whole number from ${min} to ${max}`);
  }
  return n;
}

export function parseSeconds(text: string, what: string, allowZero: boolean): number {
  const n = /^\s*\d+(\.\d+)?\s*s?\s*$/.test(text) ? parseFloat(text) : NaN;
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    throw usageError(`${what} "${text}" is not a number of seconds`, allowZero ? 'give seconds, or 0 for no limit' : 'give a positive number of seconds');
  }
  return n;
}

export function parseAccel(text: string): Accel {
  const v = text.trim().toLowerCase();
  if (v === 'auto' || v === 'tcg' || v === 'kvm') return v;
  throw usageError(`--accel "${text}" is not known`, 'use auto, tcg or kvm');
}

export function parseLbaSize(text: string): 512 | 4096 {
  const v = parseSize(text, '--lba-size');
  if (v === 512 || v === 4096) return v;
  throw usageError(`--lba-size ${text} is not supported`, 'use 512 or 4096');
}

/** The nvme-ns properties the lab sets itself, and what to use instead. */
const LAB_NS_PROPS: Record<string, string> = {
  drive: 'the lab gives every namespace its own backing file',
  bus: 'pick the controller with cCnN: (e.g. --ns-props c1n2:mssrl=0)',
  nsid: 'pick the namespace with N: (its nsid, as the lab numbers them)',
  logical_block_size: 'use --lba-size',
  physical_block_size: 'use --lba-size',
  zoned: 'use --zoned, which adds a zoned namespace after the others',
  'zoned.zone_size': 'the lab sizes the zones from --ns-size',
};

const NS_PROP_KEY = /^[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)*$/;
const NS_PROP_VALUE = /^[A-Za-z0-9_.:+\/-]+$/;

/**
 * --ns-props "N:key=value[,key=value...]" or "cCnN:...": QEMU nvme-ns
 * properties for namespace N (nsid, as the lab numbers them) of every
 * controller, or of controller C only. Checks the syntax; validateLabOptions
 * checks that the namespace exists.
 */
export function parseNsProps(text: string): NsProps {
  const example = 'e.g. --ns-props 2:mssrl=0,mcl=0,msrc=0 (namespace 2), or c1n2:... for controller 1 only';
  const m = /^(?:c(\d+)n)?(\d+):(.*)$/.exec(text);
  if (!m) throw usageError(`--ns-props "${text}" does not start with a namespace: N: or cCnN:`, example);
  const controller = m[1] !== undefined ? Number(m[1]) : undefined;
  const nsid = Number(m[2]);
  if (nsid < 1 || !Number.isSafeInteger(nsid)) throw usageError(`--ns-props "${text}": namespace ${m[2]} does not exist (the lab numbers them from 1)`, example);
  if (!m[3]) throw usageError(`--ns-props "${text}" gives no properties`, example);
  const props: Array<[string, string]> = [];
  for (const item of m[3].split(',')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    if (eq < 0 || !NS_PROP_KEY.test(key) || !NS_PROP_VALUE.test(value)) {
      throw usageError(
        `--ns-props "${text}": "${item}" is not key=value`,
        `give QEMU nvme-ns properties as key=value, comma-separated, the key in lower case and the value of letters, digits and _.:+/- (${example})`,
      );
    }
    if (LAB_NS_PROPS[key]) throw usageError(`--ns-props "${text}": the lab sets ${key} itself`, LAB_NS_PROPS[key]);
    if (props.some(([k]) => k === key)) throw usageError(`--ns-props "${text}" gives ${key} twice`, 'give each property once');
    props.push([key, value]);
  }
  return { text, controller, nsid, props };
}

/** The nsids the lab gives controller index: 1..--namespaces, and the zoned one after them on the first. */
export function labNsids(o: Pick<LabOptions, 'namespaces' | 'zoned'>, controller: number): number[] {
  const ids = Array.from({ length: o.namespaces }, (_, i) => i + 1);
  if (o.zoned && controller === 0) ids.push(o.namespaces + 1);
  return ids;
}

/** The --ns-props properties of one namespace, in the order given. */
export function nsPropsFor(o: Pick<LabOptions, 'nsProps'>, controller: number, nsid: number): Array<[string, string]> {
  return o.nsProps.filter((p) => p.nsid === nsid && (p.controller === undefined || p.controller === controller)).flatMap((p) => p.props);
}

function validateNsProps(o: LabOptions): void {
  const name = (c: number | undefined, n: number) => (c === undefined ? `namespace ${n}` : `namespace ${n} of controller ${c}`);
  for (const p of o.nsProps) {
    if (p.controller !== undefined && p.controller >= o.controllers) {
      throw usageError(`--ns-props ${p.text}: there is no controller ${p.controller} (the lab has ${o.controllers}, numbered from 0)`, `give c0n${p.nsid}:...${o.controllers > 1 ? ` to c${o.controllers - 1}n${p.nsid}:...` : ''}, or add --controllers`);
    }
    const where = p.controller === undefined ? Array.from({ length: o.controllers }, (_, c) => c) : [p.controller];
    if (!where.some((c) => labNsids(o, c).includes(p.nsid))) {
      const ids = labNsids(o, p.controller ?? 0);
      throw usageError(
        `--ns-props ${p.text}: there is no ${name(p.controller, p.nsid)} (the lab numbers them ${ids.join(', ')}${o.zoned && (p.controller ?? 0) === 0 ? `, ${ids[ids.length - 1]} the zoned one` : ''})`,
        `give a namespace the lab has, or raise --namespaces`,
      );
    }
  }
  for (let c = 0; c < o.controllers; c++) {
    for (const n of labNsids(o, c)) {
      const keys = nsPropsFor(o, c, n).map(([k]) => k);
      const twice = keys.find((k, i) => keys.indexOf(k) !== i);
      if (twice) throw usageError(`--ns-props gives ${twice} twice for namespace ${n} of controller ${c}`, 'give each property of a namespace once');
    }
  }
}

/** Check the whole set; throws a usage error naming the bad option. */
export function validateLabOptions(o: LabOptions): void {
  if (!Number.isInteger(o.controllers) || o.controllers < 1 || o.controllers > MAX_CONTROLLERS) {
    throw usageError(`--controllers ${o.controllers} is out of range`, `give 1 to ${MAX_CONTROLLERS}`);
  }
  if (!Number.isInteger(o.namespaces) || o.namespaces < 1 || o.namespaces > MAX_NAMESPACES) {
    throw usageError(`--namespaces ${o.namespaces} is out of range`, `give 1 to ${MAX_NAMESPACES} (per controller)`);
  }
  if (o.lbaSize !== 512 && o.lbaSize !== 4096) {
    throw usageError(`--lba-size ${o.lbaSize} is not supported`, 'use 512 or 4096');
  }
  const minNs = o.zoned ? 8 * 1024 * 1024 : 1024 * 1024;
  if (o.nsSize < minNs || o.nsSize > 64 * 1024 ** 4) {
    throw usageError(`--ns-size ${o.nsSize} bytes is out of range`, o.zoned ? 'give 8M to 64T with --zoned' : 'give 1M to 64T');
  }
  if (o.nsSize % o.lbaSize !== 0) {
    throw usageError(`--ns-size ${o.nsSize} is not a multiple of the ${o.lbaSize}-byte block size`, 'round it, e.g. 64M');
  }
  if (!Number.isInteger(o.pollQueues) || o.pollQueues < 0 || o.pollQueues > 64) {
    throw usageError(`--poll-queues ${o.pollQueues} is out of range`, 'give 0 to 64');
  }
  if (!Number.isInteger(o.cpus) || o.cpus < 1 || o.cpus > 64) {
    throw usageError(`--cpus ${o.cpus} is out of range`, 'give 1 to 64');
  }
  if (!Number.isInteger(o.memMiB) || o.memMiB < 256 || o.memMiB > 1024 * 1024) {
    throw usageError(`--mem ${o.memMiB} MiB is out of range`, 'give 256M or more, e.g. 2G');
  }
  if (!(o.timeout >= 0)) throw usageError('--timeout must be 0 or more seconds');
  if (!(o.bootTimeout > 0)) throw usageError('--boot-timeout must be more than 0 seconds');
  validateNsProps(o);
}

/** The zone size QEMU gets for --zoned: a power of two, about an eighth of the namespace. */
export function zoneSizeFor(nsSize: number): number {
  let z = 1024 * 1024;
  while (z * 2 <= nsSize / 8 && z < 128 * 1024 * 1024) z *= 2;
  return z;
}
