// Plans (nvmebench plan run|validate|show) and jobs side by side (--job, a
// plan entry's "jobs"): the loader and validator name the key that is wrong;
// roles resolve against a host's namespaces; real runs on files put a plan's
// entries into one CSV under one run id, and run jobs together, a row each.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BenchError } from '../src/errors.js';
import { parsePlan, validatePlan } from '../src/plan/plan-file.js';
import { jobPlan, parseJobFlag } from '../src/plan/jobs.js';
import { resolveJobTarget, resolveRole, type HostNamespace } from '../src/plan/roles.js';
import { csvRows, runCli } from './cli.js';

let dir = '';
let fileA = '';
let fileB = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-plans-'));
  fileA = path.join(dir, 'a.dat');
  fileB = path.join(dir, 'b.dat');
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function usage(fn: () => unknown, message: RegExp, fix?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BenchError, String(err));
    assert.equal(err.kind, 'usage');
    assert.match(err.message, message);
    if (fix) assert.match(err.fix, fix);
    return true;
  });
}

const plan = (runs: unknown[], extra: Record<string, unknown> = {}) => parsePlan({ planVersion: 1, runs, ...extra }, 'p.json', [0, 1]);

test('the plan loader names the key that is wrong, with the JSON path, and the fix', () => {
  usage(() => parsePlan({ runs: [] }, 'p.json'), /p\.json: "planVersion" is missing/, /"planVersion": 1/);
  usage(() => parsePlan({ planVersion: 2, runs: [] }, 'p.json'), /"planVersion" is 2; this nvmebench reads plan version 1/);
  usage(() => plan([], { extra: 1 }), /unknown key "extra"/, /planVersion, description, options, runs/);
  usage(() => plan([]), /"runs" must be a non-empty list/);
  usage(() => plan([{ workload: 'randread', targets: 'a' }]), /runs\[0\]\.name is missing/);
  usage(() => plan([{ name: 'a', workload: 'randread' }, { name: 'a', workload: 'read' }]), /runs\[1\]\.name "a" is used twice/);
  usage(() => plan([{ name: 'a', workload: 'randread', target: 'x' }]), /unknown key "target" in runs\[0\]/, /targets, namespaces/);
  usage(() => plan([{ name: 'a', workload: 'randread', options: { qdepth: 4 } }]), /unknown key "qdepth" in runs\[0\]\.options/);
  usage(() => plan([{ name: 'a', workload: 'randread', options: { csv: 'x.csv' } }]), /unknown key "csv"/, /--csv goes on the command line, not in a plan/);
  usage(() => plan([{ name: 'a', workload: 'randread', options: { qd: {} } }]), /p\.json: runs\[0\]\.options\.qd must be a value or a list of values/);
  usage(() => plan([{ name: 'a', workload: 'scan' }]), /runs\[0\]\.workload must be one of randread/);
  usage(() => plan([{ name: 'a', workload: 'randread', targets: 7 }]), /runs\[0\]\.targets must be "all-nvme", a path or a list of paths/);
  usage(() => plan([{ name: 'a', workload: 'randread', namespaces: { vendor: 'x' } }]), /unknown key "vendor" in runs\[0\]\.namespaces/, /model, serial, nsid, index/);
  usage(() => plan([{ name: 'a', workload: 'randread', namespaces: {} }]), /runs\[0\]\.namespaces selects nothing/);
  usage(() => plan([{ name: 'a', workload: 'randread', targets: 'x', namespaces: { nsid: 1 } }]), /has both "targets" and "namespaces"/);
  usage(() => plan([{ name: 'a', jobs: [{ name: 'r', workload: 'randread', runtime: '1s' }] }]), /unknown key "runtime" in runs\[0\]\.jobs\[0\]/, /entry's "options"/);
  usage(() => plan([{ name: 'a', jobs: [{ workload: 'randread' }] }]), /runs\[0\]\.jobs\[0\]\.name is missing/);
  usage(() => plan([{ name: 'a', jobs: [{ name: 'r' }, { name: 'r' }] }]), /two jobs are named "r"/);
  usage(() => plan([{ name: 'a', jobs: [{ name: 'r', qd: 'x', target: { model: 3 } }] }]), /runs\[0\]\.jobs\[0\]\.target\.model must be a non-empty string/);
});

test('every entry and job goes through the command line\'s own checks, named by entry, before anything runs', () => {
  usage(() => validatePlan(plan([{ name: 'ok', workload: 'randread' }, { name: 'bad', workload: 'randread', options: { qd: [0] } }]), {}), /p\.json: runs\[1\] \(bad\): .*--qd/);
  usage(() => validatePlan(plan([{ name: 'a', workload: 'randread', options: { rwmixRead: 30 } }]), {}), /runs\[0\] \(a\): --rwmix-read applies to randrw and rw/);
  usage(() => validatePlan(plan([{ name: 'a', workload: 'randread', jobs: [{ name: 'r', engine: ['uring', 'pt'] }] }]), {}), /job r\).*a job runs one engine, not uring,pt/);
  usage(() => validatePlan(plan([{ name: 'a', jobs: [{ name: 'r' }] }]), {}), /job r\): no workload/);
  // The command line's options count: --qd 0 on top of a good plan is refused too.
  usage(() => validatePlan(plan([{ name: 'a', workload: 'randread' }]), { qd: '0' }), /runs\[0\] \(a\): --qd/);
  // CPU lists are checked for their form only (the host that runs it may have more CPUs).
  validatePlan(plan([{ name: 'a', workload: 'randread', options: { cpus: [200] } }]), {});
  usage(() => validatePlan(plan([{ name: 'a', workload: 'randread', options: { cpus: 'x-y' } }]), {}), /cpus|CPU/);
});

