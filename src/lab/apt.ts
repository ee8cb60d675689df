// Where a lab kernel package comes from: the host's own apt (its suites as
// configured), or a suite the host does not list (bookworm-backports for 6.12),
// read through a private apt state under the cache: its own sources.list,
// package lists and download cache, built from the URI and key of the host's
// own Debian entry. The system's apt configuration is never changed.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { usageError } from '../errors.js';

// host.ts's isRoot, inline: host.ts reads options.ts, which reads this file.
const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** What --kernel asks for: a series (6.1, 6.12) or an exact package name. */
export type KernelSpec = { kind: 'series'; series: string } | { kind: 'package'; pkg: string };

export const DEFAULT_KERNEL = '6.1';
export const KERNEL_METAPACKAGE = 'linux-image-amd64';

export function parseKernelSpec(text: string): KernelSpec {
  const t = text.trim();
  if (/^\d+\.\d+$/.test(t)) return { kind: 'series', series: t };
  if (/^linux-image-\d[A-Za-z0-9.+~_-]*$/.test(t)) return { kind: 'package', pkg: t };
  throw usageError(`--kernel ${text}: not a kernel series or a Debian kernel package`, 'give 6.1, 6.12 or a package name such as linux-image-6.12.95+deb12-amd64');
}

export function describeSpec(spec: KernelSpec): string {
  return spec.kind === 'series' ? spec.series : spec.pkg;
}

/** The release a kernel package unpacks to: linux-image-6.12.95+deb12-amd64 → 6.12.95+deb12-amd64. */
export function packageRelease(pkg: string): string {
  return pkg.replace(/^linux-image-/, '');
}

/** Whether a cached kernel (its release and package line) is what the spec asks for. */
export function specMatches(spec: KernelSpec, release: string, pkg: string): boolean {
  if (spec.kind === 'package') return release === packageRelease(spec.pkg) || pkg.split(' ')[0] === spec.pkg;
  return release.startsWith(`${spec.series}.`) || release.startsWith(`${spec.series}-`);
}

/** One apt source of the host: a URI, a suite and where its key is. */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  signedBy?: string;
}

/** The deb entries of one-line (.list) and deb822 (.sources) files. */
export function parseAptSources(text: string, deb822: boolean): AptSource[] {
  const out: AptSource[] = [];
  if (!deb822) {
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
      if (!m) continue;
      const signed = /signed-by=(\S+)/.exec(m[1] ?? '')?.[1];
      out.push({ uri: m[2], suites: [m[3]], components: m[4].split(/\s+/).filter(Boolean), signedBy: signed });
    }
    return out;
  }
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const split = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    const signed = fields.get('signed-by');
    for (const uri of split('uris')) out.push({ uri, suites: split('suites'), components: split('components'), signedBy: signed && !signed.includes('\n') ? signed : undefined });
  }
  return out;
}

function hostSources(): AptSource[] {
  const files: Array<[string, boolean]> = [['/etc/apt/sources.list', false]];
  try {
    for (const f of fs.readdirSync('/etc/apt/sources.list.d').sort()) {
      if (f.endsWith('.list')) files.push([path.join('/etc/apt/sources.list.d', f), false]);
      else if (f.endsWith('.sources')) files.push([path.join('/etc/apt/sources.list.d', f), true]);
    }
  } catch {
    // no sources.list.d
  }
  return files.flatMap(([f, deb822]) => {
    try {
      return parseAptSources(fs.readFileSync(f, 'utf8'), deb822);
    } catch {
      return [];
    }
  });
}

export function hostCodename(): string | null {
  try {
    return /^VERSION_CODENAME=(\S+)$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1]?.replace(/"/g, '') ?? null;
  } catch {
    return null;
  }
}

/** Where the packages come from: the host's apt as configured, or a private state for one suite. */
export interface AptScope {
  /** The suite, for messages: "the host's apt sources" or e.g. bookworm-backports. */
  name: string;
  /** Extra apt-get/apt-cache options ([] for the host's apt). */
  opts: string[];
  /** The private state's directory, or null for the host's apt. */
  dir: string | null;
}

export const HOST_APT: AptScope = { name: "the host's apt sources", opts: [], dir: null };

