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

/** The namespaces of one controller as [instance, nsid] pairs, from its sysfs children and, with multipath, its subsystem's. */
export function controllerNamespaceNames(sys: SysReader, controller: string): Array<{ instance: number; nsid: number }> {
  const dirs = [`/sys/class/nvme/${controller}`];
  for (const subsys of sys.list('/sys/class/nvme-subsystem')) {
    if (sys.list(`/sys/class/nvme-subsystem/${subsys}`).includes(controller)) dirs.push(`/sys/class/nvme-subsystem/${subsys}`);
  }
  const found = new Map<string, { instance: number; nsid: number }>();
  for (const dir of dirs) {
    for (const entry of sys.list(dir)) {
      const name = parseNvmeName(entry);
      if (name && name.path === undefined) found.set(`${name.instance}n${name.nsid}`, { instance: name.instance, nsid: name.nsid });
    }
  }
  return [...found.values()].sort((a, b) => a.instance - b.instance || a.nsid - b.nsid);
}
