// The NVMe command workloads on QEMU's emulated controller, in one boot:
// every command on every engine that can issue it (block engines too where
// the block layer has the command), with their --verify checks; refusals of
// commands a namespace lacks (zone-append on an NVM namespace, copy on one
// whose MSSRL is 0); raw with the read opcode against randread's data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, csvRows } from './cli.js';

const LAB_MS = 360_000;

/** Sections of the guest's output: "### name" ... "### rc=N". */
function sections(text: string): Map<string, { out: string; rc: number }> {
  const out = new Map<string, { out: string; rc: number }>();
  let name = '';
  let lines: string[] = [];
  for (const line of text.split('\n')) {
    const rc = /^### rc=(\d+)$/.exec(line);
    const head = /^### (\S+)$/.exec(line);
    if (rc && name) {
      out.set(name, { out: lines.join('\n'), rc: Number(rc[1]) });
      name = '';
    } else if (head) {
      name = head[1];
      lines = [];
    } else if (name) {
      lines.push(line);
    }
  }
  return out;
}

function rows(text: string): Array<Record<string, string>> {
  const csv = text.split('\n').filter((l) => !l.startsWith('nvmebench:'));
  const start = csv.findIndex((l) => l.startsWith('schema_version,'));
  return start < 0 ? [] : csvRows(csv.slice(start).join('\n'));
}

