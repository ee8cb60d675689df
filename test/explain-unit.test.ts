// --explain's parts, each on its own: the layer rules, kallsyms and ELF
// symbolisation, the per-layer sums, the explain diff, the access check.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { layerOf } from '../src/explain/layers.js';
import { kallsymsHidden, kernelSymbolAt, parseKallsyms } from '../src/explain/kallsyms.js';
import { elfOffsetToAddr, elfSymbolAt, readElf } from '../src/explain/elf.js';
import { parseMaps } from '../src/explain/maps.js';
import { Symbolizer } from '../src/explain/symbolize.js';
import { buildExplain } from '../src/explain/build.js';
import { perfAccess } from '../src/system/perf-access.js';
import { buildResults } from '../src/analysis/results.js';
import { diffLayers, diffSentence } from '../src/explain/diff.js';
import { SCHEMA_VERSION, type ExplainRecord, type RunRecord } from '../src/model.js';
import { makeRecord } from './fixtures.js';
import { ROOT, runCli } from './cli.js';

test('layer rules: seed 003 symbols land in the layers a storage engineer expects', () => {
  const k = (sym: string, mod = 'kernel.vmlinux') => layerOf(sym, mod, true);
  assert.equal(k('blk_stat_add'), 'block');
  assert.equal(k('bio_associate_blkg_from_css'), 'block');
  assert.equal(k('blkg_lookup_create'), 'block');
  assert.equal(k('blk_mq_poll_classic'), 'block');
  assert.equal(k('submit_bio_noacct'), 'block');
  assert.equal(k('bio_poll'), 'block');
  assert.equal(k('__rcu_read_unlock'), 'locking');
  assert.equal(k('_raw_spin_lock_irqsave'), 'locking');
  assert.equal(k('nvme_poll', 'nvme'), 'nvme');
  assert.equal(k('nvme_ns_chr_uring_cmd_iopoll', 'nvme_core'), 'nvme');
  assert.equal(k('nvme_poll_cq'), 'nvme', 'a built-in nvme driver has no module name');
  assert.equal(k('io_uring_cmd'), 'io_uring', 'io_uring_cmd is io_uring even though it names no module');
  assert.equal(k('io_do_iopoll'), 'io_uring');
  assert.equal(k('io_schedule'), 'sched', 'io_schedule is the scheduler, not io_uring');
  assert.equal(k('entry_SYSCALL_64'), 'syscall');
  assert.equal(k('__x64_sys_io_uring_enter'), 'io_uring');
  assert.equal(k('__x64_sys_pread64'), 'syscall');
  assert.equal(k('xas_load'), 'pagecache');
  assert.equal(k('_copy_to_iter'), 'pagecache');
  assert.equal(k('__schedule'), 'sched');
  assert.equal(k('__do_softirq'), 'sched');
  assert.equal(k('vfio_pci_core_ioctl', 'vfio_pci_core'), 'vfio');
  assert.equal(k('iomap_dio_rw'), 'fs');
  assert.equal(k('virtqueue_notify'), 'driver');
  assert.equal(k('dma_map_page_attrs'), 'driver');
  assert.equal(k('aa_file_perm'), 'syscall');
  assert.equal(k('some_new_function'), 'other', 'what no rule matches goes to other');
  assert.equal(layerOf('__worker_loop.isra.0', 'nvmebench_native.node', false), 'app');
  assert.equal(layerOf('__pread64', 'libc.so.6', false), 'app');
  assert.equal(layerOf('vfio_engine_reap', 'nvmebench_native.node', false), 'vfio');
  assert.equal(layerOf('nvme_qpair_create', 'nvmebench_native.node', false), 'vfio');
});

const KALLSYMS = [
  'ffffffff81000000 T _stext',
  'ffffffff81200000 T blk_stat_add',
  'ffffffff81200400 t bio_poll',
  'ffffffff81300000 D some_data',
  'ffffffffc0a01000 t nvme_poll\t[nvme]',
  'ffffffffc0a02000 T nvme_ns_chr_uring_cmd_iopoll\t[nvme_core]',
].join('\n');

