// Profile validation, merging and the profile command, without NVMe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BenchError } from '../src/errors.js';
import { builtinProfileNames, firstPresentCpu, loadProfileFile, mergeOptions, parseProfile, profileCommandLine, resolveProfile } from '../src/plan/profiles.js';
import { renderReference } from '../src/commands/profile.js';
import { runCli } from './cli.js';
import { makeRecord, tmpDir } from './fixtures.js';

const GOOD = {
  description: 'a test profile',
  workload: 'randread',
  options: { engine: ['uring', 'pt'], qd: [8, 64], bs: 512, cpus: { firstOf: [1, 0] }, runtime: '2s', regfiles: true },
};

function parse(doc: unknown, online = [0, 1, 2, 3]) {
  return parseProfile(doc, 'test', '/tmp/test.json', online);
}

function rejects(doc: unknown, message: RegExp, fix?: RegExp): void {
  assert.throws(
    () => parse(doc),
    (err: unknown) => {
      assert.ok(err instanceof BenchError, String(err));
      assert.equal(err.kind, 'usage');
      assert.match(err.message, message);
      assert.match(err.message, /^profile test \(\/tmp\/test\.json\)/, 'the error names the profile and its file');
      if (fix) assert.match(err.fix, fix);
      return true;
    },
  );
}

test('a valid profile becomes the options the command line would give', () => {
  const p = parse(GOOD);
  assert.equal(p.workload, 'randread');
  assert.deepEqual(p.options, { engine: 'uring,pt', qd: '8,64', bs: '512', cpus: '1', runtime: '2s', regfiles: true });
  assert.equal(profileCommandLine(p), 'randread --engine uring,pt --qd 8,64 --bs 512 --cpus 1 --runtime 2s --regfiles');
});

test('cpus firstOf picks the first CPU this machine has', () => {
  assert.equal(firstPresentCpu([1, 0], [0]), 0);
  assert.equal(firstPresentCpu([1, 0], [0, 1]), 1);
  assert.equal(parse(GOOD, [0]).options.cpus, '0');
  assert.throws(() => parse({ ...GOOD, options: { cpus: { firstOf: [7] } } }, [0, 1]), /none of the CPUs 7/);
});

test('unknown keys are refused, with the keys that are allowed', () => {
  rejects({ ...GOOD, colour: 'blue' }, /unknown key "colour"/, /description, workload, options, reference, notes/);
  rejects({ ...GOOD, options: { ...GOOD.options, depth: 8 } }, /unknown key "depth" in options/, /qd/);
  rejects({ ...GOOD, options: { ...GOOD.options, forceDestroy: true } }, /unknown key "forceDestroy"/, /--force-destroy goes on the command line/);
  rejects({ ...GOOD, reference: { source: 's', unit: 'KIOPS', values: { 8: { uring: 1 } }, extra: 1 } }, /unknown key "extra" in reference/);
});

test('bad values are refused with the key and an example', () => {
  rejects({ ...GOOD, workload: 'random' }, /"workload" must be one of randread/);
  rejects({ ...GOOD, description: '' }, /"description" is missing/);
  rejects({ ...GOOD, options: { ...GOOD.options, regfiles: 'yes' } }, /options\.regfiles must be true or false/);
  rejects({ ...GOOD, options: { ...GOOD.options, threads: 1.5 } }, /options\.threads must be a whole number/);
  rejects({ ...GOOD, options: { ...GOOD.options, qd: [] } }, /options\.qd must be a non-empty list/);
  rejects({ ...GOOD, options: { ...GOOD.options, qd: ['x'] } }, /--qd 'x' is not a whole number/);
  rejects({ ...GOOD, options: { ...GOOD.options, engine: 'turbo' } }, /unknown engine 'turbo'/);
  rejects({ ...GOOD, options: { ...GOOD.options, bs: 1000 } }, /block size 1000 is not a multiple of 512/);
  rejects({ ...GOOD, options: { ...GOOD.options, cpus: { oneOf: [1] } } }, /options\.cpus must be a CPU list/);
  rejects({ ...GOOD, options: 'fast' }, /"options" must be an object/);
  rejects([1, 2], /one JSON object/);
  rejects({ ...GOOD, reference: { source: 's', unit: 'MB/s', values: {} } }, /reference\.unit must be "KIOPS"/);
  rejects({ ...GOOD, reference: { source: 's', unit: 'KIOPS', values: { eight: { uring: 1 } } } }, /"eight" is not a queue depth/);
  rejects({ ...GOOD, reference: { source: 's', unit: 'KIOPS', values: { 8: { turbo: 1 } } } }, /unknown engine "turbo"/);
  rejects({ ...GOOD, reference: { source: 's', unit: 'KIOPS', values: { 8: { uring: '538' } } } }, /must be a number of KIOPS/);
});

test('files: broken JSON and missing files are usage errors', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'broken.json');
  fs.writeFileSync(file, '{ "description": ');
  assert.throws(() => loadProfileFile(file), /profile broken .* is not valid JSON/);
  assert.throws(() => loadProfileFile(path.join(dir, 'none.json')), /cannot read profile/);
  assert.throws(() => resolveProfile('no-such-profile'), (e: unknown) => e instanceof BenchError && /seed001-kiops/.test(e.fix));
});

