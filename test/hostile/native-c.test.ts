// The C unit tests: every native/test/*_test.c is a program that #includes the
// .c unit it tests (libvfn's manner) and exits 0 when its checks hold. Each is
// built here with cc and the address and undefined-behaviour sanitizers, so an
// out-of-range shift or an overflow fails the test even where the result looks right.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../cli.js';

const TEST_DIR = path.join(ROOT, 'native', 'test');
// The native/ subsystem folders, as binding.gyp's include_dirs: `#include "nvme.h"` finds its header wherever it lives.
const INCLUDES = ['core', 'engines', 'nvme', 'vfio', 'workload', 'addon'].flatMap((dir) => ['-I', path.join(ROOT, 'native', dir)]);
const CFLAGS = ['-std=gnu11', '-D_GNU_SOURCE', '-O1', '-g', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

let out = '';
before(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-ctest-'));
});
after(() => fs.rmSync(out, { recursive: true, force: true }));

const sources = fs.readdirSync(TEST_DIR).filter((f) => f.endsWith('_test.c')).sort();

test('native/test has C unit tests', () => {
  assert.ok(sources.length > 0, `no *_test.c in ${TEST_DIR}`);
});

for (const source of sources) {
  test(`C unit test ${source}`, () => {
    const exe = path.join(out, source.replace(/\.c$/, ''));
    const build = spawnSync('cc', [...CFLAGS, ...INCLUDES, path.join(TEST_DIR, source), '-o', exe, '-lpthread'], { encoding: 'utf8' });
    assert.equal(build.error, undefined, `cannot run cc: ${build.error?.message} (install gcc)`);
    assert.equal(build.status, 0, `cc ${source} failed:\n${build.stderr}`);
    const run = spawnSync(exe, [], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `${source} failed:\n${run.stdout}${run.stderr}`);
  });
}
