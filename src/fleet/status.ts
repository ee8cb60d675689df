// The hosts of a fleet run that did not deliver: deploy/ansible/ writes
// <run>/fleet-hosts.json (every host the run was meant for) on the controller
// before it starts, and <run>/<host>/fleet-status.json before each stage of a
// host (installing, doctor, running) and when it ends (done, or the reason it
// stopped). merge reads them back so that no host is a silent gap: one never
// reached, one whose doctor failed, one lost mid-run, each is a named line.
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';

export const HOSTS_FILE = 'fleet-hosts.json';
export const STATUS_FILE = 'fleet-status.json';

/** The playbook's bookkeeping, not results: merge's file walk skips these names. */
export function isFleetBookkeeping(file: string): boolean {
  const base = path.basename(file);
  return base === HOSTS_FILE || base === STATUS_FILE;
}

export interface HostStatus {
  host: string;
  stage: string;
  ok: boolean;
  reason: string;
}

export interface HostProblem {
  host: string;
  /** One line: what happened, in words. */
  why: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw usageError(`${file} is not a fleet status file (${(err as Error).message})`, 'remove it, or run the playbook again');
  }
}

/** What a host left in its status file, in words for the summary. */
export function describeStatus(s: HostStatus): string {
  if (s.ok) return 'done';
  if (s.reason) return s.reason;
  // No reason: the host stopped answering during this stage (Ansible reports it unreachable).
  const during: Record<string, string> = { installing: 'while installing', doctor: 'during doctor', running: 'during the run' };
  return `lost ${during[s.stage] ?? `at stage ${s.stage}`}: the host stopped answering (unreachable, powered off or killed)`;
}

/**
 * Every host of the fleet runs under dirs that did not end well: from the status
 * files, and from fleet-hosts.json for hosts that never wrote one (unreachable
 * from the start). hostsWithRecords: a host with records but a failed status
 * (a run cut by its timeout) is still named, with its records kept.
 */
export function fleetProblems(dirs: string[]): { expected: string[]; problems: HostProblem[] } {
  const statuses = new Map<string, HostStatus>();
  const expected = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === HOSTS_FILE) for (const h of ((readJson(p) as { hosts?: unknown }).hosts as string[] | undefined) ?? []) expected.add(String(h));
      else if (e.name === STATUS_FILE) {
        const s = readJson(p) as Partial<HostStatus>;
        const host = String(s.host ?? path.basename(dir));
        statuses.set(host, { host, stage: String(s.stage ?? '?'), ok: s.ok === true, reason: String(s.reason ?? '') });
        expected.add(host);
      }
    }
  };
  for (const dir of dirs) if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) walk(dir);
  const problems: HostProblem[] = [];
  for (const host of [...expected].sort()) {
    const s = statuses.get(host);
    if (!s) problems.push({ host, why: 'unreachable: never reported (no fleet-status.json; see the playbook output for the connection error)' });
    else if (!s.ok) problems.push({ host, why: describeStatus(s) });
  }
  return { expected: [...expected].sort(), problems };
}