test('kallsyms: text symbols by address, modules in brackets, data skipped', () => {
  const syms = parseKallsyms(KALLSYMS);
  assert.equal(syms.names.length, 5);
  assert.deepEqual(kernelSymbolAt(syms, 0xffffffff81200010n), { name: 'blk_stat_add', module: 'kernel.vmlinux' });
  assert.deepEqual(kernelSymbolAt(syms, 0xffffffff81200400n), { name: 'bio_poll', module: 'kernel.vmlinux' });
  assert.deepEqual(kernelSymbolAt(syms, 0xffffffffc0a01abcn), { name: 'nvme_poll', module: 'nvme' });
  assert.deepEqual(kernelSymbolAt(syms, 0xffffffffc0a02001n), { name: 'nvme_ns_chr_uring_cmd_iopoll', module: 'nvme_core' });
  assert.equal(kernelSymbolAt(syms, 0xffffffff80000000n), undefined);
  assert.equal(kallsymsHidden(syms), false);
  assert.equal(kallsymsHidden(parseKallsyms('0000000000000000 T _stext\n0000000000000000 t bio_poll\n')), true, 'kptr_restrict shows zeros');
});

const ADDON = path.join(ROOT, 'build', 'Release', 'nvmebench_native.node');

test('ELF: the native addon\'s own functions, through its executable segment', () => {
  const image = readElf(ADDON);
  assert.ok(image, 'the addon is ELF64');
  const drain = image.symbols.find((s) => s.name === 'perf_sampler_drain');
  assert.ok(drain, 'perf_sampler_drain is in the symbol table');
  assert.equal(elfSymbolAt(image, drain.addr + 4n), 'perf_sampler_drain');
  assert.ok(image.segments.length >= 1);
  // A file offset inside the text segment maps back to the linked address.
  const seg = image.segments[0];
  assert.equal(elfOffsetToAddr(image, seg.offset + 16n), seg.vaddr + 16n);
  const plt = image.symbols.find((s) => s.name === '[plt]');
  assert.ok(plt, 'the PLT is named, not left to the symbol before it (_init)');
  assert.equal(elfSymbolAt(image, plt.addr + 4n), '[plt]');
  assert.equal(readElf(Buffer.from('not an elf file at all, not even close, no............................')), null);
});

test('symbolizer: kernel through kallsyms, user through the maps and ELF', () => {
  const image = readElf(ADDON)!;
  const drain = image.symbols.find((s) => s.name === 'perf_sampler_drain')!;
  const seg = image.segments.find((s) => drain.addr >= s.vaddr && drain.addr < s.vaddr + s.filesz)!;
  const mapStart = 0x7f0000000000n;
  // Mapped as the loader would: the segment's file offset at mapStart.
  const maps = parseMaps(`${mapStart.toString(16)}-${(mapStart + seg.filesz + 0x1000n).toString(16)} r-xp ${seg.offset.toString(16)} fd:01 42 ${ADDON}\n7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]\n`);
  assert.equal(maps.length, 2);
  const sym = new Symbolizer(parseKallsyms(KALLSYMS), maps);
  const ip = mapStart + (drain.addr - seg.vaddr) + 8n;
  assert.deepEqual(sym.resolve(ip), { symbol: 'perf_sampler_drain', module: 'nvmebench_native.node', kernel: false });
  assert.deepEqual(sym.resolve(0xffffffffc0a01010n), { symbol: 'nvme_poll', module: 'nvme', kernel: true });
  assert.equal(sym.resolve(0x7ffd00000100n).symbol, '[unknown]');
  assert.equal(sym.resolve(0x1000n).module, '[unknown]');
});

test('buildExplain: samples share out the measured CPU by layer, in ns per I/O', () => {
  const sym = new Symbolizer(parseKallsyms(KALLSYMS), []);
  const ex = buildExplain(
    [{ event: 'cpu-clock', period: 250_000, count: 1_000_000_000, samples: 4000, lost: 0, dropped: 0, ips: ['ffffffff81200010', 'ffffffffc0a01010', 'ffffffff81000100'], counts: [1000, 2000, 1000] }],
    1_000_000,
    1_050_000_000,
    sym,
  )!;
  // The samples share out the measured CPU (1.05 s over 4000 samples), not samples x period.
  assert.equal(ex.nsPerSample, 262_500);
  assert.equal(ex.layers.block.nsPerIo, 262.5);
  assert.equal(ex.layers.nvme.nsPerIo, 525);
  assert.equal(ex.layers.nvme.pct, 50);
  assert.equal(ex.layers.other.nsPerIo, 262.5, '_stext matches no rule');
  assert.equal(ex.sampledNs, 1_050_000_000);
  assert.equal(ex.eventNs, 1_000_000_000, "the event's own total is kept");
  assert.deepEqual(ex.symbols.map((s) => s.symbol), ['nvme_poll', '_stext', 'blk_stat_add']);
});

