// The guest kernel: Debian's stock linux-image package, fetched with
// `apt-get download` and unpacked with `dpkg -x` into the cache (never
// installed), then depmod'ed so modules.dep gives the load order.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { runError, usageError } from '../errors.js';
import { downloadArgs, refreshScope, specMatches, type KernelSpec } from './apt.js';
import { manualKernelFix, mb, resolveKernel } from './kernel-source.js';
import { aptGet, isRoot, say, which, type HostTools } from './host.js';
import { runWithProgress, treeBytes } from './fetch-progress.js';

export interface KernelInfo {
  /** Kernel release, e.g. 6.1.0-56-amd64. */
  release: string;
  /** The Debian package it came from, e.g. linux-image-6.1.0-56-amd64 6.1.192-2. */
  pkg: string;
  /** Root of the unpacked tree (has boot/ and lib/modules/). */
  dir: string;
  /** The compressed kernel (bzImage). */
  vmlinuz: string;
  /** Uncompressed ELF with a PVH note, which QEMU boots directly (seconds faster under TCG); null if unavailable. */
  vmlinux: string | null;
  /** <dir>/lib/modules/<release>. */
  modulesDir: string;
}

export function cacheRoot(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'nvmebench');
}

export function kernelsDir(): string {
  return path.join(cacheRoot(), 'kernels');
}

function tildify(p: string): string {
  const home = os.homedir();
  return home && home !== '/' && p.startsWith(home + '/') ? '~' + p.slice(home.length) : p;
}

function compareReleases(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function readInfo(dir: string): KernelInfo | null {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(dir, '.complete'), 'utf8')) as KernelInfo;
    // Paths are stored relative so the cache can move (XDG_CACHE_HOME changes).
    const abs: KernelInfo = {
      ...info,
      dir,
      vmlinuz: path.join(dir, info.vmlinuz),
      vmlinux: info.vmlinux ? path.join(dir, info.vmlinux) : null,
      modulesDir: path.join(dir, info.modulesDir),
    };
    if (!fs.existsSync(abs.vmlinuz) || !fs.existsSync(path.join(abs.modulesDir, 'modules.dep'))) return null;
    return abs;
  } catch {
    return null;
  }
}

/** The newest complete kernel in the cache that the spec asks for, if any. */
export function cachedKernel(spec: KernelSpec): KernelInfo | null {
  let names: string[];
  try {
    names = fs.readdirSync(kernelsDir());
  } catch {
    return null;
  }
  const infos = names
    .filter((n) => !n.startsWith('.'))
    .map((n) => readInfo(path.join(kernelsDir(), n)))
    .filter((i): i is KernelInfo => i !== null && specMatches(spec, i.release, i.pkg))
    .sort((a, b) => compareReleases(b.release, a.release));
  return infos[0] ?? null;
}

/** Directories of modules a lab never loads; dropping them saves ~200 MB of cache. */
const PRUNE = [
  'kernel/sound',
  'kernel/drivers/gpu',
  'kernel/drivers/media',
  'kernel/drivers/net/wireless',
  'kernel/drivers/net/ethernet',
  'kernel/drivers/infiniband',
  'kernel/drivers/usb',
  'kernel/drivers/staging',
  'kernel/drivers/iio',
  'kernel/drivers/bluetooth',
  'kernel/drivers/input',
  'kernel/drivers/hid',
  'kernel/net/wireless',
  'kernel/net/mac80211',
  'kernel/net/bluetooth',
];

export interface ModuleDep {
  /** Path relative to lib/modules/<release>. */
  file: string;
  deps: string[];
}

/** Module names are the same with - and _. */
export function moduleName(fileOrName: string): string {
  return path
    .basename(fileOrName)
    .replace(/\.ko(\.(xz|zst|gz))?$/, '')
    .replace(/-/g, '_');
}

export function parseModulesDep(text: string): Map<string, ModuleDep> {
  const map = new Map<string, ModuleDep>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const file = line.slice(0, i).trim();
    const deps = line
      .slice(i + 1)
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    map.set(moduleName(file), { file, deps });
  }
  return map;
}

