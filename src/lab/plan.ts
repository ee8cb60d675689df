// Turns LabOptions into the three things a boot needs: QEMU's arguments, the
// job.sh the guest's init follows, and cmd.sh, the command run in the chroot.
// Pure functions of their inputs, so tests can check them without booting.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_FDP_RUHS, nsPropsFor, zoneSizeFor, type LabOptions } from './options.js';
import { LAB_MARKER } from '../system/kernel.js';

/** The package root (has bin/nvmebench.js); this file is dist/src/lab/plan.js. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

export function binPath(): string {
  return path.join(packageRoot(), 'bin', 'nvmebench.js');
}

/** Single-quote for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** QEMU option values escape a comma by doubling it. */
function qv(s: string): string {
  return s.replace(/,/g, ',,');
}

export interface ControllerPlan {
  index: number;
  serial: string;
  /** PCI address in the guest, e.g. 0000:00:10.0. */
  bdf: string;
  slot: number;
  vfio: boolean;
  /** nvmeN in the guest for kernel-driven controllers; -1 for the VFIO one. */
  instance: number;
  /** props: --ns-props for this namespace, appended to its nvme-ns device. */
  namespaces: { nsid: number; zoned: boolean; file: string; props: Array<[string, string]> }[];
}

export interface LabPlan {
  controllers: ControllerPlan[];
  /** Writable 9p shares: tag and host path. */
  shares: { tag: string; path: string }[];
  /** Host paths that a guest tmpfs would hide, shown read-only. */
  binds: string[];
  /**
   * This package's code and node's, where they sit inside a writable share:
   * shown again from the read-only root, whose 9p mount caches, because node
   * loads hundreds of files at start-up and the uncached share makes that
   * several times slower.
   */
  codeBinds: string[];
}

const FIRST_SLOT = 0x10;

/** Paths the guest mounts its own filesystems over. */
const GUEST_OWNED = ['/tmp', '/run', '/proc', '/sys', '/dev'];

export function hiddenInGuest(p: string): boolean {
  return GUEST_OWNED.some((g) => p === g || p.startsWith(g + '/'));
}

function within(child: string, parent: string): boolean {
  return child === parent || parent === '/' || child.startsWith(parent + '/');
}

export function planLab(opts: LabOptions, jobDir: string): LabPlan {
  const controllers: ControllerPlan[] = [];
  let instance = 0;
  for (let i = 0; i < opts.controllers; i++) {
    const vfio = opts.vfio && i === opts.controllers - 1;
    const slot = FIRST_SLOT + i;
    const namespaces = [];
    for (let n = 1; n <= opts.namespaces; n++) namespaces.push({ nsid: n, zoned: false, file: path.join(jobDir, `c${i}n${n}.img`), props: nsPropsFor(opts, i, n) });
    if (opts.zoned && i === 0) {
      const n = opts.namespaces + 1;
      namespaces.push({ nsid: n, zoned: true, file: path.join(jobDir, `c${i}n${n}.img`), props: nsPropsFor(opts, i, n) });
    }
    controllers.push({
      index: i,
      serial: `nvmebench-lab-${i}`,
      bdf: `0000:00:${slot.toString(16).padStart(2, '0')}.0`,
      slot,
      vfio,
      instance: vfio ? -1 : instance++,
      namespaces,
    });
  }

  // Writable shares: the cwd (never /, which would hand the guest the whole
  // host) and any --share dirs, parents first, nested ones dropped.
  // Real paths: the guest's init walks them from outside the chroot, where an
  // absolute symlink on the way would point into the initramfs.
  const wanted = [opts.cwd, ...opts.shares].map((p) => realOr(path.resolve(p))).filter((p) => p !== '/');
  const unique = [...new Set(wanted)].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const p of unique) if (!kept.some((k) => within(p, k))) kept.push(p);
  const shares = kept.map((p, i) => ({ tag: `share${i}`, path: p }));

  // What the guest needs to see from the host that its /tmp or /run would hide.
  const binds: string[] = [];
  const need = [realOr(packageRoot()), path.dirname(path.dirname(realExecPath()))];
  for (const p of need) {
    if (hiddenInGuest(p) && !shares.some((s) => within(p, s.path)) && !binds.some((b) => within(p, b))) binds.push(p);
  }
  const codeBinds: string[] = [];
  const root = realOr(packageRoot());
  const code = [...['bin', 'dist', 'build', 'node_modules'].map((d) => path.join(root, d)), path.dirname(path.dirname(realExecPath()))];
  for (const p of code) {
    if (shares.some((s) => within(p, s.path)) && fs.existsSync(p) && !codeBinds.some((b) => within(p, b))) codeBinds.push(p);
  }
  return { controllers, shares, binds, codeBinds };
}