/**
 * A private apt state for `suite` from the host's own Debian URI (the entry
 * that lists the host's release), under `cacheDir`/apt/<suite>. Null when the
 * host has no such entry to copy.
 */
export function privateScope(cacheDir: string, suite: string, codename: string): AptScope | null {
  const base = hostSources().find((s) => s.suites.includes(codename) && s.components.includes('main'));
  if (!base) return null;
  const dir = path.join(cacheDir, 'apt', suite);
  const list = path.join(dir, 'sources.list');
  const signed = base.signedBy ?? '/usr/share/keyrings/debian-archive-keyring.gpg';
  const line = `deb [signed-by=${signed}] ${base.uri} ${suite} main\n`;
  fs.mkdirSync(path.join(dir, 'lists', 'partial'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'archives', 'partial'), { recursive: true });
  let old = '';
  try {
    old = fs.readFileSync(list, 'utf8');
  } catch {
    // first use
  }
  if (old !== line) fs.writeFileSync(list, line);
  const opts = [
    '-o', `Dir::Etc::SourceList=${list}`,
    '-o', 'Dir::Etc::SourceParts=/nonexistent',
    '-o', `Dir::State::Lists=${path.join(dir, 'lists')}`,
    '-o', `Dir::Cache=${dir}`,
    '-o', `Dir::Cache::Archives=${path.join(dir, 'archives')}`,
    '-o', 'Dir::Cache::pkgcache=', '-o', 'Dir::Cache::srcpkgcache=',
  ];
  // apt drops to _apt for downloads when root; the private dirs are ours, so stay root.
  if (isRoot()) opts.push('-o', 'APT::Sandbox::User=root');
  return { name: suite, opts, dir };
}

/** Whether the private scope has package lists yet. */
function scopeHasLists(scope: AptScope): boolean {
  if (!scope.dir) return true;
  try {
    return fs.readdirSync(path.join(scope.dir, 'lists')).some((f) => f.endsWith('_Packages') || f.endsWith('_Packages.lz4') || f.endsWith('_Packages.xz'));
  } catch {
    return false;
  }
}

/** apt-get update for a private scope (never for the host's apt: that is the system's). */
export function refreshScope(scope: AptScope): { ok: boolean; why: string } {
  if (!scope.dir) return { ok: false, why: 'not a private scope' };
  const r = spawnSync('apt-get', [...scope.opts, '-q', 'update'], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const err = (r.stderr || '').split('\n').filter((l) => /^(E|Err):/.test(l.trim())).pop();
  return { ok: r.status === 0 && !err, why: err?.trim() ?? (r.status === 0 ? '' : `apt-get update exited ${r.status}`) };
}

export function ensureScopeLists(scope: AptScope): { ok: boolean; why: string } {
  return scopeHasLists(scope) ? { ok: true, why: '' } : refreshScope(scope);
}

/** The kernel package linux-image-amd64 depends on in this scope, and its version. */
export function metapackageKernel(scope: AptScope): string | null {
  const r = spawnSync('apt-cache', [...scope.opts, 'depends', KERNEL_METAPACKAGE], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*Depends:\s*(linux-image-\d[^\s]*)/.exec(line);
    if (m) return m[1];
  }
  return null;
}

/** The candidate of `pkg` in this scope: its version, download and unpacked sizes in bytes, or null when apt does not know it. */
export function packageInfo(scope: AptScope, pkg: string): { version: string; size: number; installed: number } | null {
  const r = spawnSync('apt-cache', [...scope.opts, 'show', '--no-all-versions', pkg], { encoding: 'utf8' });
  if (r.status !== 0 || !/^Package:/m.test(r.stdout)) return null;
  return {
    version: /^Version:\s*(\S+)/m.exec(r.stdout)?.[1] ?? '',
    size: Number(/^Size:\s*(\d+)/m.exec(r.stdout)?.[1] ?? 0),
    installed: Number(/^Installed-Size:\s*(\d+)/m.exec(r.stdout)?.[1] ?? 0) * 1024,
  };
}

/** apt-get's arguments to download pkg into the cwd. */
export function downloadArgs(scope: AptScope, pkg: string): string[] {
  const args = [...scope.opts];
  if (!scope.dir && isRoot()) args.push('-o', 'APT::Sandbox::User=root');
  return [...args, '-q', 'download', pkg];
}
