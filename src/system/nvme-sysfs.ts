// The NVMe driver's side of sysfs: its node names and which namespaces a
// controller has. Reads go through a SysReader so tests can fake a machine.
import type { SysReader } from './sysfs.js';

export interface NvmeNodeName {
  /** nvmeXnY is the block node, ngXnY the generic char node. */
  node: 'block' | 'char';
  /** The X of nvmeX: the controller's, or with multipath the subsystem's, instance. */
  instance: number;
  /** The C of nvmeXcCnY, a multipath path's controller; undefined for a namespace head. */
  path?: number;
  nsid: number;
}

/** nvme0n1, ng0n1 and the multipath path nvme0c1n1 → their numbers; undefined for anything else. */
export function parseNvmeName(name: string): NvmeNodeName | undefined {
  const m = /^(nvme|ng)(\d+)(?:c(\d+))?n(\d+)$/.exec(name);
  if (!m) return undefined;
  return { node: m[1] === 'ng' ? 'char' : 'block', instance: Number(m[2]), ...(m[3] !== undefined ? { path: Number(m[3]) } : {}), nsid: Number(m[4]) };
}

/** nvme0: a controller, not a namespace. */
export function isControllerName(name: string): boolean {
  return /^nvme\d+$/.test(name);
}

/**
 * The namespaces of one controller, from its sysfs children and, with
 * multipath, its subsystem's: instance and index name the nodes (nvme0n2 is
 * instance 0, index 2), nsid is the namespace's own id from sysfs. They differ:
 * Linux numbers the nodes in the order it finds the namespaces (6.x scans them
 * in parallel), so nvme0n1 may well be nsid 2. Where the nsid file cannot be
 * read, the index stands in.
 */
export function controllerNamespaceNames(sys: SysReader, controller: string): Array<{ instance: number; index: number; nsid: number }> {
  const dirs = [`/sys/class/nvme/${controller}`];
  for (const subsys of sys.list('/sys/class/nvme-subsystem')) {
    if (sys.list(`/sys/class/nvme-subsystem/${subsys}`).includes(controller)) dirs.push(`/sys/class/nvme-subsystem/${subsys}`);
  }
  const found = new Map<string, { instance: number; index: number; nsid: number }>();
  for (const dir of dirs) {
    for (const entry of sys.list(dir)) {
      const name = parseNvmeName(entry);
      const key = name ? `${name.instance}n${name.nsid}` : '';
      if (!name || name.path !== undefined || found.has(key)) continue; // nvme0n1 and ng0n1 are one namespace
      // The block device carries the nsid attribute (the ng char device does not), wherever the entry came from.
      const block = `nvme${name.instance}n${name.nsid}`;
      const text = sys.read(`${dir}/${block}/nsid`) ?? sys.read(`/sys/class/block/${block}/nsid`) ?? sys.read(`${dir}/${entry}/nsid`);
      const nsid = Number(text ?? NaN);
      found.set(key, { instance: name.instance, index: name.nsid, nsid: Number.isInteger(nsid) && nsid > 0 ? nsid : name.nsid });
    }
  }
  return [...found.values()].sort((a, b) => a.instance - b.instance || a.nsid - b.nsid);
}
