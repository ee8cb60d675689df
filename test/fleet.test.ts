// The fleet pieces that need no lab: the run options the playbook passes
// (--fleet-run-id in every record, the --start-at barrier, their bad input),
// merge reading the playbook's status files (every failed host a named line,
// the others' results kept), and regress --fleet gating a firmware rollout.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { csvRows, runCli } from './cli.js';
import { makeRepeats, tmpDir } from './fixtures.js';
import { toCsv } from '../src/export/csv.js';
import { toJson } from '../src/export/json.js';

const dir = tmpDir('nvmebench-fleet-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('--fleet-run-id is in every record (CSV and JSON); --start-at waits for the wall clock', () => {
  const csv = path.join(dir, 'r.csv');
  const json = path.join(dir, 'r.json');
  const at = Math.ceil(Date.now() / 1000) + 2;
  const started = Date.now();
  const r = runCli(['randread', '--engine', 'nop', '--ios', '1000', '--repeat', '2', '--fleet-run-id', 'fw-2026.11_a', '--start-at', String(at), '--quiet', '--csv', csv, '--json', json], { env: { NVMEBENCH_HOSTNAME: 'db-07' } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() >= at * 1000, 'the run ended after the barrier');
  assert.ok(Date.now() - started >= 1000, `waited: ${Date.now() - started} ms`);
  assert.match(r.stderr, /waiting \d+\.\d s for --start-at/);
  const rows = csvRows(fs.readFileSync(csv, 'utf8'));
  assert.equal(rows.length, 2);
  for (const row of rows) assert.deepEqual([row.schema_version, row.fleet_run_id, row.hostname], ['3', 'fw-2026.11_a', 'db-07']);
  const doc = JSON.parse(fs.readFileSync(json, 'utf8')) as { records: Array<{ env: { fleetRunId?: string } }> };
  assert.deepEqual(doc.records.map((x) => x.env.fleetRunId), ['fw-2026.11_a', 'fw-2026.11_a']);
  // A barrier already past: a late host starts at once and says so.
  const late = runCli(['randread', '--engine', 'nop', '--ios', '100', '--start-at', String(Math.floor(Date.now() / 1000) - 5), '--quiet']);
  assert.equal(late.code, 0, late.stderr);
  assert.match(late.stderr, /--start-at was \d+\.\d s ago: starting now, late/);
});

