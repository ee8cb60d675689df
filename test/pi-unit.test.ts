// src/engines/pi.ts without a device: the LBA format as devices and the
// messages word it, --pi-check parsed into PRCHK bits, the refusals, and the
// native job's fields. The lab test (pi-lab.test.ts) runs them for real.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPiOptions, checkRawMetadata, describeLbaFormat, lbaFormat, metadataRecord, parsePiCheck, parsePiOptions, piJobFields } from '../src/engines/pi.js';
import type { NvmeNamespace } from '../src/target/target.js';
import { parseCsvRecords } from '../src/export/csv-read.js';
import { toCsv } from '../src/export/csv.js';
import { cellKey } from '../src/analysis/stats.js';
import { makeRecord } from './fixtures.js';

function ns(metaSize: number, extended: boolean, dps: number): NvmeNamespace {
  return {
    name: 'nvme0n1', controller: 'nvme0', nsid: 1, lbaSize: 4096, metaSize, extendedMeta: extended, capacityBytes: 1 << 30, maxTransferBytes: 0, pciAddress: '',
    identify: { ns: { dps, lbaFormat: 3 } } as unknown as NvmeNamespace['identify'],
  };
}

test('the LBA format: data and metadata sizes, PI type from DPS 2:0, its place from DPS bit 3, the layout', () => {
  assert.equal(describeLbaFormat(lbaFormat(ns(8, false, 1))), 'LBA format 3: 4096+8, PI type 1 in the last 8 bytes, separate buffer (mset=0)');
  assert.equal(describeLbaFormat(lbaFormat(ns(16, true, 8 | 2))), 'LBA format 3: 4096+16, PI type 2 in the first 8 bytes, extended (mset=1)');
  assert.equal(describeLbaFormat(lbaFormat(ns(0, false, 0)), false), '4096, no metadata');
  // DPS on metadata too small for a tuple describes nothing
  assert.equal(lbaFormat(ns(4, false, 1)).piType, 0);
});

test('--pi-check as PRCHK bits (reftag 26, apptag 27, guard 28 of CDW12, shifted down)', () => {
  assert.equal(parsePiCheck('guard'), 4);
  assert.equal(parsePiCheck('reftag,guard'), 5);
  assert.equal(parsePiCheck('all'), 7);
  assert.equal(parsePiCheck('none'), 0);
  assert.throws(() => parsePiCheck('guard,crc'), /'crc' is not a PI field/);
  assert.equal(parsePiOptions({}), undefined);
  assert.deepEqual(parsePiOptions({ piAct: true, piApptag: '0xbeef' }), { act: true, check: 0, apptag: 0xbeef });
});

test('--pi-* refused on a format without PI, reftag on type 3, and on the block engines', () => {
  const act = { act: true, check: 0, apptag: undefined };
  assert.throws(() => checkPiOptions(act, ns(8, false, 0), '/dev/ng0n1', ['pt']), /--pi-act needs protection information, but \/dev\/ng0n1 is formatted with LBA format 3: 4096\+8, no PI/);
  assert.throws(() => checkPiOptions({ act: false, check: 1, apptag: undefined }, ns(8, true, 3), '/dev/ng0n1', ['pt']), /type 3 PI has no reference tag/);
  assert.throws(() => checkPiOptions(act, ns(8, false, 1), '/dev/nvme0n1', ['uring', 'pt']), /applies to pt, pt-poll, ioctl and vfio, not uring/);
  assert.doesNotThrow(() => checkPiOptions(act, ns(8, false, 1), '/dev/ng0n1', ['pt', 'pt-poll', 'ioctl', 'vfio']));
  assert.doesNotThrow(() => checkPiOptions(undefined, ns(0, false, 0), '/dev/ng0n1', ['uring']));
});