export function readBuiltin(modulesDir: string): Set<string> {
  try {
    return new Set(
      fs
        .readFileSync(path.join(modulesDir, 'modules.builtin'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(moduleName),
    );
  } catch {
    return new Set();
  }
}

/**
 * Load order for the given modules and everything they need: dependencies
 * first (depth-first, post-order), each module once. Built-in ones are skipped;
 * a module that is neither loadable nor built in is an error.
 */
export function moduleLoadOrder(dep: Map<string, ModuleDep>, builtin: Set<string>, roots: string[], skip = new Set<string>()): ModuleDep[] {
  const out: ModuleDep[] = [];
  const seen = new Set<string>(skip);
  const visit = (name: string, from: string) => {
    const n = moduleName(name);
    if (seen.has(n)) return;
    seen.add(n);
    const d = dep.get(n);
    if (!d) {
      if (builtin.has(n)) return;
      throw runError(`the lab kernel has no module ${n} (needed for ${from})`, 'clear the cache (rm -rf ' + tildify(kernelsDir()) + ') and try again');
    }
    for (const x of d.deps) visit(x, n);
    out.push(d);
  };
  for (const r of roots) visit(r, r);
  return out;
}

function depmod(tools: HostTools, dir: string, release: string): void {
  const r = spawnSync(tools.depmod, ['-b', dir, release], { encoding: 'utf8' });
  if (r.status !== 0) throw runError(`depmod failed on the lab kernel: ${(r.stderr || '').trim().split('\n').pop()}`, 'check that kmod is installed');
}

/** Drop big module trees the lab never needs, and anything that depends on them. */
function pruneModules(tools: HostTools, dir: string, release: string): void {
  const modulesDir = path.join(dir, 'lib/modules', release);
  depmod(tools, dir, release);
  const before = parseModulesDep(fs.readFileSync(path.join(modulesDir, 'modules.dep'), 'utf8'));
  const gone = (file: string) => PRUNE.some((p) => file === p || file.startsWith(p + '/'));
  for (const p of PRUNE) fs.rmSync(path.join(modulesDir, p), { recursive: true, force: true });
  for (const d of before.values()) {
    if (!gone(d.file) && d.deps.some(gone)) fs.rmSync(path.join(modulesDir, d.file), { force: true });
  }
  depmod(tools, dir, release);
}

function findMagic(buf: Buffer, magic: number[], from = 0): number {
  const m = Buffer.from(magic);
  return buf.indexOf(m, from);
}

/** Pull the ELF vmlinux out of a bzImage, for QEMU's PVH boot (skips firmware and decompression). */
function extractVmlinux(tools: HostTools, vmlinuz: string, config: string, out: string): boolean {
  try {
    if (!/^CONFIG_PVH=y$/m.test(fs.readFileSync(config, 'utf8'))) return false;
  } catch {
    return false;
  }
  const img = fs.readFileSync(vmlinuz);
  const tries: { at: number; run: (b: Buffer) => Buffer | null }[] = [];
  const xzAt = findMagic(img, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  if (xzAt >= 0 && tools.xz) {
    const xz = tools.xz;
    tries.push({
      at: xzAt,
      run: (b) => spawnSync(xz, ['-dc', '--single-stream'], { input: b, maxBuffer: 1 << 30 }).stdout ?? null,
    });
  }
  const zstAt = findMagic(img, [0x28, 0xb5, 0x2f, 0xfd]);
  if (zstAt >= 0 && tools.zstd) {
    const zstd = tools.zstd;
    tries.push({ at: zstAt, run: (b) => spawnSync(zstd, ['-dc'], { input: b, maxBuffer: 1 << 30 }).stdout ?? null });
  }
  const gzAt = findMagic(img, [0x1f, 0x8b, 0x08]);
  if (gzAt >= 0) {
    tries.push({
      at: gzAt,
      run: (b) => {
        try {
          return zlib.gunzipSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
        } catch {
          return null;
        }
      },
    });
  }
  for (const t of tries) {
    const elf = t.run(img.subarray(t.at));
    if (elf && elf.length > 1 << 20 && elf.readUInt32BE(0) === 0x7f454c46) {
      fs.writeFileSync(out, elf);
      return true;
    }
  }
  return false;
}

/** Unpack dirs of fetches that were interrupted (their process is gone). */
function sweepStaleFetches(): void {
  for (const n of fs.readdirSync(kernelsDir())) {
    if (!n.startsWith('.fetch-')) continue;
    const dir = path.join(kernelsDir(), n);
    let pid = 0;
    try {
      pid = parseInt(fs.readFileSync(path.join(dir, 'pid'), 'utf8'), 10);
    } catch {
      pid = 0;
    }
    let alive = false;
    if (pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Make sure a kernel is unpacked in the cache; download it the first time (with a progress bar on a terminal). */
export async function ensureKernel(tools: HostTools, quiet: boolean, spec: KernelSpec): Promise<KernelInfo> {
  const cached = cachedKernel(spec);
  if (cached) return cached;

  if (!which('apt-get') || !which('dpkg')) {
    throw runError(
      'the lab needs a Debian kernel package, fetched with apt-get download and unpacked with dpkg -x',
      'run the lab on Debian (or a derivative with apt and dpkg)',
    );
  }
  const src = resolveKernel(spec, quiet, cacheRoot());
  const pkg = src.pkg;

  fs.mkdirSync(kernelsDir(), { recursive: true });
  sweepStaleFetches();
  const work = fs.mkdtempSync(path.join(kernelsDir(), '.fetch-'));
  fs.writeFileSync(path.join(work, 'pid'), `${process.pid}\n`);
  try {
    say(quiet, `fetching ${pkg} ${src.version} (${mb(src.size)}) from ${src.scope.name} once: apt-get download, unpacked into ${tildify(kernelsDir())}, not installed`);
    const download = async (): Promise<{ ok: boolean; why: string }> => {
      const r = await runWithProgress('apt-get', downloadArgs(src.scope, pkg), { cwd: work, quiet, what: 'kernel download', total: src.size, measure: () => treeBytes(work) });
      return { ok: r.status === 0, why: (r.stderr || '').trim().split('\n').filter(Boolean).pop() ?? '' };
    };
    let dl = await download();
    if (!dl.ok && src.scope.dir) {
      // The private lists may be older than the archive: refresh them once.
      refreshScope(src.scope);
      dl = await download();
    } else if (!dl.ok && isRoot()) {
      aptGet(['update']);
      dl = await download();
    }
    const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!dl.ok || !deb) {
      throw usageError(`could not download ${pkg} (${dl.why || 'no .deb came back'})`, src.scope.dir ? 'check the network (the lab fetches from the Debian archive in your apt sources)' : manualKernelFix());
    }
    const version = /_([^_]+)_[^_]+\.deb$/.exec(deb)?.[1] ?? '';
    const tree = path.join(work, 'tree');
    const x = await runWithProgress('dpkg', ['-x', path.join(work, deb), tree], { quiet, what: 'kernel unpack', total: src.installed, measure: () => treeBytes(tree) });
    if (x.status !== 0) throw runError(`dpkg -x ${deb} failed: ${(x.stderr || '').trim()}`, 'check free space in ' + tildify(kernelsDir()));
    fs.rmSync(path.join(work, deb), { force: true });

    // Newer packages ship modules under usr/lib; depmod -b wants lib/modules.
    if (!fs.existsSync(path.join(tree, 'lib/modules')) && fs.existsSync(path.join(tree, 'usr/lib/modules'))) {
      fs.mkdirSync(path.join(tree, 'lib'), { recursive: true });
      fs.renameSync(path.join(tree, 'usr/lib/modules'), path.join(tree, 'lib/modules'));
    }
    const releases = fs.readdirSync(path.join(tree, 'lib/modules'));
    const release = releases.find((r) => fs.existsSync(path.join(tree, 'boot', `vmlinuz-${r}`)));
    if (!release) throw runError(`${pkg} has no boot/vmlinuz matching its modules`, 'report this with the package version');
    fs.rmSync(path.join(tree, 'usr/share'), { recursive: true, force: true });
    pruneModules(tools, tree, release);

    const vmlinuz = `boot/vmlinuz-${release}`;
    const vmlinux = extractVmlinux(tools, path.join(tree, vmlinuz), path.join(tree, `boot/config-${release}`), path.join(tree, 'boot/vmlinux'))
      ? 'boot/vmlinux'
      : null;
    const info = { release, pkg: `${pkg} ${version}`.trim(), vmlinuz, vmlinux, modulesDir: `lib/modules/${release}` };
    fs.writeFileSync(path.join(tree, '.complete'), JSON.stringify(info, null, 2) + '\n');

    const final = path.join(kernelsDir(), release);
    try {
      fs.renameSync(tree, final);
    } catch {
      // Another lab finished first, or a broken leftover sits there: replace a broken one.
      if (!readInfo(final)) {
        fs.rmSync(final, { recursive: true, force: true });
        fs.renameSync(tree, final);
      }
    }
    const done = readInfo(final);
    if (!done) throw runError('the unpacked kernel is incomplete', `remove ${tildify(final)} and try again`);
    say(quiet, `kernel ${release} ready in ${tildify(final)}`);
    return done;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