test('a profile is a plan of one entry', () => {
  const p = parsePlan({ description: 'a profile', workload: 'randread', options: { qd: [1, 8] } }, '/x/prof.json', [0]);
  assert.equal(p.entries.length, 1);
  assert.equal(p.entries[0].name, 'prof');
  assert.equal(p.entries[0].options.qd, '1,8');
  assert.ok(p.profile);
});

test('--job flags: key=value pairs, unknown keys and bad values named, one engine, QD and bs per job', () => {
  const j = parseJobFlag('name=reader,workload=randread,engine=pt-poll,qd=1,bs=4k,target=/dev/ng0n1,rwmix-read=70,fixedbufs=false', 0);
  assert.equal(j.name, 'reader');
  assert.equal(j.workload, 'randread');
  assert.equal(j.target, '/dev/ng0n1');
  assert.deepEqual(j.options, { engine: 'pt-poll', qd: '1', bs: '4k', rwmixRead: '70', fixedbufs: false });
  assert.equal(parseJobFlag('qd=2', 1).name, 'job2');
  usage(() => parseJobFlag('name=r,runtime=2', 0), /job r: unknown key "runtime"/, /go outside --job/);
  usage(() => parseJobFlag('name=r,qd', 0), /"qd" is not key=value/);
  usage(() => parseJobFlag('name=r,qd=1,qd=2', 0), /"qd" is given twice/);
  usage(() => parseJobFlag('name=r r', 0), /job name "r r" is not a name/);
  usage(() => parseJobFlag('workload=scan', 0), /workload "scan" is not one of/);
  usage(() => parseJobFlag('sqpoll=yes', 0), /sqpoll=yes is not true or false/);
  usage(() => jobPlan(parseJobFlag('name=r,workload=randread,qd=1', 0), {}, undefined), /job r: no target/, /target=/);
  usage(() => jobPlan(parseJobFlag('name=r,workload=randread', 0), { qd: '1,8' }, '/dev/null'), /job r: a job runs one queue depth, not 1,8/);
  usage(() => jobPlan(parseJobFlag('name=r,workload=randread,bs=1000', 0), {}, '/dev/null'), /job r: block size 1000/);
});