export function realOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function realExecPath(): string {
  try {
    return fs.realpathSync(process.execPath);
  } catch {
    return process.execPath;
  }
}

export interface KernelBits {
  release: string;
  modulesDir: string;
}

/** /lib/modules as the host resolves it (/usr/lib/modules on merged-/usr systems), or null. */
function hostModulesMount(): string | null {
  try {
    const p = fs.realpathSync('/lib/modules');
    return fs.statSync(p).isDirectory() ? p : null;
  } catch {
    return null;
  }
}

export function jobScript(opts: LabOptions, plan: LabPlan, kernel: KernelBits, mode: 'run' | 'shell', stty: string): string {
  const L: string[] = ['# written by nvmebench lab for one boot; sourced by the guest init'];
  L.push(`LAB_PARAM_nvme=${shq(`poll_queues=${opts.pollQueues}`)}`);
  const kernelCtl = plan.controllers.filter((c) => !c.vfio);
  const vfioCtl = plan.controllers.filter((c) => c.vfio);
  for (const c of vfioCtl) L.push(`lab_override ${c.bdf} vfio-pci`);
  // Hold back all but the first kernel controller so they probe in order.
  for (const c of kernelCtl.slice(1)) L.push(`lab_override ${c.bdf} none`);
  L.push('lab_modules nvme');
  for (const c of kernelCtl) L.push(`lab_nvme ${c.bdf} ${c.instance}`);
  const devs: string[] = [];
  for (const c of kernelCtl) {
    for (const ns of c.namespaces) {
      devs.push(`/dev/ng${c.instance}n${ns.nsid}`);
      devs.push(`/dev/nvme${c.instance}n${ns.nsid}`);
    }
  }
  if (devs.length) L.push(`lab_dev ${devs.join(' ')}`);
  if (vfioCtl.length || opts.iommu) {
    L.push('lab_modules vfio');
    for (const c of vfioCtl) L.push(`lab_vfio ${c.bdf}`);
  }
  L.push('lab_root');
  for (const b of plan.binds) L.push(`lab_bind ${shq(b)}`);
  const mnt = hostModulesMount();
  L.push(`lab_kmods ${shq(realOr(kernel.modulesDir))} ${shq(kernel.release)}${mnt ? ' ' + shq(mnt) : ''}`);
  for (const s of plan.shares) L.push(`lab_share ${s.tag} ${shq(s.path)}`);
  // --ssh-port: virtio-net from the module tree (busybox modprobe), QEMU user networking's fixed address.
  if (opts.sshPort) {
    L.push('modprobe virtio_net || die "could not load virtio_net"');
    L.push('ip link set lo up && ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.2.2 || die "could not bring up eth0"');
  }
  for (const b of plan.codeBinds) L.push(`lab_bind ${shq(b)}`);
  // After boot the console shows only emergencies and alerts (oopses).
  L.push('lab_ready 2');
  L.push(mode === 'shell' ? `lab_shell ${shq(stty)}` : 'lab_run');
  return L.join('\n') + '\n';
}

const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Host variables that mean the same inside the guest. */
const PASS_ENV = /^(NVMEBENCH_.*|NO_COLOR|FORCE_COLOR|LANG|LC_[A-Z]+|TZ|NODE_OPTIONS)$/;

export interface GuestCommand {
  argv?: string[];
  exec?: string;
  shell?: boolean;
}

