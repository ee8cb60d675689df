import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BenchError } from '../src/errors.js';
import { parseCount, parseCpuList, parseDuration, parseList, parseSize } from '../src/plan/units.js';

test('sizes use powers of 1024 like fio', () => {
  assert.equal(parseSize('512', '--bs'), 512);
  assert.equal(parseSize('4k', '--bs'), 4096);
  assert.equal(parseSize('4K', '--bs'), 4096);
  assert.equal(parseSize('128KiB', '--bs'), 131072);
  assert.equal(parseSize('1m', '--bs'), 1048576);
  assert.equal(parseSize('1g', '--size'), 1073741824);
  assert.equal(parseSize('1.5k', '--bs'), 1536);
});

test('a size that is not one is a usage error naming the option', () => {
  for (const bad of ['', 'abc', '4q', '-1', '0.3']) {
    assert.throws(
      () => parseSize(bad, '--bs'),
      (err: unknown) => err instanceof BenchError && err.exitCode === 2 && err.message.includes('--bs'),
      bad,
    );
  }
});

test('durations', () => {
  assert.equal(parseDuration('10', '--runtime'), 10_000);
  assert.equal(parseDuration('500ms', '--runtime'), 500);
  assert.equal(parseDuration('2m', '--runtime'), 120_000);
  assert.equal(parseDuration('1.5s', '--runtime'), 1500);
  assert.throws(() => parseDuration('soon', '--runtime'), BenchError);
});

test('counts and lists', () => {
  assert.deepEqual(parseList('8, 64,256,', (s) => parseCount(s, '--qd', 1)), [8, 64, 256]);
  assert.throws(() => parseCount('0', '--qd', 1), /out of range/);
  assert.throws(() => parseCount('1.5', '--qd', 1), /not a whole number/);
  assert.deepEqual(parseCpuList('0-3,8'), [0, 1, 2, 3, 8]);
  assert.throws(() => parseCpuList('3-1'), /backwards/);
});
