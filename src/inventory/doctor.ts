// The checks behind `nvmebench doctor`: everything that stops an I/O path from
// working or changes its results, each with the fix. Pure over a SysReader and
// a Discovery, so tests can check the logic on a made-up machine.
//
// A check that stops an engine fails when that engine is one the user asked
// about (--engine; by default the interrupt-driven ones) and warns otherwise.
// Checks that only change results warn.
//
// The checks themselves are in doctor-checks.ts; here they are graded,
// scoped to a target, and rendered.
import type { EngineName } from '../model.js';
import type { Discovery } from './discovery.js';
import { describeFdp } from '../target/fdp.js';
import {
  blockQueueChecks,
  bindingChecks,
  engineList,
  governorChecks,
  explainChecks,
  ioUringChecks,
  kernelChecks,
  namespaceChecks,
  numaChecks,
  pollParamChecks,
  type Draft,
  type DoctorEnv,
  type DoctorOptions,
} from './doctor-checks.js';


export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  /** Stable name for scripts and tests, e.g. poll-queues, kernel.uring-cmd. */
  id: string;
  /** 'system', a controller (nvme0 or a PCI address) or a namespace (nvme0n1). */
  subject: string;
  status: CheckStatus;
  message: string;
  fix?: string;
  /** Engines this problem stops. */
  blocks: EngineName[];
}

/** What doctor checks when --engine is not given: every engine that needs no special setup. */
export const DEFAULT_WANTED: EngineName[] = ['psync', 'aio', 'uring', 'pt', 'ioctl'];

function grade(d: Draft, wanted: EngineName[]): Check {
  const blocks = d.blocks ?? [];
  let status: CheckStatus = 'ok';
  if (blocks.length) status = blocks.some((e) => wanted.includes(e)) ? 'fail' : 'warn';
  else if (d.advice) status = 'warn';
  const check: Check = { id: d.id, subject: d.subject, status, message: d.message, blocks };
  if (d.fix && status !== 'ok') check.fix = d.fix;
  return check;
}

// ---------------------------------------------------------------------------
// Putting it together.

export interface DoctorReport {
  wanted: EngineName[];
  kernel: string;
  checks: Check[];
  counts: Record<CheckStatus, number>;
}

export interface DoctorScope {
  /** Only this namespace (nvme0n1) and its controller. */
  namespace?: string;
  /** Only this controller (nvme0 or its PCI address) and its namespaces. */
  controller?: string;
  /** A target that is not an NVMe namespace (a file, another block device), and its block queue if it has one. */
  other?: { subject: string; blockName?: string; kind: 'file' | 'block'; engines: TargetVerdict[] };
}

/** What the run's own check (engines.ts usableOn) says of one engine on the target. */
export type TargetVerdict = { engine: EngineName; usable: true } | { engine: EngineName; usable: false; reason: string; fix: string };

export function runDoctor(env: DoctorEnv, d: Discovery, opts: DoctorOptions, scope: DoctorScope = {}): DoctorReport {
  const drafts: Draft[] = [...kernelChecks(env), ...ioUringChecks(env), ...governorChecks(env, opts), ...pollParamChecks(d), ...explainChecks(env)];
  const everything = !scope.namespace && !scope.controller && !scope.other;
  for (const ctrl of d.controllers) {
    const subject = ctrl.name ?? ctrl.pciAddress;
    const namespaces = ctrl.namespaces.filter((ns) => everything || scope.controller !== undefined || ns.name === scope.namespace);
    const wholeController = everything || scope.controller === ctrl.name || (!!ctrl.pciAddress && scope.controller === ctrl.pciAddress);
    if (!wholeController && !namespaces.length) continue;
    if (!wholeController && scope.controller !== undefined) continue;
    drafts.push(...bindingChecks(env, ctrl, subject));
    if (ctrl.pciAddress) drafts.push(...numaChecks(env, ctrl, subject, opts));
    for (const ns of namespaces) drafts.push(...namespaceChecks(env, d, ns));
    // FDP: what --fdp would find (shown only where the controller supports it).
    for (const ns of namespaces) if (ns.fdp) drafts.push({ id: 'fdp', subject: ns.name, message: describeFdp(ns.fdp), ...(ns.fdp.enabled === false ? { advice: true, fix: '--fdp needs it enabled: Set Features 1Dh, FDPE 1 (the endurance group\'s namespaces deleted first)' } : {}) });
  }
  if (scope.other) {
    const { subject, engines } = scope.other;
    const what = scope.other.kind === 'file' ? 'a regular file' : 'a block device that is not an NVMe namespace';
    const usable = engines.filter((v) => v.usable).map((v) => v.engine);
    drafts.push({ id: 'target', subject, message: `${what}: engines that can run on it: ${usable.join(', ') || 'none'}` });
    // The run refuses an engine for exactly these reasons, with these fixes.
    for (const v of engines) if (!v.usable) drafts.push({ id: `engine.${v.engine}`, subject, message: v.reason, fix: v.fix, blocks: [v.engine] });
    if (scope.other.blockName) drafts.push(...blockQueueChecks(env.sys, scope.other.blockName, scope.other.subject));
  }
  if (!d.controllers.length && everything) {
    drafts.push({ id: 'nvme', subject: 'system', message: 'no NVMe controllers found', fix: 'try the emulated lab: nvmebench lab -- doctor', advice: true });
  } else if (everything && d.controllers.every((c) => c.name && !c.namespaces.length)) {
    drafts.push({ id: 'nvme', subject: 'system', message: 'the NVMe controllers have no namespaces', fix: 'create and attach one (nvme create-ns, nvme attach-ns)', advice: true });
  }
  const checks = drafts.map((draft) => grade(draft, opts.wanted));
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.status]++;
  return { wanted: opts.wanted, kernel: env.kernelRelease, checks, counts };
}

/** The human view, grouped by subject. */
export function renderDoctor(report: DoctorReport, describe: (subject: string) => string = (s) => s): string {
  const out: string[] = [];
  const subjects = [...new Set(report.checks.map((c) => c.subject))];
  for (const subject of subjects) {
    if (out.length) out.push('');
    out.push(describe(subject));
    for (const c of report.checks.filter((x) => x.subject === subject)) {
      out.push(`  ${c.status.padEnd(4)}  ${c.message}`);
      if (c.fix) out.push(`        fix: ${c.fix}`);
    }
  }
  const { ok, warn, fail } = report.counts;
  out.push('', `${ok} ok, ${warn} warn, ${fail} fail (fail: stops ${engineList(report.wanted)}; choose with --engine)`);
  return out.join('\n') + '\n';
}

