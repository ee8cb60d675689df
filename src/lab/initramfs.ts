// The lab's initramfs: a static busybox, the modules needed to reach the host
// (virtio, 9p, virtio console) and to drive NVMe and VFIO, and an init that is
// a small library of shell functions. Each boot's job.sh (written by the host
// into the run's temp dir, read over 9p) calls those functions in order, so
// the initramfs stays the same from run to run and is built once per kernel.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { runError } from '../errors.js';
import { buildCpio, type CpioEntry } from './cpio.js';
import { TaskProgress } from '../output/progress.js';
import type { HostTools } from './host.js';
import { cacheRoot, moduleLoadOrder, moduleName, parseModulesDep, readBuiltin, type KernelInfo, type ModuleDep } from './kernel.js';

/** Bump when the layout changes in a way the hash of the parts would miss. */
const FORMAT = 'nvmebench-initramfs-3';

/** What the init loads before it can read the job: PCI virtio, 9p and the console ports. */
export const BASE_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'virtio_console'];
export const NVME_MODULES = ['nvme'];
export const VFIO_MODULES = ['vfio_pci', 'vfio_iommu_type1'];

export const INIT_SCRIPT = `#!/bin/sh
# nvmebench lab init: PID 1 in the guest. The host writes job.sh, which calls
# the lab_* functions below in order; this file is the same for every run.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
hostname nvmebench-lab
OUT=; ERR=; CTL=; JOB=

say() { echo "nvmebench-lab: $*"; }
ctl() { if [ -n "$CTL" ]; then echo "$*" > "$CTL"; fi; }
die() {
  say "$*"
  echo "--- dmesg (last lines) ---"
  dmesg | tail -n 25
  ctl "fail $*"
  sync
  poweroff -f
  sleep 10
}
# wait_for SECONDS TEST-ARGS...: poll every 0.1 s until test(1) succeeds.
wait_for() {
  _t=$(($1 * 10)); shift
  while ! test "$@"; do
    _t=$((_t - 1)); [ "$_t" -gt 0 ] || return 1
    sleep 0.1
  done
}
load_list() {
  [ -f "/etc/lab/$1.list" ] || return 0
  while read -r _m; do
    [ -n "$_m" ] || continue
    eval "_p=\\\${LAB_PARAM_$_m:-}"
    insmod "/lib/modules/$_m.ko" $_p || die "could not load the $_m module"
  done < "/etc/lab/$1.list"
}

# ---- functions job.sh calls ----
lab_modules() { load_list "$1"; }
# lab_override BDF DRIVER: what the device may bind to ("none" holds it back).
lab_override() {
  wait_for 10 -e "/sys/bus/pci/devices/$1" || die "PCI device $1 is missing"
  echo "$2" > "/sys/bus/pci/devices/$1/driver_override"
}
# lab_nvme BDF INSTANCE: let nvme bind to BDF and wait until it is nvmeINSTANCE,
# one controller at a time so the names follow the QEMU order.
lab_nvme() {
  if [ "$(cat "/sys/bus/pci/devices/$1/driver_override")" != "(null)" ]; then
    echo > "/sys/bus/pci/devices/$1/driver_override"
    echo "$1" > /sys/bus/pci/drivers_probe
  fi
  wait_for 30 -e "/sys/bus/pci/devices/$1/nvme/nvme$2" || die "NVMe controller $1 did not come up as nvme$2 ($(ls /sys/class/nvme 2>/dev/null | tr '\\n' ' '))"
}
# lab_dev PATH...: wait for device nodes (namespaces are scanned asynchronously).
lab_dev() {
  for _d in "$@"; do
    wait_for 30 -e "$_d" || die "$_d did not appear (have: $(ls /dev | grep -E '^(nvme|ng)' | tr '\\n' ' '))"
  done
}
# lab_vfio BDF: after the vfio modules are loaded, make sure BDF sits on vfio-pci.
lab_vfio() {
  _d=/sys/bus/pci/devices/$1
  if ! wait_for 5 -e "$_d/driver"; then echo "$1" > /sys/bus/pci/drivers_probe; fi
  wait_for 10 -e "$_d/driver" || die "$1 did not bind to vfio-pci"
  _drv=$(basename "$(readlink "$_d/driver")")
  [ "$_drv" = vfio-pci ] || die "$1 is on $_drv, not vfio-pci"
  [ -e "$_d/iommu_group" ] || die "$1 has no IOMMU group (is intel_iommu=on?)"
  _g=$(basename "$(readlink "$_d/iommu_group")")
  wait_for 10 -e "/dev/vfio/$_g" || die "/dev/vfio/$_g did not appear"
}
# lab_root: the host's root (read-only) becomes the guest's root, with the
# guest's own proc, sys, dev and tmpfs for /tmp and /run.
lab_root() {
  mount -o bind /host /newroot || die "could not bind the host root"
  mount -t proc proc /newroot/proc || die "could not mount /proc"
  mount -t sysfs sysfs /newroot/sys
  mount -t devtmpfs devtmpfs /newroot/dev || die "could not mount /dev"
  mkdir -p /newroot/dev/pts /newroot/dev/shm
  mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /newroot/dev/pts
  mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
  mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp || die "could not mount /tmp"
  mount -t tmpfs -o mode=755 tmpfs /newroot/run || die "could not mount /run"
  mkdir -p /newroot/run/nvmebench-lab
}
# lab_bind PATH: show the host's PATH where a guest tmpfs covers it (/tmp, /run).
lab_bind() {
  mkdir -p "/newroot$1" 2>/dev/null
  mount -o bind "/host$1" "/newroot$1" || die "could not show $1 in the guest"
}
# lab_kmods TREE RELEASE [MOUNTPOINT]: the guest kernel's full module tree, for
# on-demand loading (mount -t ext4 ...) by busybox modprobe in the initramfs,
# and, where the host has a /lib/modules to cover, for modprobe in the chroot.
lab_kmods() {
  mkdir -p "/lib/modules/$2"
  mount -o bind "/host$1" "/lib/modules/$2" || die "could not bind the kernel modules"
  echo /bin/modprobe > /proc/sys/kernel/modprobe
  [ -n "$3" ] || return 0
  mount -t tmpfs -o mode=755 tmpfs "/newroot$3" || return 0
  mkdir -p "/newroot$3/$2"
  mount -o bind "/host$1" "/newroot$3/$2"
}
# lab_share TAG PATH: a writable 9p share of the host's PATH.
lab_share() {
  mkdir -p "/newroot$2" 2>/dev/null
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 "$1" "/newroot$2" || die "could not mount the writable share of $2"
}
lab_ready() {
  cp "/host$JOB/cmd.sh" /newroot/run/nvmebench-lab/cmd.sh || die "could not read the command"
  echo "$1" > /proc/sys/kernel/printk
  ctl "ready $(cut -d' ' -f1 /proc/uptime)"
}
lab_finish() {
  sync
  echo 0 > /proc/sys/kernel/printk
  ctl "exit $1"
  poweroff -f
  sleep 10
}
lab_run() {
  env -i /bin/chroot /newroot /bin/sh /run/nvmebench-lab/cmd.sh < /dev/null > "$OUT" 2> "$ERR"
  lab_finish $?
}
# lab_shell [STTY-SETTINGS]: an interactive shell on the serial console.
lab_shell() {
  [ -z "$1" ] || stty -F /dev/ttyS0 $1 2>/dev/null
  setsid cttyhack env -i /bin/chroot /newroot /bin/sh /run/nvmebench-lab/cmd.sh
  lab_finish $?
}

# ---- boot ----
while read -r _m; do
  [ -n "$_m" ] && { insmod "/lib/modules/$_m.ko" || die "could not load the $_m module"; }
done < /etc/lab/base.list
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose host /host || die "could not mount the host's root over 9p"
_n=0
while :; do
  for _p in /sys/class/virtio-ports/*; do
    [ -e "$_p/name" ] || continue
    case "$(cat "$_p/name")" in
      out) OUT=/dev/\${_p##*/} ;;
      err) ERR=/dev/\${_p##*/} ;;
      ctl) CTL=/dev/\${_p##*/} ;;
    esac
  done
  [ -n "$OUT" ] && [ -e "$OUT" ] && [ -n "$ERR" ] && [ -e "$ERR" ] && [ -n "$CTL" ] && [ -e "$CTL" ] && break
  _n=$((_n + 1)); [ $_n -lt 100 ] || die "the virtio console ports did not appear"
  sleep 0.1
done
_debug=
for _w in $(cat /proc/cmdline); do
  case "$_w" in
    nvmebench.job=*) JOB=\${_w#nvmebench.job=} ;;
    nvmebench.debug) _debug=1 ;;
  esac
done
[ -n "$JOB" ] && [ -f "/host$JOB/job.sh" ] || die "no job (nvmebench.job=$JOB) on the host share"
if [ -n "$_debug" ]; then PS4='+ $(cut -d" " -f1 /proc/uptime) '; set -x; fi
. "/host$JOB/job.sh"
die "the job ended without running a command"
`;