const HOST: HostNamespace[] = [
  { path: '/dev/ng0n1', name: 'nvme0n1', model: 'QEMU NVMe Ctrl', serial: 'a1', firmware: '1.0', nsid: 1, inUse: '' },
  { path: '/dev/ng0n2', name: 'nvme0n2', model: 'QEMU NVMe Ctrl', serial: 'a1', firmware: '1.0', nsid: 2, inUse: 'mounted at /' },
  { path: '/dev/ng1n1', name: 'nvme1n1', model: 'Other SSD 990', serial: 'b2', firmware: '2.0', nsid: 1, inUse: '' },
];

test('roles: all-nvme, selectors by model (with *), serial, nsid and index; a write skips a namespace in use; nothing named is an error naming the entry and the selector', () => {
  const opts = { writes: false, force: false };
  assert.deepEqual(resolveRole({ kind: 'all-nvme' }, HOST, 'e', opts), ['/dev/ng0n1', '/dev/ng0n2', '/dev/ng1n1']);
  assert.deepEqual(resolveRole({ kind: 'namespaces', selector: { model: 'QEMU*' } }, HOST, 'e', opts), ['/dev/ng0n1', '/dev/ng0n2']);
  assert.deepEqual(resolveRole({ kind: 'namespaces', selector: { model: 'QEMU*', index: 1 } }, HOST, 'e', opts), ['/dev/ng0n2']);
  assert.deepEqual(resolveRole({ kind: 'namespaces', selector: { nsid: 1 } }, HOST, 'e', opts), ['/dev/ng0n1', '/dev/ng1n1']);
  assert.deepEqual(resolveRole({ kind: 'namespaces', selector: { serial: 'b2' } }, HOST, 'e', opts), ['/dev/ng1n1']);
  const skipped: string[] = [];
  assert.deepEqual(resolveRole({ kind: 'all-nvme' }, HOST, 'p.json: runs[0] (w)', { writes: true, force: false, skip: (l) => skipped.push(l) }), ['/dev/ng0n1', '/dev/ng1n1']);
  assert.match(skipped.join('\n'), /runs\[0\] \(w\): skipping \/dev\/ng0n2 .*mounted at \//);
  assert.deepEqual(resolveRole({ kind: 'all-nvme' }, HOST, 'w', { writes: true, force: true }), ['/dev/ng0n1', '/dev/ng0n2', '/dev/ng1n1']);
  usage(() => resolveRole({ kind: 'namespaces', selector: { model: 'Samsung*' } }, HOST, 'p.json: runs[2] (fw)', opts), /p\.json: runs\[2\] \(fw\): namespaces \{"model":"Samsung\*"\} names no NVMe namespace on /, /nvme0n1 \(QEMU NVMe Ctrl, serial a1, nsid 1\)/);
  usage(() => resolveRole({ kind: 'all-nvme' }, [], 'e', opts), /e: "all-nvme" names no NVMe namespace/, /this host has: none/);
  usage(() => resolveRole({ kind: 'namespaces', selector: { nsid: 2 } }, HOST, 'e', { writes: true, force: false }), /names no NVMe namespace on .* that a write may use/);
  assert.equal(resolveJobTarget({ model: 'Other*' }, HOST, 'job w'), '/dev/ng1n1');
  usage(() => resolveJobTarget({ nsid: 1 }, HOST, 'job w'), /job w: target \{"nsid":1\} names 2 namespaces/, /"index"/);
});

const num = (row: Record<string, string>, k: string) => Number(row[k]);

test('a plan of three entries on files runs into one CSV under one run id, each row tagged with its entry; plan show and validate', () => {
  const planFile = path.join(dir, 'plan.json');
  fs.writeFileSync(
    planFile,
    JSON.stringify({
      planVersion: 1,
      options: { ios: 2000, buffered: true },
      runs: [
        { name: 'lay-out', workload: 'write', targets: [fileA, fileB], options: { engine: 'psync', bs: '128k', size: '8m', verify: true, verifySeed: 5, ios: 64 } },
        { name: 'sweep', workload: 'randread', targets: fileA, options: { engine: ['psync', 'uring'], qd: [1, 4], verify: true, verifySeed: 5 } },
        { name: 'side-by-side', options: { verify: true }, jobs: [
          { name: 'reader', workload: 'randread', engine: 'uring', qd: 2, target: fileA, size: '4m' },
          { name: 'writer', workload: 'randwrite', engine: 'psync', target: fileA, offset: '4m', size: '4m' },
        ] },
      ],
    }),
  );
  const valid = runCli(['plan', 'validate', planFile]);
  assert.equal(valid.code, 0, valid.stderr);
  assert.match(valid.stdout, /a valid plan of 3 entries \(lay-out, sweep, side-by-side\)/);
  const csv = path.join(dir, 'plan.csv');
  const run = runCli(['plan', 'run', planFile, '--quiet', '--csv', csv]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /plan entry lay-out[\s\S]*plan entry sweep[\s\S]*plan entry side-by-side: 2 jobs side by side/);
  const rows = csvRows(fs.readFileSync(csv, 'utf8'));
  assert.equal(new Set(rows.map((r) => r.run_id)).size, 1, 'one run id for the whole plan');
  assert.equal(rows[0].schema_version, '3');
  assert.deepEqual(rows.map((r) => r.plan_entry), ['lay-out', 'lay-out', 'lay-out', 'sweep', 'sweep', 'sweep', 'side-by-side', 'side-by-side']);
  assert.deepEqual(rows.map((r) => r.job), ['', '', '', '', '', '', 'reader', 'writer']);
  for (const r of rows) assert.equal(r.status, 'ok', `${r.plan_entry} ${r.job} ${r.error_message}`);
  const sweep = rows.filter((r) => r.plan_entry === 'sweep');
  assert.deepEqual(sweep.map((r) => `${r.engine}/${r.qd}`), ['psync/1', 'uring/1', 'uring/4']);
  assert.ok(sweep.every((r) => num(r, 'verified_blocks') >= 2000), 'the sweep read back what lay-out stamped');
  const [reader, writer] = rows.filter((r) => r.plan_entry === 'side-by-side');
  assert.equal(reader.workload, 'randread');
  assert.equal(writer.workload, 'randwrite');
  assert.equal(reader.offset, '0');
  assert.equal(writer.offset, String(4 << 20));
  assert.ok(num(reader, 'verified_blocks') >= 2000, 'the reader checked every block it read');
  assert.ok(num(writer, 'verified_blocks') > 0, 'the writer read back what it wrote');
  assert.equal(rows.filter((r) => r.aggregate === 'true').length, 1, 'an aggregate for lay-out\'s two targets, none across jobs');
  const show = runCli(['plan', 'show', planFile, '--runtime', '3']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /sweep:\n  nvmebench randread --ios 2000 --buffered --engine psync,uring --qd 1,4 --verify --verify-seed 5 --runtime 3 .*a\.dat/);
  assert.match(show.stdout, /job writer: randwrite --engine psync --size 4m --offset 4m .*a\.dat/);
});

test('bad plans exit 2 with one line naming the key, before anything runs', () => {
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({ planVersion: 1, runs: [{ name: 'first', workload: 'write', targets: path.join(dir, 'never.dat'), options: { size: '1m' } }, { name: 'second', workload: 'randread', targets: fileA, options: { qd: ['many'] } }] }));
  for (const cmd of ['run', 'validate', 'show']) {
    const r = runCli(['plan', cmd, bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bad\.json: runs\[1\] \(second\): .*--qd/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.ok(!fs.existsSync(path.join(dir, 'never.dat')), 'the first entry did not run');
  const noTarget = path.join(dir, 'none.json');
  fs.writeFileSync(noTarget, JSON.stringify({ planVersion: 1, runs: [{ name: 'fw', workload: 'randread', namespaces: { model: 'No Such Model*' } }] }));
  const r = runCli(['plan', 'run', noTarget]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /none\.json: runs\[0\] \(fw\): namespaces \{"model":"No Such Model\*"\} names no NVMe namespace on /);
  // Targets on the command line take the place of the entry's role.
  const over = runCli(['plan', 'show', noTarget, fileA]);
  assert.equal(over.code, 0, over.stderr);
  assert.match(over.stdout, /nvmebench randread .*a\.dat/);
  const json = runCli(['plan', 'run', path.join(dir, 'missing.json')]);
  assert.equal(json.code, 2);
  assert.match(json.stderr, /cannot read plan .*missing\.json: ENOENT/);
});

test('--job: a reader and a writer side by side on one file (regions apart) and on two files, --verify; a row each, no aggregate', () => {
  const lay = runCli(['write', '--engine', 'psync', '--bs', '128k', '--size', '8m', '--ios', '64', '--verify', '--verify-seed', '3', '--quiet', '--buffered', fileB]);
  assert.equal(lay.code, 0, lay.stderr);
  const same = runCli(['randread', '--verify', '--ios', '3000', '--buffered', '--quiet', '--format', 'csv', '--job', 'name=reader,engine=uring,qd=4,size=4m', '--job', 'name=writer,workload=randwrite,engine=psync,offset=4m,size=4m', fileB]);
  assert.equal(same.code, 0, same.stderr);
  const rows = csvRows(same.stdout);
  assert.deepEqual(rows.map((r) => `${r.job}:${r.workload}:${r.engine}:${r.qd}:${r.offset}:${r.size}`), ['reader:randread:uring:4:0:4194304', 'writer:randwrite:psync:1:4194304:4194304']);
  assert.equal(rows[0].run_id, rows[1].run_id);
  for (const r of rows) {
    assert.equal(r.status, 'ok', r.error_message);
    assert.equal(r.aggregate, 'false');
    assert.ok(num(r, 'ios') >= 3000, 'each job ran its own --ios');
    assert.ok(num(r, 'verified_blocks') > 0);
  }
  const two = runCli(['randread', '--verify', '--ios', '2000', '--buffered', '--quiet', '--format', 'csv', '--job', `name=r,engine=uring,qd=2,target=${fileB}`, '--job', `name=w,workload=write,engine=psync,bs=64k,size=4m,target=${fileA}`]);
  assert.equal(two.code, 0, two.stderr);
  const rows2 = csvRows(two.stdout);
  assert.deepEqual(rows2.map((r) => `${r.job}:${r.target}:${r.bs}`), [`r:${fileB}:4096`, `w:${fileA}:65536`]);
  for (const r of rows2) assert.equal(r.status, 'ok', r.error_message);
});

test('--job bad input: overlapping regions with a writer and --verify name both jobs; a job with no target; unknown keys; duplicate names', () => {
  const overlap = runCli(['randread', '--verify', '--ios', '100', '--buffered', '--quiet', '--job', 'name=reader,size=6m', '--job', 'name=writer,workload=randwrite,offset=4m,size=4m', fileB]);
  assert.equal(overlap.code, 2, overlap.stderr);
  assert.match(overlap.stderr, /jobs reader and writer overlap on .*b\.dat \(bytes 0-6291456 and bytes 4194304-8388608\) and writer writes/);
  assert.match(overlap.stderr, /give the jobs regions apart .*or drop --verify/);
  // Without --verify the same overlap runs (a mixed workload is the user's to ask for).
  const ok = runCli(['randread', '--ios', '100', '--buffered', '--quiet', '--format', 'csv', '--job', 'name=reader,size=6m', '--job', 'name=writer,workload=randwrite,offset=4m,size=4m', fileB]);
  assert.equal(ok.code, 0, ok.stderr);
  const noTarget = runCli(['randread', '--job', 'name=r,qd=1']);
  assert.equal(noTarget.code, 2);
  assert.match(noTarget.stderr, /job r: no target/);
  const twoTargets = runCli(['randread', '--job', 'name=r,qd=1', fileA, fileB]);
  assert.equal(twoTargets.code, 2);
  assert.match(twoTargets.stderr, /job r: no target, and 2 are named/);
  const unknown = runCli(['randread', '--job', 'name=r,depth=1', fileB]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /job r: unknown key "depth"/);
  const dup = runCli(['randread', '--job', 'name=r', '--job', 'name=r', fileB]);
  assert.equal(dup.code, 2);
  assert.match(dup.stderr, /two jobs are named "r"/);
  for (const r of [overlap, noTarget, twoTargets, unknown, dup]) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
