// nvmebench devices [--json]: every NVMe controller and namespace, and which
// engines can run on each (and why not).
import type { Command } from 'commander';
import { allNamespaces, discover, realDeps, type Discovery, type DiscoveredController, type DiscoveredNamespace, type EngineVerdict } from '../inventory/discovery.js';
import { drawTable } from '../output/render.js';
import { describeLbaFormat } from '../engines/pi.js';
import { describeFdp } from '../target/fdp.js';

export function formatCapacity(bytes: number): string {
  if (!bytes) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2);
  return `${text} ${units[unit]}`;
}

export function formatLbaFormat(ns: DiscoveredNamespace): string {
  if (!ns.lbaSize) return '?';
  if (!ns.metaSize) return String(ns.lbaSize);
  if (!ns.format) return `${ns.lbaSize}+${ns.metaSize}`;
  // 4096+8 pi1 first mset=0: the data size, the metadata size, PI type and where its tuple sits, the layout
  const f = ns.format;
  const pi = f.piType ? `pi${f.piType} ${f.piFirst ? 'first' : 'last'}` : 'no PI';
  return `${f.dataSize}+${f.metaSize}\n${pi} mset=${f.extended ? 1 : 0}`;
}

function controllerLabel(ctrl: DiscoveredController): string {
  return ctrl.name ?? ctrl.pciAddress;
}

function pollText(ns: DiscoveredNamespace, param: number | undefined): string {
  if (ns.ioPoll === undefined) return param === undefined ? '?' : param > 0 ? 'yes (driver)' : 'no';
  return ns.ioPoll ? 'yes' : 'no';
}

function inUse(ns: DiscoveredNamespace): string {
  const uses = [...ns.mounts, ...ns.holders.map((h) => h.replace(/^\/dev\/\S+ /, ''))];
  if (!uses.length && ns.partitions.length) uses.push(`partitions: ${ns.partitions.join(', ')}`);
  return uses.length ? uses.join('\n') : '-';
}

function usableList(verdicts: EngineVerdict[]): string {
  const names = verdicts.filter((v) => v.usable).map((v) => v.engine);
  return names.length ? names.join(', ') : 'none';
}

/** The human view: a controller table, a namespace table, then why each other engine cannot run. */
export function renderDevices(d: Discovery): string {
  if (!d.controllers.length) {
    return 'No NVMe controllers found (nothing in /sys/class/nvme, and no PCI NVMe device bound to vfio-pci).\nTry the emulated lab: nvmebench lab -- devices\n';
  }
  const out: string[] = [];
  const ctrlRows = d.controllers.map((c) => [
    controllerLabel(c),
    c.pciAddress || c.transport || '-',
    c.numaNode >= 0 ? String(c.numaNode) : '-',
    c.driver || 'none',
    c.model || (c.pciId ? `(PCI ${c.pciId})` : '?'),
    c.serial || '-',
    c.firmware || '-',
    c.name ? String(c.namespaces.length) : '-',
  ]);
  out.push(
    drawTable({
      headers: ['controller', 'PCI', 'NUMA', 'driver', 'model', 'serial', 'firmware', 'namespaces'],
      rows: ctrlRows,
      align: ['left', 'left', 'right', 'left', 'left', 'left', 'left', 'right'],
    }),
  );
  const namespaces = allNamespaces(d);
  if (namespaces.length) {
    out.push(
      '',
      drawTable({
        headers: ['namespace', 'nsid', 'nodes', 'LBA', 'capacity', 'poll', 'in use', 'engines'],
        rows: namespaces.map(({ ns }) => [
          ns.name,
          String(ns.nsid),
          [ns.charPath, ns.blockPath].filter(Boolean).join('\n') || '-',
          formatLbaFormat(ns),
          formatCapacity(ns.capacityBytes),
          pollText(ns, d.pollQueuesParam),
          inUse(ns),
          usableList(ns.engines),
        ]),
        align: ['left', 'right', 'left', 'right', 'right', 'left', 'left', 'left'],
      }),
    );
  }
  const notes: string[] = [];
  if (d.pollQueuesParam !== undefined) notes.push(`nvme driver: poll_queues=${d.pollQueuesParam}`);
  for (const c of d.controllers) {
    if (!c.name) {
      const group = c.iommuGroup ? ` (IOMMU group ${c.iommuGroup}${c.vfioPath ? `, ${c.vfioPath}` : ''})` : '';
      notes.push(`${c.pciAddress} is ${c.driver ? `bound to ${c.driver}` : 'not bound to a driver'}${group}: its namespaces are not visible to the kernel`);
      for (const v of c.engines ?? []) if (v.engine === 'vfio') notes.push(v.usable ? `  vfio: usable` : `  vfio: ${v.reason}${v.fix ? ` (fix: ${v.fix})` : ''}`);
    }
  }
  for (const { ns } of namespaces) {
    const blocked = ns.engines.filter((v) => !v.usable);
    if (!blocked.length) continue;
    notes.push(`${ns.name}: not usable:`);
    for (const v of blocked) notes.push(`  ${v.engine}: ${v.reason}${v.fix ? ` (fix: ${v.fix})` : ''}`);
  }
  for (const { ns } of namespaces) if (ns.formatNote && ns.format) notes.push(`${ns.name} (${describeLbaFormat(ns.format)}): ${ns.formatNote}`);
  for (const { ns } of namespaces) if (ns.fdp) notes.push(`${ns.name}: ${describeFdp(ns.fdp)}`);
  if (namespaces.some((x) => !x.ns.identified)) notes.push('Identify did not answer for some namespaces (root or access to the node is needed); their format comes from sysfs.');
  if (notes.length) out.push('', ...notes);
  return out.join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('devices')
    .description('list NVMe controllers and namespaces: nodes, format, poll queues, use, and which engines can run on each')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const d = discover(await realDeps());
      if (opts.json) {
        process.stdout.write(JSON.stringify(d, null, 2) + '\n');
        if (!d.controllers.length) process.stderr.write('nvmebench: no NVMe controllers found; try the emulated lab: nvmebench lab -- devices --json\n');
        return;
      }
      process.stdout.write(renderDevices(d));
    });
}