export interface ModuleLists {
  base: ModuleDep[];
  nvme: ModuleDep[];
  vfio: ModuleDep[];
}

export function moduleLists(kernel: KernelInfo): ModuleLists {
  const dep = parseModulesDep(fs.readFileSync(path.join(kernel.modulesDir, 'modules.dep'), 'utf8'));
  const builtin = readBuiltin(kernel.modulesDir);
  const base = moduleLoadOrder(dep, builtin, BASE_MODULES);
  const have = new Set(base.map((d) => moduleName(d.file)));
  const nvme = moduleLoadOrder(dep, builtin, NVME_MODULES, have);
  for (const d of nvme) have.add(moduleName(d.file));
  const vfio = moduleLoadOrder(dep, builtin, VFIO_MODULES, have);
  return { base, nvme, vfio };
}

/** Module bytes as insmod takes them: compressed modules are unpacked here. */
function readModule(tools: HostTools, file: string): Buffer {
  const data = fs.readFileSync(file);
  if (file.endsWith('.ko')) return data;
  if (file.endsWith('.gz')) return zlib.gunzipSync(data);
  const tool = file.endsWith('.xz') ? tools.xz : file.endsWith('.zst') ? tools.zstd : null;
  if (!tool) throw runError(`cannot unpack ${path.basename(file)}`, file.endsWith('.xz') ? 'install xz-utils' : 'install zstd');
  const r = spawnSync(tool, ['-dc', file], { maxBuffer: 1 << 28 });
  if (r.status !== 0 || !r.stdout) throw runError(`cannot unpack ${path.basename(file)}`, 'clear the kernel cache and try again');
  return r.stdout;
}