test('the job carries the format to the passthrough engines and vfio only; the tag mask only when apptag is checked', () => {
  assert.deepEqual(piJobFields('uring', ns(8, false, 1), undefined), {});
  assert.deepEqual(piJobFields('pt', ns(8, true, 0), undefined), { metaSize: 8, metaExtended: true });
  assert.deepEqual(piJobFields('vfio', ns(16, false, 8 | 1), { act: false, check: 2, apptag: 7 }), {
    metaSize: 16, metaExtended: false, piType: 1, piFirst: true, piAct: false, piCheck: 2, piApptag: 7, piApptagMask: 0xffff,
  });
  assert.equal(piJobFields('ioctl', ns(8, false, 1), { act: true, check: 4, apptag: undefined }).piApptagMask, 0);
});

test('the record names who made the PI and what the controller checked', () => {
  const job = piJobFields('pt', ns(8, false, 1), { act: true, check: 5, apptag: undefined });
  assert.deepEqual(metadataRecord(job as never), { bytes: 8, extended: false, piType: 1, pi: 'controller', check: ['reftag', 'guard'] });
  assert.deepEqual(metadataRecord(piJobFields('ioctl', ns(16, true, 0), undefined) as never), { bytes: 16, extended: true, piType: 0, pi: 'none', check: [] });
});

test('raw has no metadata buffer: a read or write on a separate-metadata format is refused unless PRACT moves none', () => {
  const raw = (opcode: number, cdw12: number) => ({ opcode, cdw: [0, 0, cdw12, 0, 0, 0], dataLen: 4096, dir: 'write' as const });
  assert.throws(() => checkRawMetadata(raw(0x01, 0), ns(8, false, 1), '/dev/ng0n2'), (e: Error & { fix?: string }) => /raw Write on \/dev\/ng0n2 would move 8 bytes of metadata per block through a separate buffer .* and raw has none to give/.test(e.message) && /^set PRACT/.test(e.fix ?? ''));
  assert.throws(() => checkRawMetadata(raw(0x02, 0x20000000), ns(16, false, 1), '/dev/ng0n2'), (e: Error & { fix?: string }) => /use the read\/write workloads/.test(e.fix ?? ''));
  assert.doesNotThrow(() => checkRawMetadata(raw(0x01, 0x20000000), ns(8, false, 1), '/dev/ng0n2'));
  // PRACT with 16 bytes still moves metadata; metadata without PI has no PRACT
  assert.throws(() => checkRawMetadata(raw(0x02, 0x20000000), ns(8, false, 0), '/dev/ng0n2'), /raw Read/);
  // extended formats carry it inline (--data-len covers it); opcodes without NLB data pass
  assert.doesNotThrow(() => checkRawMetadata(raw(0x01, 0), ns(8, true, 1), '/dev/ng0n1'));
  assert.doesNotThrow(() => checkRawMetadata(raw(0x08, 0), ns(8, false, 1), '/dev/ng0n2'));
});

test('the metadata format and the PI mode go through CSV (v3) and keep software PI, PRACT and plain runs in different cells', () => {
  const host = makeRecord({ engine: 'pt', metadata: { bytes: 8, extended: false, piType: 1, pi: 'host', check: [] } });
  const ctrl = makeRecord({ engine: 'pt', metadata: { bytes: 8, extended: false, piType: 1, pi: 'controller', check: ['guard', 'reftag'] } });
  const ext = makeRecord({ engine: 'pt', metadata: { bytes: 16, extended: true, piType: 0, pi: 'none', check: [] } });
  const plain = makeRecord({ engine: 'pt' });
  const back = parseCsvRecords(toCsv([host, ctrl, ext, plain]));
  assert.deepEqual(back.map((r) => r.metadata), [host.metadata, ctrl.metadata, ext.metadata, undefined]);
  const keys = [host, ctrl, ext, plain].map(cellKey);
  assert.equal(new Set(keys).size, 4, keys.join('\n'));
  // A record without metadata keeps the key it had before v3 (no pi= in it).
  assert.doesNotMatch(cellKey(plain), /pi=/);
});
