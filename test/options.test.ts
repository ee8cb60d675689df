import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BenchError } from '../src/errors.js';
import { buildPlan, defaultBatch } from '../src/plan/options.js';

test('defaults fill every field', () => {
  const plan = buildPlan('randread', '/dev/ng0n1', {});
  assert.deepEqual(plan.ioDepths, [32]);
  assert.deepEqual(plan.blockSizes, [4096]);
  assert.equal(plan.threads, 1);
  assert.equal(plan.runtimeMs, 10_000);
  assert.equal(plan.readPercent, 100);
  assert.equal(plan.random, true);
  assert.equal(plan.fixedBufs, true);
  assert.deepEqual(plan.engines, []);
  assert.equal(plan.format, 'table');
});

test('lists make a matrix, duplicates dropped', () => {
  const plan = buildPlan('randread', 'x', { engine: 'uring,pt,uring', qd: '8,64,256,8', bs: '512,4k' });
  assert.deepEqual(plan.engines, ['uring', 'pt']);
  assert.deepEqual(plan.ioDepths, [8, 64, 256]);
  assert.deepEqual(plan.blockSizes, [512, 4096]);
  assert.equal(buildPlan('randread', 'x', { engine: 'all' }).engines, 'all');
});

test('workloads set direction and pattern', () => {
  assert.equal(buildPlan('write', 'x', {}).readPercent, 0);
  assert.equal(buildPlan('write', 'x', {}).random, false);
  assert.equal(buildPlan('randrw', 'x', { rwmixRead: '70' }).readPercent, 70);
  assert.equal(buildPlan('randrw', 'x', {}).readPercent, 50);
});

test('--ios without --runtime runs until the count', () => {
  const plan = buildPlan('randread', 'x', { ios: '1000' });
  assert.equal(plan.ioLimit, 1000);
  assert.equal(plan.runtimeMs, 0);
});

test('inconsistent options are usage errors', () => {
  const bad: Array<[Parameters<typeof buildPlan>, RegExp]> = [
    [['randread', 'x', { rwmixRead: '30' }], /applies to randrw/],
    [['randread', 'x', { runtime: '0' }], /measure nothing/],
    [['randread', 'x', { threads: '0' }], /out of range/],
    [['randread', 'x', { cpus: '4096' }], /this machine has CPUs/],
    [['randread', 'x', { format: 'xml' }], /not a format/],
    [['randread', 'x', { bs: '4k,1000' }], /not a multiple of 512/],
  ];
  for (const [args, pattern] of bad) {
    assert.throws(() => buildPlan(...args), (err: unknown) => err instanceof BenchError && err.exitCode === 2 && pattern.test(err.message), String(pattern));
  }
});

test('default batches follow t/io_uring: a quarter of the depth, at most 32', () => {
  assert.equal(defaultBatch(1), 1);
  assert.equal(defaultBatch(8), 2);
  assert.equal(defaultBatch(128), 32);
  assert.equal(defaultBatch(1024), 32);
});
