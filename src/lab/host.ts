// What the host must provide to boot a lab: QEMU, a static busybox and depmod,
// plus apt/dpkg to fetch the kernel. When something is missing and we are root
// with apt, install it (saying so); otherwise say exactly what to run.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runError, usageError } from '../errors.js';
import type { Accel } from './options.js';

export interface HostTools {
  qemu: string;
  busybox: string;
  depmod: string;
  /** setpriv(1), to have QEMU killed if we die without cleaning up; may be absent. */
  setpriv: string | null;
  /** xz(1), to unpack vmlinux for a faster PVH boot; may be absent. */
  xz: string | null;
  zstd: string | null;
}

export const APT_PACKAGES = ['qemu-system-x86', 'busybox-static', 'kmod'];

const SEARCH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // keep looking
    }
  }
  return null;
}

/** True when the ELF file has no program interpreter (it runs with no shared libraries). */
export function isStaticElf(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(64);
    if (fs.readSync(fd, head, 0, 64, 0) < 64) return false;
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return false; // ELF64 LE
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (ph.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    }
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function findStaticBusybox(): string | null {
  const candidates = [which('busybox'), '/bin/busybox', '/usr/bin/busybox', '/usr/lib/busybox/busybox', '/usr/libexec/busybox-static'];
  for (const c of candidates) {
    if (c && fs.existsSync(c) && isStaticElf(c)) return c;
  }
  return null;
}

function probeTools(): { tools: Partial<HostTools>; missing: string[] } {
  const tools: Partial<HostTools> = {
    qemu: which('qemu-system-x86_64') ?? undefined,
    busybox: findStaticBusybox() ?? undefined,
    depmod: which('depmod') ?? undefined,
    setpriv: which('setpriv'),
    xz: which('xz'),
    zstd: which('zstd'),
  };
  const missing: string[] = [];
  if (!tools.qemu) missing.push('qemu-system-x86');
  if (!tools.busybox) missing.push('busybox-static');
  if (!tools.depmod) missing.push('kmod');
  return { tools, missing };
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function say(quiet: boolean, line: string): void {
  if (!quiet) process.stderr.write(`lab: ${line}\n`);
}

/** True when apt has package lists (a fresh container often has none). */
export function aptHasLists(): boolean {
  try {
    return fs.readdirSync('/var/lib/apt/lists').some((f) => f.endsWith('_Packages') || f.endsWith('_Packages.lz4'));
  } catch {
    return false;
  }
}

/** Run apt-get as root with its output on our stderr (stdout stays the guest's). */
export function aptGet(args: string[]): boolean {
  const r = spawnSync('apt-get', args, {
    stdio: ['ignore', process.stderr, process.stderr],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

export function checkArch(): void {
  if (process.arch !== 'x64') {
    throw usageError(
      `the lab boots an x86-64 Debian kernel and runs this host's node inside it, so it needs an x86-64 host (this one is ${process.arch})`,
      'run the lab on an x86-64 Linux machine',
    );
  }
  if (process.platform !== 'linux') {
    throw usageError('the lab runs on Linux only', 'run it on a Linux machine');
  }
}

/** Find QEMU and friends, installing them with apt when we are root. */
export function ensureHostTools(quiet: boolean): HostTools {
  checkArch();
  let { tools, missing } = probeTools();
  if (missing.length > 0) {
    const cmd = `apt-get install -y --no-install-recommends ${APT_PACKAGES.join(' ')}`;
    if (isRoot() && which('apt-get')) {
      say(quiet, `installing what the lab needs (${missing.join(', ')}): ${cmd}`);
      const args = ['install', '-y', '--no-install-recommends', ...APT_PACKAGES];
      let ok = aptHasLists() && aptGet(args);
      if (!ok) {
        say(quiet, 'refreshing the package lists first: apt-get update');
        ok = aptGet(['update']) && aptGet(args);
      }
      ({ tools, missing } = probeTools());
      if (!ok || missing.length > 0) {
        throw runError(`could not install ${missing.join(', ') || 'the lab packages'}`, `run it by hand and look at apt's message: ${cmd}`);
      }
    } else {
      throw runError(
        `the lab needs ${missing.join(', ')} (QEMU, a static busybox and depmod)`,
        which('apt-get') ? `install them: sudo ${cmd}` : 'install QEMU (qemu-system-x86_64), a statically linked busybox and kmod with your package manager',
      );
    }
  }
  return tools as HostTools;
}

export interface AccelChoice {
  accel: 'tcg' | 'kvm';
  why: string;
}

/**
 * auto picks KVM only where a real KVM module (kvm_intel or kvm_amd) is loaded
 * and /dev/kvm is usable. A /dev/kvm from a nested or paravirtual hypervisor
 * (kvm_pvm, for one) hangs a stock kernel, so auto uses TCG there.
 */
export function chooseAccel(want: Accel): AccelChoice {
  const kvmModule = ['kvm_intel', 'kvm_amd'].find((m) => fs.existsSync(`/sys/module/${m}`));
  let devOk = false;
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    devOk = true;
  } catch {
    devOk = false;
  }
  if (want === 'tcg') return { accel: 'tcg', why: 'asked for' };
  if (want === 'kvm') {
    if (!devOk) {
      throw usageError('--accel kvm needs a usable /dev/kvm', 'use --accel tcg, or add yourself to the kvm group');
    }
    return { accel: 'kvm', why: 'asked for' };
  }
  if (kvmModule && devOk) return { accel: 'kvm', why: kvmModule };
  if (!devOk) return { accel: 'tcg', why: 'no usable /dev/kvm' };
  return { accel: 'tcg', why: '/dev/kvm is not from kvm_intel or kvm_amd' };
}
