// The one file that loads the native addon. Everything else goes through the
// typed functions here; the handle stays opaque.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { LiveStats, NativeJob } from './model.js';
import { runError } from './errors.js';

export interface NativeWorkerResult {
  ios: number;
  bytes: number;
  readIos: number;
  writeIos: number;
  submitCalls: number;
  reapCalls: number;
  submitted: number;
  reaped: number;
  errors: number;
  userUs: number;
  sysUs: number;
  elapsedUs: number;
}

export interface NativeRunResult {
  workers: NativeWorkerResult[];
  histogram: number[];
  latencyCount: number;
  latencySumNs: number;
  latencyMinNs: number;
  latencyMaxNs: number;
  verifiedBlocks: number;
  verifyFailures: number;
  errors: number;
  stopped: 'done' | 'interrupted' | 'error';
  errorMessage: string;
}

export interface NvmeIdentify {
  ctrl: {
    model: string;
    serial: string;
    firmware: string;
    vid: number;
    mdts: number;
    cntlid: number;
    version: number;
    oacs: number;
    oncs: number;
    vwc: number;
    nn: number;
  };
  ns?: {
    nsid: number;
    nsze: number;
    ncap: number;
    nuse: number;
    lbaSize: number;
    metaSize: number;
    extendedMeta: number;
    lbaFormat: number;
    nlbaf: number;
    dps: number;
  };
}

declare const runHandleBrand: unique symbol;
export type RunHandle = { readonly [runHandleBrand]: true };

interface NativeAddon {
  start(job: NativeJob): RunHandle;
  stats(handle: RunHandle): LiveStats;
  stop(handle: RunHandle): void;
  wait(handle: RunHandle): Promise<NativeRunResult>;
  nvmeIdentify(devicePath: string, nsid?: number): NvmeIdentify;
  nvmeStatusString(status: number): string;
  histogramLayout(): number[];
}

/** An error thrown by the addon carries the errno name in code. */
export interface NativeError extends Error {
  code?: string;
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon) return addon;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(here, '..', '..');
  const require = createRequire(import.meta.url);
  const candidates = [path.join(root, 'build', 'Release', 'nvmebench_native.node'), path.join(root, 'build', 'Debug', 'nvmebench_native.node')];
  for (const file of candidates) {
    try {
      addon = require(file) as NativeAddon;
      return addon;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') {
        throw runError(`the native engine at ${file} failed to load: ${(err as Error).message}`, 'rebuild it with: npm rebuild');
      }
    }
  }
  throw runError('the native engine is not built', 'run npm install in the nvmebench directory (it needs python3, make and g++)');
}
