import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { BenchError } from '../src/errors.js';
import { toCsv } from '../src/export/csv.js';
import { toJson } from '../src/export/json.js';
import { plotSpec, renderSvg, writePlot } from '../src/export/plot.js';
import { register, defaultPlotPath } from '../src/commands/plot.js';
import { makeRecord, makeRepeats, seed001Records, tmpDir } from './fixtures.js';
import { buildResults } from '../src/analysis/results.js';

/** Minimal XML well-formedness check: every tag closed, in order, one root. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  let roots = 0;
  const re = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    const between = body.slice(last, m.index);
    assert.ok(!between.includes('<'), `stray "<" before offset ${m.index}: ${between.slice(0, 80)}`);
    last = re.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong tag at ${m.index}`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  assert.ok(!body.slice(last).includes('<'), 'stray "<" at the end');
  assert.deepEqual(stack, [], 'unclosed tags');
  assert.equal(roots, 1, 'one root element');
}

function legendLabels(svg: string): string[] {
  return [...svg.matchAll(/<g class="mark-text role-legend-label"[^>]*><text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

function lineSeries(svg: string): number {
  return (svg.match(/class="mark-line role-mark/g) ?? []).length;
}

test('IOPS plot: well-formed SVG, one line and one legend entry per engine', async () => {
  const dir = tmpDir();
  const file = join(dir, 'chart.svg');
  await writePlot(buildResults(seed001Records()), file);
  const svg = readFileSync(file, 'utf8');
  assert.match(svg, /^<svg /);
  assertWellFormedXml(svg);
  assert.deepEqual(legendLabels(svg), ['uring', 'pt', 'uring-poll', 'pt-poll']);
  assert.equal(lineSeries(svg), 4);
  assert.match(svg, />queue depth</);
  assert.match(svg, />IOPS</);
  // Each line passes through the 3 QDs: a path with 3 points ("M…L…L…").
  const paths = [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*><path [^>]*d="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(paths.length, 4);
  for (const d of paths) assert.equal((d.match(/L/g) ?? []).length, 2, d);
});

test('two engines give two lines; error bars appear with repeats', async () => {
  const recs = [8, 32].flatMap((qd) => [
    ...makeRepeats([100e3 * qd, 101e3 * qd, 99e3 * qd], { engine: 'psync', ioDepth: qd }),
    ...makeRepeats([120e3 * qd, 121e3 * qd, 119e3 * qd], { engine: 'aio', ioDepth: qd }),
  ]);
  const svg = await renderSvg(plotSpec(buildResults(recs), { metric: 'lat_p99_us' }));
  assertWellFormedXml(svg);
  assert.deepEqual(legendLabels(svg), ['psync', 'aio']);
  assert.equal(lineSeries(svg), 2);
  assert.match(svg, /p99 latency \(µs\)/);
  assert.match(svg, /class="mark-rule role-mark/, 'σ bars drawn as rules');
});

test('latency plot uses the JSON histograms up to p99.99, the CSV columns otherwise', async () => {
  const recs = seed001Records().filter((r) => r.ioDepth === 64);
  const svg = await renderSvg(plotSpec(buildResults(recs), { latency: true }));
  assertWellFormedXml(svg);
  assert.equal(lineSeries(svg), 4);
  for (const p of ['p50', 'p90', 'p99', 'p99.9', 'p99.99']) assert.match(svg, new RegExp(`>${p.replace('.', '\\.')}<`), p);
  const noHist = recs.map((r) => ({ ...r, histogram: [] }));
  const svg2 = await renderSvg(plotSpec(buildResults(noHist), { latency: true }));
  assert.doesNotMatch(svg2, />p99\.99</);
  assert.match(svg2, />p99\.9</);
  const spec = plotSpec(buildResults(recs), { latency: true }) as { data: { values: Array<{ engine: string; percentile: string; value: number }> } };
  const u50 = spec.data.values.find((v) => v.engine === 'uring' && v.percentile === 'p50')!;
  assert.ok(Math.abs(u50.value - recs[0].latency.p50Us) < recs[0].latency.p50Us * 0.016, `${u50.value} vs ${recs[0].latency.p50Us}`);
});

test('several QDs in a latency plot become facets, in QD order', () => {
  const spec = plotSpec(buildResults(seed001Records()), { latency: true }) as { facet: { sort: string[] } };
  assert.deepEqual(spec.facet.sort, ['QD 8', 'QD 64', 'QD 256']);
});

test('emulated devices are named in the chart', async () => {
  const svg = await renderSvg(plotSpec(buildResults([makeRecord({ target: { emulated: true, model: 'QEMU NVMe Ctrl' } })])));
  assert.match(svg, /emulated device \(QEMU NVMe Ctrl\)/);
});

test('unknown metric and no usable results are usage errors', () => {
  assert.throws(() => plotSpec(buildResults(seed001Records()), { metric: 'speed' }), (e: unknown) => e instanceof BenchError && /unknown metric "speed"/.test(e.message));
  assert.throws(() => plotSpec(buildResults([makeRecord({ status: 'failed' })])), (e: unknown) => e instanceof BenchError && e.kind === 'usage');
});

test('plot command reads CSV or JSON and writes the SVG', async () => {
  const dir = tmpDir();
  const csv = join(dir, 'r.csv');
  const json = join(dir, 'r.json');
  writeFileSync(csv, toCsv(seed001Records()));
  writeFileSync(json, toJson(seed001Records()));
  const run = async (args: string[]): Promise<void> => {
    const program = new Command();
    program.exitOverride();
    register(program);
    const err = process.stderr.write.bind(process.stderr);
    (process.stderr as { write: unknown }).write = (): boolean => true;
    try {
      await program.parseAsync(['node', 'nvmebench', 'plot', ...args]);
    } finally {
      (process.stderr as { write: unknown }).write = err;
    }
  };
  const out = join(dir, 'c.svg');
  await run([csv, '-o', out, '--metric', 'cpu_ns_per_io']);
  assert.equal(lineSeries(readFileSync(out, 'utf8')), 4);
  await run([json, '--latency']);
  const lat = readFileSync(defaultPlotPath(json, true), 'utf8');
  assert.match(lat, />p99\.99</);
  assert.equal(defaultPlotPath('a/b.csv', false), 'a/b.svg');
  await assert.rejects(run([join(dir, 'none.csv'), '-o', out]), (e: unknown) => e instanceof BenchError && e.kind === 'usage');
});

test('defaults that differ by engine and QD (batches, fixed buffers) do not split the chart into facets', async () => {
  const records = [
    makeRecord({ engine: 'psync', ioDepth: 1, options: { batchSubmit: 1, batchComplete: 1, fixedBufs: false } }),
    makeRecord({ engine: 'uring', ioDepth: 1, options: { batchSubmit: 1, batchComplete: 1, fixedBufs: true } }),
    makeRecord({ engine: 'uring', ioDepth: 16, options: { batchSubmit: 4, batchComplete: 4, fixedBufs: true } }),
    makeRecord({ engine: 'aio', ioDepth: 1, options: { batchSubmit: 1, batchComplete: 1, fixedBufs: false } }),
    makeRecord({ engine: 'aio', ioDepth: 16, options: { batchSubmit: 4, batchComplete: 4, fixedBufs: false } }),
  ];
  const svg = await renderSvg(plotSpec(buildResults(records)));
  assert.equal((svg.match(/role-title-text/g) ?? []).length, 1, 'only the chart title: no facet titles');
  const paths = [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*><path [^>]*d="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(paths.filter((d) => d.includes('L')).length, 2, 'uring and aio each draw a line from QD 1 to 16');
});
