// The QEMU a lab with --fdp boots: FDP emulation (an nvme-subsys with fdp=on)
// came with QEMU 8.0, and Debian 12 ships 7.2. The system's QEMU is used when
// it has FDP; otherwise bookworm-backports' qemu-system-x86 and
// qemu-system-data are fetched once through nvmebench's private apt state
// (apt.ts) and unpacked into the cache, never installed: the system's QEMU
// stays as it is, and the default lab keeps booting it.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runError, usageError } from '../errors.js';
import { downloadArgs, ensureScopeLists, hostCodename, packageInfo, privateScope, refreshScope } from './apt.js';
import { runWithProgress, treeBytes } from './fetch-progress.js';
import { say, which } from './host.js';
import { cacheRoot } from './kernel.js';

export const FDP_QEMU_SUITE = 'bookworm-backports';
const FDP_PACKAGES = ['qemu-system-x86', 'qemu-system-data'];

/** The binary to run, and the firmware directories to search first (-L), for an FDP lab. */
export interface FdpQemu {
  path: string;
  dataDirs: string[];
  /** For the boot line: "system QEMU 10.0.2" or "QEMU 10.0.2 from bookworm-backports (cached)". */
  what: string;
}

/** Whether this QEMU's nvme-subsys has the fdp property. */
export function qemuHasFdp(qemu: string): boolean {
  const r = spawnSync(qemu, ['-device', 'nvme-subsys,help'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 && /^\s*fdp\b/m.test(r.stdout);
}

function qemuVersion(qemu: string): string {
  const r = spawnSync(qemu, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return /version (\S+)/.exec(r.stdout ?? '')?.[1] ?? 'unknown';
}

function qemuDir(): string {
  return path.join(cacheRoot(), 'qemu');
}

/** The shared libraries the cached binary cannot find (ldd's "not found" lines). */
function missingLibraries(bin: string): string[] {
  const r = spawnSync('ldd', [bin], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .filter((l) => /not found/.test(l))
    .map((l) => l.trim().split(/\s+/)[0]);
}

function cached(): FdpQemu | null {
  let dirs: string[] = [];
  try {
    dirs = fs.readdirSync(qemuDir()).filter((d) => !d.startsWith('.')).sort().reverse();
  } catch {
    return null;
  }
  for (const d of dirs) {
    const root = path.join(qemuDir(), d);
    const bin = path.join(root, 'usr/bin/qemu-system-x86_64');
    if (fs.existsSync(path.join(root, '.complete')) && fs.existsSync(bin)) {
      return { path: bin, dataDirs: [path.join(root, 'usr/share/qemu'), '/usr/share/qemu', '/usr/share/seabios'], what: `QEMU ${d} from ${FDP_QEMU_SUITE} (cached in ${root})` };
    }
  }
  return null;
}

const installFix = `install a QEMU of 8.0 or newer, e.g. apt-get install -t ${FDP_QEMU_SUITE} qemu-system-x86 (with ${FDP_QEMU_SUITE} in your apt sources), or point NVMEBENCH_FDP_QEMU at one`;

/**
 * A QEMU with FDP emulation: NVMEBENCH_FDP_QEMU, the system's, one cached
 * before, or bookworm-backports' fetched now (saying so). Throws a usage
 * error saying what to install when none can be had.
 */
export async function ensureFdpQemu(systemQemu: string, quiet: boolean): Promise<FdpQemu> {
  const given = process.env.NVMEBENCH_FDP_QEMU;
  if (given) {
    if (!qemuHasFdp(given)) throw usageError(`NVMEBENCH_FDP_QEMU=${given} has no FDP emulation (its nvme-subsys lists no fdp property)`, installFix);
    return { path: given, dataDirs: [], what: `QEMU ${qemuVersion(given)} from NVMEBENCH_FDP_QEMU` };
  }
  if (qemuHasFdp(systemQemu)) return { path: systemQemu, dataDirs: [], what: `system QEMU ${qemuVersion(systemQemu)}` };
  const have = cached();
  if (have) return have;

  const codename = hostCodename();
  const why = `the system's QEMU ${qemuVersion(systemQemu)} has no FDP emulation (QEMU 8.0 or newer has)`;
  if (codename !== 'bookworm' || !which('apt-get') || !which('dpkg')) throw usageError(why, installFix);
  const scope = privateScope(cacheRoot(), FDP_QEMU_SUITE, codename);
  if (!scope) throw usageError(`${why}, and the host's apt sources have no Debian entry to fetch ${FDP_QEMU_SUITE}'s from`, installFix);
  const lists = ensureScopeLists(scope);
  if (!lists.ok) throw usageError(`${why}, and ${FDP_QEMU_SUITE}'s package lists could not be read (${lists.why})`, installFix);
  const infos = FDP_PACKAGES.map((p) => ({ pkg: p, info: packageInfo(scope, p) }));
  const lacking = infos.find((i) => !i.info);
  if (lacking) throw usageError(`${why}, and ${FDP_QEMU_SUITE} has no ${lacking.pkg}`, installFix);
  const version = (infos[0].info?.version ?? '').replace(/^\d+:/, '').replace(/\+.*$/, '');
  const total = infos.reduce((n, i) => n + (i.info?.size ?? 0), 0);

  fs.mkdirSync(qemuDir(), { recursive: true });
  const work = fs.mkdtempSync(path.join(qemuDir(), '.fetch-'));
  try {
    say(quiet, `${why}: fetching ${FDP_PACKAGES.join(' and ')} ${version} (${Math.round(total / 1e6)} MB) from ${FDP_QEMU_SUITE} once, unpacked into ${qemuDir()}, not installed (the system's QEMU stays as it is)`);
    for (const { pkg } of infos) {
      let r = await runWithProgress('apt-get', downloadArgs(scope, pkg), { cwd: work, quiet, what: `${pkg} download`, total, measure: () => treeBytes(work) });
      if (r.status !== 0) {
        refreshScope(scope);
        r = await runWithProgress('apt-get', downloadArgs(scope, pkg), { cwd: work, quiet, what: `${pkg} download`, total, measure: () => treeBytes(work) });
      }
      if (r.status !== 0) throw usageError(`could not download ${pkg} from ${FDP_QEMU_SUITE} (${(r.stderr || '').trim().split('\n').pop()})`, `check the network, or ${installFix}`);
    }
    const tree = path.join(work, 'tree');
    for (const deb of fs.readdirSync(work).filter((f) => f.endsWith('.deb'))) {
      const x = spawnSync('dpkg', ['-x', path.join(work, deb), tree], { encoding: 'utf8' });
      if (x.status !== 0) throw runError(`dpkg -x ${deb} failed: ${(x.stderr || '').trim()}`, `check free space in ${qemuDir()}`);
    }
    const bin = path.join(tree, 'usr/bin/qemu-system-x86_64');
    const missing = missingLibraries(bin);
    if (missing.length) throw usageError(`${FDP_QEMU_SUITE}'s QEMU ${version} needs libraries this host lacks: ${missing.join(', ')}`, `install them (apt-get install the packages that ship them), or ${installFix}`);
    if (!qemuHasFdp(bin)) throw usageError(`${FDP_QEMU_SUITE}'s QEMU ${version} has no FDP emulation either`, installFix);
    fs.rmSync(path.join(tree, 'usr/share/doc'), { recursive: true, force: true });
    fs.writeFileSync(path.join(tree, '.complete'), `${version}\n`);
    const final = path.join(qemuDir(), version);
    try {
      fs.renameSync(tree, final);
    } catch {
      // Another lab unpacked it first.
    }
    const done = cached();
    if (!done) throw runError('the unpacked QEMU is incomplete', `remove ${qemuDir()} and try again`);
    say(quiet, `QEMU ${version} ready in ${final}`);
    return done;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
