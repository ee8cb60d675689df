// nvmebench lab: boot a Linux guest with emulated NVMe controllers under QEMU
// and run nvmebench (or a shell command, or a shell) inside it.
import { Command, Option } from 'commander';
import { usageError } from '../errors.js';
import { defaultLabOptions, runLab, type LabOptions } from '../lab/index.js';
import { parseSize } from '../plan/units.js';
import { DEFAULT_KERNEL, parseKernelSpec } from '../lab/apt.js';
import { parseAccel, parseFdpControllers, parseIntIn, parseLbaSize, parseNsProps, parseSeconds, MAX_CONTROLLERS, MAX_NAMESPACES } from '../lab/options.js';

export interface LabCliOptions {
  controllers?: string;
  namespaces?: string;
  lbaSize?: string;
  nsSize?: string;
  zoned?: boolean;
  pollQueues?: string;
  vfio?: boolean;
  iommu?: boolean;
  accel?: string;
  cpus?: string;
  mem?: string;
  timeout?: string;
  bootTimeout?: string;
  append?: string;
  share?: string[];
  sshPort?: string;
  quiet?: boolean;
  nsProps?: string[];
  kernel?: string;
  fdp?: string | true;
}

/** The options every command that boots a lab shares (lab, demo). */
export function addLabOptions(cmd: Command, which: 'all' | 'machine' | 'compat'): Command {
  if (which === 'all') {
    cmd
      .option('--controllers <n>', `emulated NVMe controllers (1-${MAX_CONTROLLERS})`, '1')
      .option('--namespaces <n>', `namespaces per controller (1-${MAX_NAMESPACES})`, '1')
      .option('--lba-size <bytes>', 'logical block size of the namespaces: 512 or 4096', '512')
      .option('--ns-size <size>', 'size of each namespace (sparse files on the host)', '64M')
      .option('--zoned', 'add a zoned (ZNS) namespace to the first controller, after the others')
      .option('--poll-queues <n>', 'nvme.poll_queues in the guest; 0 tests the "no poll queues" path', '2')
      .option('--vfio', 'bind the last controller to vfio-pci in the guest (adds an IOMMU)')
      .option('--iommu', 'add an IOMMU and load vfio-pci but bind nothing (for runs with --vfio-auto-bind)')
      .option('--fdp [controllers]', 'Flexible Data Placement on every controller, or on those listed (e.g. 0): needs QEMU 8.0 or newer, fetched from bookworm-backports into the cache when the system has an older one')
      .option(
        '--ns-props <N:key=value,...>',
        'QEMU nvme-ns properties for namespace N (its nsid) of every controller, or cCnN: for controller C only, e.g. 2:mssrl=0,mcl=0,msrc=0 (repeatable)',
        (v: string, prev: string[] = []) => [...prev, v],
      );
  }
  // compat takes a list of kernels under the same name.
  if (which !== 'compat') cmd.option('--kernel <version>', 'the Debian kernel to boot: 6.1 (bookworm), 6.12 (bookworm-backports) or a package name', DEFAULT_KERNEL);
  cmd
    .addOption(new Option('--accel <mode>', 'auto, tcg or kvm; auto uses KVM only with kvm_intel/kvm_amd loaded').default('auto'))
    .option('--cpus <n>', 'guest vCPUs', String(defaultLabOptions().cpus))
    .option('--mem <size>', 'guest memory', '2G')
    .option('--timeout <seconds>', 'stop the guest command after this long (0: no limit)', '3600')
    .option('--boot-timeout <seconds>', 'give up when the guest has not booted after this long', '120')
    .option('--ssh-port <port>', "give the guest a network (QEMU user networking, nothing reachable from it) and forward 127.0.0.1:PORT to its port 22, for an sshd the guest command starts (the fleet test's Ansible hosts)")
    .option('--share <dir>', 'also share this host directory writable (repeatable; the cwd always is)', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(new Option('--append <args>', 'extra kernel command line (for debugging the lab)').hideHelp())
    .option('-q, --quiet', 'no "lab:" progress lines on stderr');
  return cmd;
}

export function labOptionsFrom(o: LabCliOptions): LabOptions {
  const d = defaultLabOptions();
  return {
    ...d,
    controllers: o.controllers !== undefined ? parseIntIn(o.controllers, '--controllers', 1, MAX_CONTROLLERS) : d.controllers,
    namespaces: o.namespaces !== undefined ? parseIntIn(o.namespaces, '--namespaces', 1, MAX_NAMESPACES) : d.namespaces,
    lbaSize: o.lbaSize !== undefined ? parseLbaSize(o.lbaSize) : d.lbaSize,
    nsSize: o.nsSize !== undefined ? parseSize(o.nsSize, '--ns-size') : d.nsSize,
    zoned: !!o.zoned,
    pollQueues: o.pollQueues !== undefined ? parseIntIn(o.pollQueues, '--poll-queues', 0, 64) : d.pollQueues,
    vfio: !!o.vfio,
    iommu: !!o.iommu,
    accel: o.accel !== undefined ? parseAccel(o.accel) : d.accel,
    cpus: o.cpus !== undefined ? parseIntIn(o.cpus, '--cpus', 1, 64) : d.cpus,
    memMiB: o.mem !== undefined ? Math.floor(parseSize(o.mem, '--mem') / (1024 * 1024)) : d.memMiB,
    timeout: o.timeout !== undefined ? parseSeconds(o.timeout, '--timeout', true) : d.timeout,
    bootTimeout: o.bootTimeout !== undefined ? parseSeconds(o.bootTimeout, '--boot-timeout', false) : d.bootTimeout,
    append: o.append ?? '',
    shares: o.share ?? [],
    quiet: !!o.quiet,
    nsProps: (o.nsProps ?? []).map(parseNsProps),
    kernel: o.kernel !== undefined ? parseKernelSpec(o.kernel) : d.kernel,
    fdp: parseFdpControllers(o.fdp, o.controllers !== undefined ? parseIntIn(o.controllers, '--controllers', 1, MAX_CONTROLLERS) : d.controllers),
    ...(o.sshPort !== undefined ? { sshPort: parseIntIn(o.sshPort, '--ssh-port', 1024, 65535) } : {}),
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('lab')
    .summary('boot a Linux guest with emulated NVMe (QEMU) and run nvmebench in it')
    .description(
      'Boot a stock Debian kernel under QEMU with emulated NVMe controllers and run nvmebench inside it, ' +
        'so every I/O path (io_uring, passthrough, polling, VFIO) runs for real without NVMe hardware. ' +
        'The guest sees the host read-only and runs in the current directory, shared writable, so relative ' +
        "output paths land here. The exit code is the guest command's. Results are marked emulated.",
    )
    .argument('[command...]', 'nvmebench command line to run in the guest, after -- (default: devices)')
    .option('--exec <cmdline>', 'run a shell command line in the guest instead of nvmebench')
    .option('--shell', 'boot and drop to a shell in the guest, for exploring');
  addLabOptions(cmd, 'all');
  cmd.addHelpText(
    'after',
    `
Put -- before the guest command so its options are not taken as the lab's.
The first run of each --kernel downloads it (apt-get download; 6.12 from
bookworm-backports through a private apt state, the system's apt is left alone)
and builds an initramfs into ~/.cache/nvmebench ($XDG_CACHE_HOME/nvmebench);
later runs start at once.`,
  );
  cmd.action(async (command: string[], o: LabCliOptions & { exec?: string; shell?: boolean }) => {
    const opts = labOptionsFrom(o);
    if (o.shell && (o.exec !== undefined || command.length)) throw usageError('--shell runs a shell; drop the command', 'use either --shell, --exec or a command after --');
    if (o.exec !== undefined && command.length) throw usageError('--exec and a command after -- both given', 'use one of them');
    if (o.exec !== undefined && !o.exec.trim()) throw usageError('--exec needs a command line');
    const guest = o.shell ? { shell: true } : o.exec !== undefined ? { exec: o.exec } : { argv: command.length ? command : ['devices'] };
    return { guestExit: await runLab(opts, guest) };
  });
}
