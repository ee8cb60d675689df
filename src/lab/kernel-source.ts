// Which Debian package --kernel means and where apt finds it: the host's own
// suites first, then the backports suite through the private apt state
// (apt.ts). kernel.ts fetches and unpacks what this resolves.
import { usageError } from '../errors.js';
import {
  describeSpec, ensureScopeLists, hostCodename, HOST_APT, KERNEL_METAPACKAGE, metapackageKernel, packageInfo, packageRelease,
  privateScope, specMatches, type AptScope, type KernelSpec,
} from './apt.js';
import { aptGet, aptHasLists, isRoot, say } from './host.js';

export function manualKernelFix(): string {
  return aptHasLists()
    ? `check the network and apt sources (apt-get download ${KERNEL_METAPACKAGE}'s kernel must work)`
    : 'refresh the package lists (sudo apt-get update), then run nvmebench lab again';
}

/** Where a kernel package comes from, and what it weighs. */
export interface KernelSource {
  pkg: string;
  scope: AptScope;
  version: string;
  size: number;
  /** Unpacked, bytes (Installed-Size). */
  installed: number;
}

function backports(cacheDir: string): AptScope | null {
  const codename = hostCodename();
  return codename ? privateScope(cacheDir, `${codename}-backports`, codename) : null;
}

/** The package --kernel names, from the host's apt or else the backports suite. */
export function resolveKernel(spec: KernelSpec, quiet: boolean, cacheDir: string): KernelSource {
  const tried: string[] = [];
  const source = (pkg: string, scope: AptScope): KernelSource | null => {
    const info = packageInfo(scope, pkg);
    return info ? { pkg, scope, ...info } : null;
  };
  // The host's own suites first: today's default, and no extra lists to fetch.
  let hostPkg = spec.kind === 'package' ? spec.pkg : metapackageKernel(HOST_APT);
  if (spec.kind === 'series' && !hostPkg && isRoot()) {
    say(quiet, 'refreshing the package lists to find the kernel: apt-get update');
    aptGet(['update']);
    hostPkg = metapackageKernel(HOST_APT);
  }
  if (hostPkg && specMatches(spec, packageRelease(hostPkg), hostPkg)) {
    const found = source(hostPkg, HOST_APT);
    if (found) return found;
  }
  if (hostPkg && spec.kind === 'series') tried.push(`the host's apt has ${hostPkg}`);
  const bp = backports(cacheDir);
  if (bp) {
    const lists = ensureScopeLists(bp);
    if (!lists.ok) {
      throw usageError(`cannot read the package lists of ${bp.name} for --kernel ${describeSpec(spec)} (${lists.why || 'apt-get update failed'})`, 'check the network (the lab fetches from the Debian archive in your apt sources)');
    }
    const pkg = spec.kind === 'package' ? spec.pkg : metapackageKernel(bp);
    if (pkg && specMatches(spec, packageRelease(pkg), pkg)) {
      const found = source(pkg, bp);
      if (found) return found;
    }
    if (pkg && spec.kind === 'series') tried.push(`${bp.name} has ${pkg}`);
  }
  if (spec.kind === 'package') {
    throw usageError(`apt knows no package ${spec.pkg} (in the host's sources${bp ? ` or ${bp.name}` : ''})`, 'list them with apt-cache search linux-image, or give --kernel 6.1 or 6.12');
  }
  if (!hostPkg && !bp) throw usageError(`apt does not know ${KERNEL_METAPACKAGE}, the lab's kernel`, aptHasLists() ? "enable Debian's main archive in apt sources" : manualKernelFix());
  throw usageError(`no Debian kernel ${spec.series} to fetch${tried.length ? ` (${tried.join('; ')})` : ''}`, 'give --kernel 6.1 or 6.12, or an exact package name (apt-cache search linux-image)');
}

export function mb(bytes: number): string {
  return bytes > 0 ? `${Math.round(bytes / 1e6)} MB` : 'size unknown';
}
