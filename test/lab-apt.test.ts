// --kernel and where a lab kernel comes from, without a boot or the network:
// the spec parser, which cached kernel a spec picks, and the reading of the
// host's apt sources (one-line and deb822) that the private backports state
// copies its URI and key from. The boot itself is lab-kernel.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BenchError } from '../src/errors.js';
import { packageRelease, parseAptSources, parseKernelSpec, specMatches } from '../src/lab/apt.js';
import { labOptionsFrom } from '../src/commands/lab.js';

test('--kernel: a series or a linux-image package; anything else is bad input', () => {
  assert.deepEqual(parseKernelSpec('6.12'), { kind: 'series', series: '6.12' });
  assert.deepEqual(parseKernelSpec(' 6.1 '), { kind: 'series', series: '6.1' });
  assert.deepEqual(parseKernelSpec('linux-image-6.12.95+deb12-amd64'), { kind: 'package', pkg: 'linux-image-6.12.95+deb12-amd64' });
  for (const bad of ['6', '6.1.2', 'latest', 'linux-image-amd64', '6.1;reboot', 'linux-image-6.1 x', '']) {
    assert.throws(() => parseKernelSpec(bad), (e: unknown) => e instanceof BenchError && e.kind === 'usage' && /--kernel/.test(e.message) && /6\.12/.test(e.fix ?? ''), bad);
  }
  assert.deepEqual(labOptionsFrom({}).kernel, { kind: 'series', series: '6.1' }, 'the default is bookworm\'s 6.1');
  assert.deepEqual(labOptionsFrom({ kernel: '6.12' }).kernel, { kind: 'series', series: '6.12' });
});

test('a spec picks its own cached kernel: 6.1 is not 6.12, a package is its release', () => {
  const k61 = ['6.1.0-56-amd64', 'linux-image-6.1.0-56-amd64 6.1.192-2'] as const;
  const k612 = ['6.12.95+deb12-amd64', 'linux-image-6.12.95+deb12-amd64 6.12.95-1~bpo12+1'] as const;
  const s61 = parseKernelSpec('6.1');
  const s612 = parseKernelSpec('6.12');
  assert.equal(specMatches(s61, ...k61), true);
  assert.equal(specMatches(s61, ...k612), false);
  assert.equal(specMatches(s612, ...k612), true);
  assert.equal(specMatches(s612, ...k61), false);
  const pkg = parseKernelSpec('linux-image-6.12.95+deb12-amd64');
  assert.equal(specMatches(pkg, ...k612), true);
  assert.equal(specMatches(pkg, ...k61), false);
  assert.equal(packageRelease('linux-image-6.12.95+deb12-amd64'), '6.12.95+deb12-amd64');
});

test('apt sources: one-line and deb822 entries, options, comments and disabled stanzas', () => {
  const oneLine = [
    '# a comment',
    'deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian bookworm main contrib',
    'deb-src http://mirror.example/debian bookworm main',
    'deb http://security.debian.org/debian-security bookworm-security main # trailing',
  ].join('\n');
  assert.deepEqual(parseAptSources(oneLine, false), [
    { uri: 'http://mirror.example/debian', suites: ['bookworm'], components: ['main', 'contrib'], signedBy: '/usr/share/keyrings/k.gpg' },
    { uri: 'http://security.debian.org/debian-security', suites: ['bookworm-security'], components: ['main'], signedBy: undefined },
  ]);
  const deb822 = [
    'Types: deb deb-src',
    'URIs: http://deb.debian.org/debian',
    'Suites: bookworm bookworm-updates',
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    'Types: deb',
    'URIs: http://off.example/debian',
    'Suites: bookworm',
    'Components: main',
    'Enabled: no',
    '',
    'Types: deb-src',
    'URIs: http://src.example/debian',
    'Suites: bookworm',
    'Components: main',
  ].join('\n');
  assert.deepEqual(parseAptSources(deb822, true), [
    { uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' },
  ]);
});
