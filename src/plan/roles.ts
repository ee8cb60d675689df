// Targets by role, so one plan runs on hosts whose device names differ:
// "all-nvme" (every NVMe namespace of the host) or a namespace selector
// { "model": "...", "serial": "...", "nsid": 1, "index": 0 }, resolved against
// what src/inventory/discovery.ts finds on this host.
import os from 'node:os';
import { usageError } from '../errors.js';
import { allNamespaces, discover, kernelDeps, type Discovery } from '../inventory/discovery.js';
import { isObject } from './json-options.js';

export interface NamespaceSelector {
  /** The controller's model; '*' matches any run of characters. */
  model?: string;
  serial?: string;
  nsid?: number;
  /** Of several that match (in name order), this one (0-based). */
  index?: number;
}

export type TargetRole = { kind: 'paths'; paths: string[] } | { kind: 'all-nvme' } | { kind: 'namespaces'; selector: NamespaceSelector };

/** A namespace as a role sees it: the node a run opens, and what selectors match on. */
export interface HostNamespace {
  /** The ng char node where there is one (every engine can run from it), else the block node. */
  path: string;
  name: string;
  model: string;
  serial: string;
  firmware: string;
  nsid: number;
  /** Mounts and holders: why a write must not touch it ('' when none). */
  inUse: string;
}

const SELECTOR_KEYS = ['model', 'serial', 'nsid', 'index'];
const SELECTOR_EXAMPLE = '{ "model": "Samsung SSD 990*", "nsid": 1 }';

/** A selector object from a plan; `at` is its JSON path. */
export function parseSelector(file: string, at: string, doc: unknown): NamespaceSelector {
  if (!isObject(doc)) throw usageError(`${file}: ${at} must be a path or a namespace selector, not ${JSON.stringify(doc)}`, `e.g. "/dev/ng0n1" or ${SELECTOR_EXAMPLE}`);
  const selector: NamespaceSelector = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!SELECTOR_KEYS.includes(key)) throw usageError(`${file}: unknown key "${key}" in ${at}`, `a namespace selector may have: ${SELECTOR_KEYS.join(', ')}`);
    if (key === 'model' || key === 'serial') {
      if (typeof value !== 'string' || !value.trim()) throw usageError(`${file}: ${at}.${key} must be a non-empty string`, `e.g. ${SELECTOR_EXAMPLE}`);
      selector[key] = value.trim();
    } else {
      const min = key === 'nsid' ? 1 : 0;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw usageError(`${file}: ${at}.${key} must be a whole number from ${min}`, `e.g. "${key}": ${min}`);
      selector[key as 'nsid' | 'index'] = value;
    }
  }
  if (selector.model === undefined && selector.serial === undefined && selector.nsid === undefined) {
    throw usageError(`${file}: ${at} selects nothing`, `give model, serial or nsid: ${SELECTOR_EXAMPLE}`);
  }
  return selector;
}

/** An entry's "targets" ("all-nvme", a path, or a list of paths) or "namespaces" (a selector). */
export function parseTargetRole(file: string, at: string, targets: unknown, namespaces: unknown): TargetRole | undefined {
  if (targets !== undefined && namespaces !== undefined) throw usageError(`${file}: ${at} has both "targets" and "namespaces"`, 'keep one: "targets" names paths or "all-nvme", "namespaces" selects by model, serial or nsid');
  if (namespaces !== undefined) return { kind: 'namespaces', selector: parseSelector(file, `${at}.namespaces`, namespaces) };
  if (targets === undefined) return undefined;
  if (targets === 'all-nvme') return { kind: 'all-nvme' };
  const paths = typeof targets === 'string' ? [targets] : targets;
  if (!Array.isArray(paths) || !paths.length || !paths.every((p) => typeof p === 'string' && p.trim() !== '')) {
    throw usageError(`${file}: ${at}.targets must be "all-nvme", a path or a list of paths, not ${JSON.stringify(targets)}`, 'e.g. "targets": ["/dev/ng0n1", "/dev/ng1n1"], or "namespaces": { "model": "..." } to select by model');
  }
  return { kind: 'paths', paths: paths.map((p: string) => p.trim()) };
}

/** Every NVMe namespace of this host that has a node to open. */
export function hostNamespaces(d: Discovery = discover(kernelDeps())): HostNamespace[] {
  return allNamespaces(d).flatMap(({ ctrl, ns }) => {
    const path = ns.charPath ?? ns.blockPath;
    if (!path) return [];
    const inUse = [...ns.mounts.map((m) => `mounted at ${m}`), ...ns.holders.map((h) => `held by ${h}`)].join(', ');
    return [{ path, name: ns.name, model: ctrl.model.trim(), serial: ctrl.serial.trim(), firmware: ctrl.firmware.trim(), nsid: ns.nsid, inUse }];
  });
}

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(text);
}

export function describeSelector(s: NamespaceSelector): string {
  return JSON.stringify(s);
}

export function matchesSelector(s: NamespaceSelector, ns: HostNamespace): boolean {
  return (s.model === undefined || globMatch(s.model, ns.model)) && (s.serial === undefined || globMatch(s.serial, ns.serial)) && (s.nsid === undefined || s.nsid === ns.nsid);
}

/** What this host has, for a message: "nvme0n1 (QEMU NVMe Ctrl, serial a1, nsid 1), …". */
function inventoryWords(found: HostNamespace[]): string {
  return found.length ? found.map((n) => `${n.name} (${n.model || 'no model'}, serial ${n.serial || '?'}, nsid ${n.nsid})`).join(', ') : 'none';
}

/**
 * The paths a role names on this host. A write skips namespaces in use
 * (mounted, held) unless --force-destroy, and says so through `skip`; a role
 * that names nothing is a usage error naming `who` (the entry or job) and the
 * selector, so a fleet run reports it as a line of its own.
 */
export function resolveRole(role: TargetRole, found: HostNamespace[], who: string, opts: { writes: boolean; force: boolean; skip?: (line: string) => void }): string[] {
  if (role.kind === 'paths') return role.paths;
  const what = role.kind === 'all-nvme' ? '"all-nvme"' : `namespaces ${describeSelector(role.selector)}`;
  let hits = role.kind === 'all-nvme' ? found : found.filter((ns) => matchesSelector(role.selector, ns));
  if (role.kind === 'namespaces' && role.selector.index !== undefined) hits = hits.slice(role.selector.index, role.selector.index + 1);
  const usable = hits.filter((ns) => !opts.writes || opts.force || !ns.inUse);
  for (const ns of hits) if (!usable.includes(ns)) opts.skip?.(`${who}: skipping ${ns.path} for ${what}: it is ${ns.inUse} and this entry writes (--force-destroy writes anyway)`);
  if (!usable.length) {
    throw usageError(`${who}: ${what} names no NVMe namespace on ${os.hostname()}${hits.length ? ' that a write may use' : ''}`, `this host has: ${inventoryWords(found)}; change the selector, or name targets on the command line`);
  }
  return usable.map((ns) => ns.path);
}

/** A job's target: a path, or a selector that must name exactly one namespace. */
export function resolveJobTarget(target: string | NamespaceSelector, found: HostNamespace[], who: string): string {
  if (typeof target === 'string') return target;
  const paths = resolveRole({ kind: 'namespaces', selector: target }, found, who, { writes: false, force: true });
  if (paths.length > 1) throw usageError(`${who}: target ${describeSelector(target)} names ${paths.length} namespaces (${paths.join(', ')})`, 'a job runs on one: add "nsid", "serial" or "index" to the selector');
  return paths[0];
}