export function guestEnv(shell: boolean, home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && PASS_ENV.test(k)) env[k] = v;
  Object.assign(env, {
    PATH: GUEST_PATH,
    HOME: home,
    USER: 'root',
    LOGNAME: 'root',
    [LAB_MARKER]: '1',
    TERM: shell ? process.env.TERM || 'vt100' : 'dumb',
  });
  env.LANG ??= 'C.UTF-8';
  // The guest's stdout is a virtio port, not a terminal; tell it what the host has.
  if (!shell && process.stdout.isTTY) {
    env.NVMEBENCH_LAB_TTY = '1';
    if (process.stdout.columns) env.COLUMNS = String(process.stdout.columns);
  }
  if (shell) env.PS1 = '[nvmebench lab] \\w# ';
  return env;
}

export function cmdScript(opts: LabOptions, guest: GuestCommand, home: string): string {
  const env = guestEnv(!!guest.shell, home);
  const L: string[] = ['# the guest command, run by the lab init in the chroot'];
  L.push(
    'export ' +
      Object.entries(env)
        .map(([k, v]) => `${k}=${shq(v)}`)
        .join(' '),
  );
  L.push(`cd ${shq(opts.cwd)} || { echo "nvmebench lab: cannot enter ${opts.cwd.replace(/["$`\\]/g, '')} in the guest" >&2; exit 125; }`);
  if (guest.shell) {
    L.push('if [ -x /bin/bash ]; then exec /bin/bash --norc -i; fi');
    L.push('exec /bin/sh -i');
  } else if (guest.exec !== undefined) {
    L.push(`exec /bin/sh -c ${shq(guest.exec)}`);
  } else {
    const argv = guest.argv ?? [];
    L.push(['exec', shq(realExecPath()), shq(binPath()), ...argv.map(shq)].join(' '));
  }
  return L.join('\n') + '\n';
}

export interface QemuInputs {
  accel: 'tcg' | 'kvm';
  kernelImage: string;
  initrd: string;
  jobDir: string;
  shell: boolean;
  /** --fdp: firmware directories of the QEMU that has FDP (qemu-fdp.ts), searched first. */
  dataDirs?: string[];
}

export function kernelCmdline(opts: LabOptions, q: QemuInputs): string {
  const parts = ['console=ttyS0', 'panic=-1', 'quiet'];
  if (q.shell) parts.push('loglevel=1');
  // Spectre/Meltdown mitigations only cost time in an emulated guest.
  parts.push('mitigations=off');
  // TCG's TSC fails the kernel's sync check, which leaves clock_gettime on the
  // emulated HPET: a trap per call, 2-3x slower node and skewed latencies.
  // QEMU's TSC follows the host's, so it is safe to trust.
  if (q.accel === 'tcg') parts.push('tsc=reliable');
  // On a loaded host, TCG may not deliver enough timer ticks while the kernel
  // checks the IO-APIC timer, and with interrupt remapping (the IOMMU) that
  // check panics ("timer doesn't work through Interrupt-remapped IO-APIC").
  // The timer works; skip the check, as cloud images under emulation do.
  if (q.accel === 'tcg') parts.push('no_timer_check');
  if (opts.vfio || opts.iommu) parts.push('intel_iommu=on', 'iommu=pt');
  parts.push(`nvmebench.job=${q.jobDir}`);
  if (process.env.NVMEBENCH_DEBUG) parts.push('nvmebench.debug');
  if (opts.append.trim()) parts.push(opts.append.trim());
  return parts.join(' ');
}