test('NVMe commands in the lab: every engine that can, with their checks; refusals; raw against randread', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-cmdlab-'));
  try {
    const B = `node ${BIN}`;
    const C = '--quiet --format csv --qd 4';
    const run = (name: string, cmd: string) => `echo "### ${name}"; ${cmd} 2>&1; echo "### rc=$?"`;
    const script = [
      run('wz', `${B} write-zeroes --engine all ${C} --ios 64 --size 2m --verify /dev/ng0n1`),
      run('trim', `${B} trim --engine all ${C} --ios 64 --size 2m /dev/ng0n1`),
      run('verify', `${B} verify --engine all ${C} --ios 64 --size 2m /dev/ng0n1`),
      run('flush', `${B} flush --engine all ${C} --ios 32 /dev/ng0n1`),
      run('compare', `${B} compare --engine all ${C} --ios 64 --size 1m /dev/ng0n1`),
      run('copy', `${B} copy --engine all ${C} --ios 64 --size 2m --copy-ranges 4 --verify /dev/ng0n1`),
      run('za', `${B} zone-append --engine all ${C} --ios 256 --zones 3 --verify --json za.json /dev/ng0n3`),
      run('za_nvm', `${B} zone-append --ios 8 /dev/ng0n1`),
      run('copy_ns2', `${B} copy --ios 8 /dev/ng0n2`),
      // Raw Read (0x02) of LBA 8-15 after a stamped write of the first 64 KiB, which randread --verify checks.
      run('write', `${B} write --engine pt --qd 4 --ios 16 --size 64k --verify --verify-seed 77 ${C} /dev/ng0n1`),
      run('randread', `${B} randread --engine pt --qd 4 --ios 64 --size 64k --verify ${C} /dev/ng0n1`),
      run('raw', `${B} raw --opcode 0x02 --cdw10 8 --cdw12 7 --data-len 4096 --read --dump raw.bin --engine pt,ioctl --ios 16 ${C} /dev/ng0n1`),
      'dd if=/dev/nvme0n1 iflag=direct bs=4096 skip=1 count=1 of=dd.bin status=none && cmp raw.bin dd.bin && echo rawcmp=same',
      // Compare (0x05) of LBA 0 against a buffer that is not what is there: a Compare Failure.
      run('miscompare', `${B} raw --opcode 0x05 --cdw12 0 --data-len 512 --write --ios 1 ${C} /dev/ng0n1`),
    ].join('\n');
    const t0 = Date.now();
    // Namespace 2 with MSSRL 0: Copy may copy nothing there, and copy is refused naming the field.
    const lab = ['lab', '-q', '--zoned', '--namespaces', '2', '--ns-props', '2:mssrl=0,mcl=0,msrc=0', '--timeout', String(LAB_MS / 1000 - 30)];
    const r = spawnSync(process.execPath, [BIN, ...lab, '--exec', script], { cwd, encoding: 'utf8', timeout: LAB_MS });
    const all = `exit ${r.status} after ${Date.now() - t0} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
    assert.equal(r.status, 0, all);
    const s = sections(r.stdout);
    const ok = (name: string) => {
      const sec = s.get(name);
      assert.ok(sec, `no section ${name}\n${all}`);
      assert.equal(sec.rc, 0, `${name}\n${sec.out}`);
      const got = rows(sec.out);
      for (const row of got) assert.equal(row.status, 'ok', `${name} ${row.engine}: ${row.error_message}`);
      return got;
    };
    const cells = (got: Array<Record<string, string>>) => got.map((x) => `${x.engine}@${x.qd}`);

    // Block engines where the block layer has the command; pt-poll not for commands without data on 6.1.
    let got = ok('wz');
    assert.deepEqual(cells(got), ['psync@1', 'uring@4', 'pt@4', 'ioctl@1']);
    for (const row of got) {
      assert.equal(row.workload, 'write-zeroes');
      assert.ok(Number(row.verified_blocks) > 0 && row.errors === '0', `${row.engine} read its zeroes back`);
    }
    assert.match(s.get('wz')!.out, /skipping pt-poll: Linux 6\.1 polls passthrough commands by their data/);
    assert.deepEqual(cells(ok('trim')), ['psync@1', 'pt@4', 'pt-poll@4', 'ioctl@1']);
    assert.match(s.get('trim')!.out, /skipping uring: io_uring discards on a block device from Linux 6\.12/);
    got = ok('verify');
    assert.deepEqual(cells(got), ['pt@4', 'ioctl@1']);
    assert.match(s.get('verify')!.out, /ONCS bit 7 \(Verify\) is 0 in Identify Controller .*, but the Commands Supported and Effects log lists opcode 0x0c as supported/);
    assert.deepEqual(cells(ok('flush')), ['psync@1', 'aio@4', 'uring@4', 'pt@4', 'ioctl@1']);
    assert.deepEqual(cells(ok('compare')), ['pt@4', 'pt-poll@4', 'ioctl@1']);
    got = ok('copy');
    assert.deepEqual(cells(got), ['pt@4', 'pt-poll@4', 'ioctl@1']);
    // The sources (256 blocks, pattern written first) and the destinations copied read back right.
    for (const row of got) assert.ok(Number(row.verified_blocks) > 256, `${row.engine}: ${row.verified_blocks}`);

    got = ok('za');
    assert.deepEqual(cells(got), ['pt@4', 'pt-poll@4', 'ioctl@1']);
    for (const row of got) assert.equal(row.verified_blocks, '256', `${row.engine}: every append read back where the device put it`);
    const za = JSON.parse(fs.readFileSync(path.join(cwd, 'za.json'), 'utf8')) as { records: Array<{ engine: string; command: Record<string, number> }> };
    for (const rec of za.records) {
      assert.equal(rec.command.opcode, 0x7d);
      assert.equal(rec.command.zones, 3);
      assert.equal(rec.command.appendsChecked, 256, rec.engine);
      assert.equal(rec.command.appendsOutsideZone, 0, rec.engine);
      assert.ok(rec.command.zonesUsed >= 3, rec.engine);
    }

    assert.equal(s.get('za_nvm')?.rc, 2, all);
    assert.match(s.get('za_nvm')!.out, /zone-append needs a zoned namespace: namespace 1 of nvme0 has Command Set Identifier 0x00 \(NVM\)/);
    assert.equal(s.get('copy_ns2')?.rc, 2, all);
    assert.match(s.get('copy_ns2')!.out, /copy is not supported on namespace 2: MSSRL \(Maximum Single Source Range Length\) is 0 in Identify Namespace 2/);

    ok('write');
    got = ok('randread');
    assert.ok(Number(got[0].verified_blocks) === 64, 'randread found the stamps');
    got = ok('raw');
    assert.deepEqual(got.map((x) => `${x.workload} ${x.engine}`), ['raw:0x02 pt', 'raw:0x02 ioctl']);
    assert.match(r.stdout, /^rawcmp=same$/m, 'raw Read returned what the block device holds');
    const raw = fs.readFileSync(path.join(cwd, 'raw.bin'));
    assert.equal(raw.length, 4096);
    assert.equal(raw.subarray(0, 8).toString('latin1'), 'cnebemvn', 'an nvmebench stamp, as randread --verify checked');
    assert.equal(Number(raw.readBigUInt64LE(8)), 8, 'the stamp of sector 8');
    assert.equal(raw.readUInt32LE(16), 77, 'the seed of the write pass');

    assert.equal(s.get('miscompare')?.rc, 1, all);
    assert.match(s.get('miscompare')!.out, /raw opcode 0x05: Compare Failure \(SCT 0x2, SC 0x85/);
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
