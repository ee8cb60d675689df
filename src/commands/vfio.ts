// nvmebench vfio bind|unbind|status: hand an NVMe controller to vfio-pci for
// the vfio engine, and give it back to the kernel afterwards.
//   nvmebench vfio bind 0000:00:04.0      (or /dev/nvme1)
//   nvmebench vfio unbind 0000:00:04.0
//   nvmebench vfio status
import type { Command } from 'commander';
import { bindVfio, unbindVfio, vfioStatus } from '../vfio/binding.js';
import { recordPath } from '../vfio/records.js';
import { bindCommand } from '../system/pci.js';

const log = (line: string) => process.stderr.write(`nvmebench: ${line}\n`);

export function register(program: Command): void {
  const vfio = program
    .command('vfio')
    .description('bind NVMe controllers to vfio-pci for the vfio engine, and give them back');

  vfio
    .command('bind')
    .description('take a controller from its driver and bind it to vfio-pci (refused while a namespace is mounted or held)')
    .argument('<controller>', 'PCI address (0000:00:04.0) or controller node (/dev/nvme1)')
    .option('--force-destroy', 'bind even when a namespace of the controller is mounted or held')
    .action(async (controller: string, opts: { forceDestroy?: boolean }) => {
      const res = await bindVfio(controller, { forceDestroy: Boolean(opts.forceDestroy), log });
      if (res.already) log(`${res.address} is already bound to vfio-pci`);
      process.stdout.write(`${res.address}\n`);
    });

  vfio
    .command('unbind')
    .description('give a controller back to the driver it had before (nvme for an NVMe controller without a record)')
    .argument('<controller>', 'PCI address, e.g. 0000:00:04.0')
    .action(async (controller: string) => {
      const res = await unbindVfio(controller, { log });
      if (res.already) log(`${res.address} is not bound to vfio-pci (it is on ${res.driver ?? 'no driver'}); nothing to do`);
      for (const ns of res.namespaces) process.stdout.write(`/dev/${ns}\n`);
    });

  vfio
    .command('status')
    .description('list the devices bound to vfio-pci and the drivers they were on before')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const entries = vfioStatus();
      if (opts.json) {
        process.stdout.write(JSON.stringify({ record: recordPath(), devices: entries }, null, 2) + '\n');
        return;
      }
      if (!entries.length) {
        process.stdout.write(`no device is bound to vfio-pci (bind one with: ${bindCommand('<pci-address>')})\n`);
        return;
      }
      const rows = entries.map((e) => [
        e.address,
        e.vendorDevice,
        e.driver ?? '-',
        e.originalDriver ?? '-',
        e.recorded ? (e.auto ? 'auto-bind' : 'bind') : 'no record',
        e.iommuGroup !== undefined ? String(e.iommuGroup) : '-',
        e.boundAt ?? '',
      ]);
      const head = ['PCI address', 'vendor:device', 'driver', 'unbind restores', 'bound by', 'IOMMU group', 'since'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n';
      process.stdout.write(line(head));
      for (const r of rows) process.stdout.write(line(r));
      const stale = entries.filter((e) => e.recorded && e.driver !== 'vfio-pci');
      for (const e of stale) log(`${e.address} has a record but is on ${e.driver ?? 'no driver'} now; nvmebench vfio unbind ${e.address} clears it`);
    });
}