/** QEMU's argv. fds 3, 4 and 5 are the guest's stdout, stderr and control port. */
export function qemuArgs(opts: LabOptions, plan: LabPlan, q: QemuInputs): string[] {
  const a: string[] = ['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot'];
  const iommu = opts.vfio || opts.iommu;
  a.push('-machine', iommu ? 'q35,kernel-irqchip=split' : 'q35');
  if (q.accel === 'kvm') a.push('-accel', 'kvm', '-cpu', 'host');
  else a.push('-accel', 'tcg,thread=multi', '-cpu', 'max');
  a.push('-smp', String(opts.cpus), '-m', `${opts.memMiB}M`);
  for (const d of q.dataDirs ?? []) a.push('-L', d);
  // The IOMMU must come before the devices it translates for.
  if (iommu) a.push('-device', 'intel-iommu,intremap=on,caching-mode=on');
  a.push('-kernel', q.kernelImage, '-initrd', q.initrd, '-append', kernelCmdline(opts, q));
  a.push('-serial', q.shell ? 'mon:stdio' : 'stdio');
  a.push('-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap');
  for (const s of plan.shares) a.push('-virtfs', `local,path=${qv(s.path)},mount_tag=${s.tag},security_model=none,multidevs=remap`);
  a.push('-device', 'virtio-serial-pci,id=vser');
  ['out', 'err', 'ctl'].forEach((name, i) => {
    a.push('-chardev', `socket,id=${name},fd=${3 + i}`);
    a.push('-device', `virtserialport,bus=vser.0,chardev=${name},name=${name}`);
  });
  // restrict=on: the guest reaches nothing; only the forward from the host's loopback comes in.
  if (opts.sshPort) {
    a.push('-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${opts.sshPort}-:22`);
    a.push('-device', 'virtio-net-pci,netdev=n0');
  }
  const zone = zoneSizeFor(opts.nsSize);
  for (const c of plan.controllers) {
    const fdp = (opts.fdp ?? []).includes(c.index);
    // FDP lives in an endurance group of a subsystem: one subsystem per FDP controller, 1 MiB reclaim units.
    if (fdp) a.push('-device', `nvme-subsys,id=subsys${c.index},nqn=${c.serial},fdp=on,fdp.runs=1M,fdp.nrg=1,fdp.nruh=${LAB_FDP_RUHS}`);
    a.push('-device', `nvme,id=nvme${c.index},serial=${c.serial},addr=0x${c.slot.toString(16)}${fdp ? `,subsys=subsys${c.index}` : ''}`);
    for (const ns of c.namespaces) {
      const id = `c${c.index}n${ns.nsid}`;
      a.push('-drive', `file=${qv(ns.file)},if=none,id=${id},format=raw,file.locking=off`);
      let dev = `nvme-ns,drive=${id},bus=nvme${c.index},nsid=${ns.nsid},logical_block_size=${opts.lbaSize},physical_block_size=${opts.lbaSize}`;
      if (ns.zoned) dev += `,zoned=true,zoned.zone_size=${zone}`;
      if (fdp && !ns.zoned && !ns.props.some(([k]) => k === 'fdp.ruhs')) dev += `,fdp.ruhs=0-${LAB_FDP_RUHS - 1}`;
      for (const [k, v] of ns.props) dev += `,${k}=${qv(v)}`;
      a.push('-device', dev);
    }
  }
  return a;
}

/** One line for humans: what this lab looks like. */
export function describeLab(opts: LabOptions, plan: LabPlan): string {
  const nsCount = plan.controllers.reduce((n, c) => n + c.namespaces.length, 0);
  const ns =
    opts.controllers > 1
      ? `${opts.namespaces} namespace${opts.namespaces > 1 ? 's' : ''} each`
      : `${nsCount} namespace${nsCount > 1 ? 's' : ''}`;
  const parts = [
    `${opts.controllers} controller${opts.controllers > 1 ? 's' : ''}`,
    `${ns} of ${fmtSize(opts.nsSize)} with ${opts.lbaSize}-byte blocks`,
    `${opts.pollQueues} poll queue${opts.pollQueues === 1 ? '' : 's'}`,
  ];
  if (opts.zoned) {
    const c0 = plan.controllers[0];
    parts.push(`zoned nsid ${c0.namespaces[c0.namespaces.length - 1].nsid} (zones of ${fmtSize(zoneSizeFor(opts.nsSize))})`);
  }
  if (opts.fdp?.length) parts.push(`FDP (${LAB_FDP_RUHS} reclaim unit handles) on controller${opts.fdp.length > 1 ? 's' : ''} ${opts.fdp.join(', ')}`);
  const v = plan.controllers.find((c) => c.vfio);
  if (v) parts.push(`${v.serial} on vfio-pci at ${v.bdf}`);
  for (const c of plan.controllers) {
    for (const ns of c.namespaces) if (ns.props.length) parts.push(`c${c.index}n${ns.nsid} ${ns.props.map(([k, val]) => `${k}=${val}`).join(',')}`);
  }
  return parts.join(', ');
}

function fmtSize(n: number): string {
  for (const [u, m] of [
    ['T', 1024 ** 4],
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const) {
    if (n >= m && n % m === 0) return `${n / m}${u}`;
  }
  return `${n}B`;
}