export function initramfsDir(): string {
  return path.join(cacheRoot(), 'initramfs');
}

/** The cached initramfs for this kernel, built when missing or when its inputs changed. */
export function ensureInitramfs(tools: HostTools, kernel: KernelInfo, quiet = true): { path: string; lists: ModuleLists; built: boolean } {
  const lists = moduleLists(kernel);
  const busybox = fs.readFileSync(tools.busybox);
  const listText = (l: ModuleDep[]) => l.map((d) => moduleName(d.file) + '\n').join('');
  const hash = crypto.createHash('sha256');
  for (const part of [FORMAT, INIT_SCRIPT, kernel.release, kernel.pkg, listText(lists.base), listText(lists.nvme), listText(lists.vfio)]) {
    hash.update(part).update('\0');
  }
  hash.update(busybox);
  const key = hash.digest('hex').slice(0, 16);
  const dir = initramfsDir();
  const file = path.join(dir, `${kernel.release}-${key}.cpio`);
  if (fs.existsSync(file)) return { path: file, lists, built: false };

  const entries: CpioEntry[] = [];
  for (const d of ['bin', 'dev', 'proc', 'sys', 'host', 'newroot', 'etc', 'etc/lab', 'lib', 'lib/modules', 'tmp', 'run']) {
    entries.push({ path: d, kind: 'dir' });
  }
  entries.push({ path: 'bin/busybox', kind: 'file', mode: 0o755, data: busybox });
  const applets = spawnSync(tools.busybox, ['--list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((s) => s.trim())
    .filter((s) => /^[a-z0-9_.[-]+$/i.test(s) && s !== 'busybox');
  for (const need of ['sh', 'mount', 'insmod', 'modprobe', 'hostname', 'chroot', 'env', 'setsid', 'cttyhack', 'poweroff', 'sleep', 'cat', 'cut', 'stty']) {
    if (!applets.includes(need)) throw runError(`busybox at ${tools.busybox} lacks the ${need} applet`, 'install busybox-static');
  }
  for (const a of applets) entries.push({ path: `bin/${a}`, kind: 'symlink', data: 'busybox' });
  entries.push({ path: 'init', kind: 'file', mode: 0o755, data: INIT_SCRIPT });
  const all = [...lists.base, ...lists.nvme, ...lists.vfio];
  // Decompressing the modules is the slow part of a build: a bar counts them on a terminal.
  const bar = TaskProgress.forTerminal(quiet, 'initramfs build: modules', all.length, 'items');
  try {
    all.forEach((d, i) => {
      entries.push({ path: `lib/modules/${moduleName(d.file)}.ko`, kind: 'file', mode: 0o644, data: readModule(tools, path.join(kernel.modulesDir, d.file)) });
      bar?.update(i + 1);
    });
  } finally {
    bar?.stop();
  }
  entries.push({ path: 'etc/lab/base.list', kind: 'file', data: listText(lists.base) });
  entries.push({ path: 'etc/lab/nvme.list', kind: 'file', data: listText(lists.nvme) });
  entries.push({ path: 'etc/lab/vfio.list', kind: 'file', data: listText(lists.vfio) });

  fs.mkdirSync(dir, { recursive: true });
  // Old builds for this kernel are stale now.
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith(`${kernel.release}-`) && f.endsWith('.cpio')) fs.rmSync(path.join(dir, f), { force: true });
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, buildCpio(entries));
  fs.renameSync(tmp, file);
  return { path: file, lists, built: true };
}