test('the built-in profiles load and carry the seeds\' numbers', () => {
  assert.deepEqual(builtinProfileNames(), ['seed001-kiops', 'seed003-explain', 'seed003-ng-vs-block']);
  const s1 = resolveProfile('seed001-kiops');
  assert.equal(s1.options.engine, 'uring,pt,uring-poll,pt-poll');
  assert.equal(s1.options.qd, '8,64,256');
  assert.equal(s1.options.bs, '512');
  assert.deepEqual(s1.reference!.values['8'], { uring: 538, pt: 589, 'uring-poll': 831, 'pt-poll': 902 });
  assert.deepEqual(s1.reference!.values['256'], { uring: 1043, pt: 1230, 'uring-poll': 1376, 'pt-poll': 1429 });
  const s3 = resolveProfile('seed003-ng-vs-block');
  assert.equal(s3.options.qd, '128');
  assert.equal(s3.options.batchSubmit, '32');
  assert.equal(s3.options.batchComplete, '32');
  assert.equal(s3.options.fixedbufs, true);
  assert.equal(s3.options.regfiles, true);
  assert.equal(s3.options.threads, '1');
  assert.deepEqual(s3.reference!.values['128'], { 'uring-poll': 808, 'pt-poll': 891 });
});

test('seed003-explain: seed 003\'s runs with --explain, and its perf percentages beside ours', () => {
  const p = resolveProfile('seed003-explain');
  assert.equal(p.options.explain, true);
  assert.equal(p.options.qd, '128');
  assert.equal(p.reference!.perf!.engine, 'pt-poll');
  assert.equal(p.reference!.perf!.symbols.nvme_poll, 7.9);
  const explained = (engine: 'uring-poll' | 'pt-poll', blkStat: number) => ({
    ...makeRecord({ engine, ioDepth: 128, blockSize: 512, iops: 5000 }),
    explain: {
      event: 'cpu-clock' as const, nsPerSample: 1, samples: 100, lost: 0, dropped: 0, cpuNs: 100, sampledNs: 100,
      layers: { block: { nsPerIo: 1, pct: blkStat + 10 }, nvme: { nsPerIo: 1, pct: 20 } },
      symbols: [
        { symbol: 'blk_stat_add', module: 'kernel.vmlinux', kernel: true, layer: 'block', samples: blkStat, pct: blkStat },
        { symbol: 'nvme_poll', module: 'nvme', kernel: true, layer: 'nvme', samples: 20, pct: 20 },
        { symbol: 'filler', module: 'kernel.vmlinux', kernel: true, layer: 'other', samples: 80 - blkStat, pct: 80 - blkStat },
      ],
    },
  });
  const text = renderReference(p, [explained('uring-poll', 3), explained('pt-poll', 1.5)]);
  assert.match(text, /symbol\s+│ layer\s+│ source % \(pt-poll\) │ here % \(uring-poll\) │ here % \(pt-poll\)/);
  assert.match(text, /blk_stat_add\s+│ block layer\s+│\s+2\.48 │\s+3\.00 │\s+1\.50/);
  assert.match(text, /nvme_poll\s+│ NVMe driver\s+│\s+7\.90 │\s+20\.00 │\s+20\.00/);
  assert.match(text, /= block layer, whole layer\s+│\s+│\s+│\s+13\.00 │\s+11\.50/);
  assert.throws(() => parseProfile({ description: 'd', workload: 'randread', options: {}, reference: { source: 's', unit: 'KIOPS', values: { '1': { uring: 1 } }, perf: { engine: 'nope', symbols: {} } } }, 'x', 'x.json', [0]), /reference.perf names unknown engine "nope"/);
});

test('the command line overrides the profile', () => {
  const merged = mergeOptions({ engine: 'uring,pt', runtime: '10s', regfiles: true }, { runtime: '2', engine: undefined, qd: '4' });
  assert.deepEqual(merged, { engine: 'uring,pt', runtime: '2', regfiles: true, qd: '4' });
});

test('reference table: ours next to theirs, rows QD, columns engine', () => {
  const p = resolveProfile('seed003-ng-vs-block');
  const text = renderReference(p, [makeRecord({ engine: 'uring-poll', ioDepth: 128, iops: 5000 }), makeRecord({ engine: 'pt-poll', ioDepth: 128, iops: 5500 })]);
  assert.match(text, /KIOPS here \/ reference \(seed 003/);
  assert.match(text, /QD\s+│\s+uring-poll\s+│\s+pt-poll/);
  assert.match(text, /128\s+│\s+5\.00 \/ 808\s+│\s+5\.50 \/ 891/);
});

test('profile command: --list, unknown names, bad files, and a run on a file', () => {
  const list = runCli(['profile', '--list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /seed001-kiops\n {2}seed 001: 512-byte randread/);
  assert.match(list.stdout, /= nvmebench randread --engine uring-poll,pt-poll --qd 128 --bs 512/);
  const unknown = runCli(['profile', 'nope', '/dev/null']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no profile named "nope": choose one of seed001-kiops, seed003-explain, seed003-ng-vs-block/);
  const dir = tmpDir();
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({ ...GOOD, options: { qdepth: 8 } }));
  const badRun = runCli(['profile', bad, '/dev/null']);
  assert.equal(badRun.code, 2);
  assert.match(badRun.stderr, /profile bad \(.*bad\.json\): unknown key "qdepth" in options/);
  // A file target: override the engines the profile names, keep its QDs and bs.
  const img = path.join(dir, 'img');
  fs.writeFileSync(img, Buffer.alloc(1 << 20));
  const run = runCli(['profile', 'seed001-kiops', img, '--engine', 'psync,uring', '--runtime', '0.2', '--quiet', '--format', 'csv']);
  assert.equal(run.code, 0, run.stderr);
  const rows = run.stdout.trim().split('\n');
  assert.equal(rows.length, 1 + 1 + 3, 'header, psync once, uring at 3 depths');
  assert.match(run.stdout, /uring,512,256/);
  const blockOnly = runCli(['profile', 'seed003-ng-vs-block', img, '--runtime', '0.2']);
  assert.equal(blockOnly.code, 2);
  assert.match(blockOnly.stderr, /uring-poll needs O_DIRECT on a block device/);
});
