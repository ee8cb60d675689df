// Plausible RunRecords for tests. Figures are consistent with each other:
// bandwidth = IOPS × bs, ios = IOPS × runtime, mean latency from Little's law
// (QD × threads / IOPS), percentiles spread around it, and a histogram whose
// percentiles come out at the summary's p50/p90/p99/p99.9.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SCHEMA_VERSION,
  type EngineName,
  type EnvironmentInfo,
  type LatencySummary,
  type RunRecord,
  type TargetInfo,
  type Workload,
} from '../src/model.js';

export interface RecordOverrides extends Partial<Omit<RunRecord, 'options' | 'target' | 'env' | 'latency'>> {
  options?: Partial<RunRecord['options']>;
  target?: Partial<TargetInfo>;
  env?: Partial<EnvironmentInfo>;
  latency?: Partial<LatencySummary>;
}

export function makeRecord(o: RecordOverrides = {}): RunRecord {
  const engine: EngineName = o.engine ?? 'uring';
  const workload: Workload = o.workload ?? 'randread';
  const blockSize = o.blockSize ?? 4096;
  const ioDepth = o.ioDepth ?? 32;
  const threads = o.threads ?? 1;
  const runtimeS = o.runtimeS ?? 10;
  const iops = o.iops ?? 500_000;
  const meanUs = (ioDepth * threads * 1e6) / iops;
  const latency: LatencySummary = {
    minUs: meanUs * 0.3,
    meanUs,
    p50Us: meanUs * 0.95,
    p90Us: meanUs * 1.3,
    p99Us: meanUs * 2,
    p999Us: meanUs * 3,
    maxUs: meanUs * 10,
    ...o.latency,
  };
  const ns = (us: number): number => Math.round(us * 1000);
  const p9999 = (latency.p999Us + latency.maxUs) / 2;
  const histogram: Array<[number, number]> = [
    [ns(latency.minUs), 1],
    [ns(latency.p50Us), 4999],
    [ns(latency.p90Us), 4000],
    [ns(latency.p99Us), 900],
    [ns(latency.p999Us), 90],
    [ns(p9999), 9],
    [ns(latency.maxUs), 1],
  ];
  const readPercent = o.readPercent ?? (workload.includes('write') ? 0 : workload.includes('rw') ? 50 : 100);
  const { options, target, env, latency: _l, ...rest } = o;
  void _l;
  return {
    schemaVersion: SCHEMA_VERSION,
    runId: 'run-0001',
    repeat: 0,
    workload,
    engine,
    blockSize,
    ioDepth,
    threads,
    readPercent,
    runtimeS,
    status: 'ok',
    errorMessage: '',
    ios: Math.round(iops * runtimeS),
    iops,
    bandwidthBps: iops * blockSize,
    cpuUserPct: 12.5,
    cpuSysPct: 80.25,
    cpuNsPerIo: 1843,
    sysCpuNsPerIo: 2210,
    irqsPerIo: 0.98,
    ctxswPerIo: 0.01,
    iosPerSubmitCall: ioDepth,
    iosPerReapCall: Math.max(1, ioDepth - 1),
    errors: 0,
    verifiedBlocks: 0,
    histogram,
    ...rest,
    latency,
    options: {
      batchSubmit: 0,
      batchComplete: 0,
      fixedBufs: false,
      regFiles: false,
      sqpoll: false,
      direct: true,
      verify: false,
      cpus: [],
      offset: 0,
      size: 0,
      ...options,
    },
    target: {
      path: '/dev/nvme0n1',
      kind: 'block',
      sizeBytes: 1 << 30,
      logicalBlockSize: 512,
      model: 'ACME NVMe 990',
      serial: 'S1234',
      firmware: '1.0',
      emulated: false,
      ...target,
    },
    env: {
      timestamp: '2026-11-23T14:00:00.000Z',
      hostname: 'bench01',
      kernel: '6.8.0',
      nvmebenchVersion: '0.1.0',
      cpuModel: 'AMD EPYC 7713',
      ...env,
    },
  };
}

/** One record per value, repeat 0..N-1, same configuration. */
export function makeRepeats(values: number[], o: RecordOverrides = {}): RunRecord[] {
  return values.map((iops, repeat) => makeRecord({ ...o, iops, repeat }));
}

/**
 * The seed-001 matrix: QD 8/64/256 × uring/pt/uring-poll/pt-poll, KIOPS as in
 * fio's t/io_uring comparison.
 */
export const SEED_001: Record<number, Record<string, number>> = {
  8: { uring: 538, pt: 589, 'uring-poll': 831, 'pt-poll': 902 },
  64: { uring: 967, pt: 1131, 'uring-poll': 1351, 'pt-poll': 1378 },
  256: { uring: 1043, pt: 1230, 'uring-poll': 1376, 'pt-poll': 1429 },
};

export function seed001Records(o: RecordOverrides = {}): RunRecord[] {
  const out: RunRecord[] = [];
  for (const [qd, row] of Object.entries(SEED_001)) {
    for (const [engine, kiops] of Object.entries(row)) {
      out.push(makeRecord({ ...o, engine: engine as EngineName, ioDepth: Number(qd), iops: kiops * 1000 }));
    }
  }
  return out;
}

export function tmpDir(prefix = 'nvmebench-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