function explainRecord(engine: string, layers: Record<string, number>): RunRecord {
  const total = Object.values(layers).reduce((s, x) => s + x, 0);
  const ios = 1_000_000;
  const explain: ExplainRecord = {
    event: 'cpu-clock', nsPerSample: 250_000, samples: 1000, lost: 0, dropped: 0, cpuNs: total * ios, sampledNs: total * ios,
    layers: Object.fromEntries(Object.entries(layers).map(([l, v]) => [l, { nsPerIo: v, pct: (v / total) * 100 }])),
    symbols: [{ symbol: 'blk_stat_add', module: 'kernel.vmlinux', kernel: true, layer: 'block', samples: 10, pct: 1 }],
  };
  return { ...makeRecord({ engine: engine as RunRecord['engine'], ioDepth: 128, blockSize: 512, ios }), explain };
}

test('explain diff: largest difference first, and the sentence', () => {
  const results = buildResults([explainRecord('uring-poll', { block: 100, nvme: 50, io_uring: 80 }), explainRecord('pt-poll', { block: 62, nvme: 62, io_uring: 79 })]);
  const [base, other] = results.cells.map((c) => c.explain!);
  const diffs = diffLayers(base, other);
  assert.deepEqual(diffs.map((d) => d.layer), ['block', 'nvme', 'io_uring']);
  assert.equal(diffs[0].diff, -38);
  assert.equal(diffSentence('pt-poll', 'uring-poll', diffs, base, other), 'pt-poll saves 38 ns/IO in the block layer and spends 12 more in the NVMe driver than uring-poll; 27 ns/IO less in all (11.7%)');
});

test('nvmebench explain on a hand-made results file, and its bad input', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-explain-'));
  try {
    const file = path.join(dir, 'r.json');
    const records = [explainRecord('uring-poll', { block: 100, nvme: 50 }), explainRecord('pt-poll', { block: 62, nvme: 62 })];
    fs.writeFileSync(file, JSON.stringify({ schemaVersion: SCHEMA_VERSION, records }));
    const ok = runCli(['explain', file, '--baseline', 'uring-poll', '--engine', 'pt-poll']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /pt-poll saves 38 ns\/IO in the block layer and spends 12 more in the NVMe driver/);
    assert.match(ok.stdout, /block layer\s*│\s*100\s*│\s*62\.0\s*│\s*-38\.0 │/);
    const bad = (args: string[], re: RegExp) => {
      const r = runCli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    };
    bad(['explain', path.join(dir, 'missing.json')], /does not exist/);
    bad(['explain', file, '--engine', 'ptpoll'], /--engine ptpoll: no such engine: use one of/);
    bad(['explain', file, '--baseline', 'uring-poll', '--engine', 'vfio'], /no --explain data for vfio: use one of uring-poll, pt-poll/);
    const plain = path.join(dir, 'plain.json');
    fs.writeFileSync(plain, JSON.stringify({ schemaVersion: SCHEMA_VERSION, records: [makeRecord({ engine: 'uring' })] }));
    bad(['explain', plain], /holds no --explain data: run the benchmark with --explain --json/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('access: paranoid 2 without CAP_PERFMON, kptr_restrict 2, no perf events: each names its fix', () => {
  const sys = (files: Record<string, string>) => ({ read: (f: string) => files[f] });
  const paranoid = perfAccess(sys({ '/proc/sys/kernel/perf_event_paranoid': '2', '/proc/sys/kernel/kptr_restrict': '0' }), 0n);
  assert.equal(paranoid.ok, false);
  assert.match(!paranoid.ok ? paranoid.fix : '', /sysctl kernel.perf_event_paranoid=1, or run nvmebench as root/);
  const root = perfAccess(sys({ '/proc/sys/kernel/perf_event_paranoid': '2', '/proc/sys/kernel/kptr_restrict': '0' }), (1n << 38n) | (1n << 34n));
  assert.equal(root.ok, true, 'CAP_PERFMON and CAP_SYSLOG allow it');
  const hidden = perfAccess(sys({ '/proc/sys/kernel/perf_event_paranoid': '1', '/proc/sys/kernel/kptr_restrict': '2' }), (1n << 38n) | (1n << 34n));
  assert.equal(hidden.ok, false);
  assert.match(!hidden.ok ? hidden.message : '', /kptr_restrict is 2/);
  const none = perfAccess(sys({}), 0n);
  assert.match(!none.ok ? none.message : '', /this kernel has no perf events/);
  assert.equal(perfAccess(sys({ '/proc/sys/kernel/perf_event_paranoid': '1', '/proc/sys/kernel/kptr_restrict': '0' }), 0n).ok, true);
});