test('fleet run options: bad input is one line with the fix, exit 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--fleet-run-id', '../x'], /--fleet-run-id "\.\.\/x" is not a fleet run id: use 1 to 64 letters/],
    [['--fleet-run-id', 'a b'], /is not a fleet run id/],
    [['--start-at', 'soon'], /--start-at soon is not a unix time: give seconds since 1970/],
    [['--start-at', String(Date.now())], /--start-at \d+ is \d+ hours away: give seconds since 1970 \(not milliseconds\)/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(['randread', '--engine', 'nop', '--ios', '10', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

const status = (host: string, stage: string, ok: boolean, reason: string) => JSON.stringify({ host, fleetRunId: 'f1', stage, ok, reason, at: '2026-11-28T12:00:00Z' });

test('merge names every host that failed in the playbook, and keeps the others\' results', () => {
  const run = path.join(dir, 'results', 'f1');
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  };
  write(path.join(run, 'fleet-hosts.json'), JSON.stringify({ fleetRunId: 'f1', hosts: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] }));
  for (const host of ['a', 'b']) {
    write(path.join(run, host, `${host}.csv`), toCsv(makeRepeats([1000e3, 1010e3], { engine: 'pt', env: { hostname: host, fleetRunId: 'f1' } })));
    write(path.join(run, host, 'fleet-status.json'), status(host, 'done', true, '2 files fetched'));
  }
  write(path.join(run, 'c', 'fleet-status.json'), status('c', 'doctor', false, 'doctor failed: fail  io_uring is disabled (kernel.io_uring_disabled=2)'));
  write(path.join(run, 'd', 'fleet-status.json'), status('d', 'doctor', false, 'no NVMe: nvmebench devices found no controller'));
  write(path.join(run, 'e', 'fleet-status.json'), status('e', 'running', false, ''));
  write(path.join(run, 'f', 'fleet-status.json'), status('f', 'running', false, 'no target: /dev/ng3n1 does not exist: check the path'));
  // g never reported: unreachable from the start.
  const merged = runCli(['merge', run, '-o', path.join(dir, 'fleet.csv')]);
  assert.equal(merged.code, 1, merged.stderr);
  const lines = merged.stdout.split('\n');
  assert.ok(lines.includes('fleet: 2 of 7 hosts finished; 5 did not (their results, if any, are kept):'), merged.stdout);
  for (const want of [
    'host c: doctor failed: fail  io_uring is disabled (kernel.io_uring_disabled=2)',
    'host d: no NVMe: nvmebench devices found no controller',
    'host e: lost during the run: the host stopped answering (unreachable, powered off or killed)',
    'host f: no target: /dev/ng3n1 does not exist: check the path',
  ]) assert.ok(lines.includes(want), `${want}\nin:\n${merged.stdout}`);
  assert.match(merged.stdout, /^host g: unreachable: never reported/m);
  const rows = csvRows(fs.readFileSync(path.join(dir, 'fleet.csv'), 'utf8'));
  assert.deepEqual([...new Set(rows.map((r) => r.hostname))].sort(), ['a', 'b']);
  // The status files are not results: without them nothing fails.
  const noStatus = path.join(dir, 'plain');
  write(path.join(noStatus, 'a', 'a.csv'), fs.readFileSync(path.join(run, 'a', 'a.csv'), 'utf8'));
  assert.equal(runCli(['merge', noStatus]).code, 0);
  // Every host failed: the named lines still come, exit 1.
  const none = path.join(dir, 'none');
  write(path.join(none, 'fleet-hosts.json'), JSON.stringify({ hosts: ['x'] }));
  const empty = runCli(['merge', none]);
  assert.equal(empty.code, 1, empty.stderr);
  assert.match(empty.stdout, /fleet: no results from any of 1 host\nhost x: unreachable/);
});

test('regress --fleet: hosts aggregated per model and configuration, a firmware rollout that costs 20% is a regression', () => {
  // Each host's own target path, pinned CPUs and region: the same configuration for the fleet.
  const side = (fw: string, iops: number[], fleetRunId: string) =>
    iops.map((v, i) => makeRepeats([v, v * 1.01], { engine: 'pt', target: { firmware: fw, path: `/dev/ng${i}n1`, model: 'ACME 9000' }, env: { hostname: `h${i}`, fleetRunId } })
      .map((r) => ({ ...r, options: { ...r.options, cpus: [i], size: 1e9 + i } }))).flat();
  const base = path.join(dir, 'base.json');
  const cur = path.join(dir, 'cur.json');
  fs.writeFileSync(base, toJson(side('1.0', [1000e3, 990e3, 1010e3, 1005e3], 'old')));
  fs.writeFileSync(cur, toJson(side('2.0', [800e3, 795e3, 805e3, 790e3], 'new')));
  const r = runCli(['regress', base, cur, '--metric', 'iops']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /fleet: 4 hosts in .*base\.json, 4 in .*cur\.json/);
  assert.match(r.stdout, /randread pt .*fw 1\.0 → 2\.0 .*REGRESSION/);
  assert.match(r.stdout, /1 regression/);
  // Without fleet ids, a plain regress matches per firmware and host: nothing is in both; --fleet gates it.
  const strip = (file: string) => {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { records: Array<{ env: { fleetRunId?: string } }> };
    for (const rec of doc.records) delete rec.env.fleetRunId;
    fs.writeFileSync(file, JSON.stringify(doc));
  };
  strip(base);
  strip(cur);
  const plain = runCli(['regress', base, cur, '--metric', 'iops']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /no configuration is in both files/);
  assert.equal(runCli(['regress', base, cur, '--metric', 'iops', '--fleet']).code, 1);
});
