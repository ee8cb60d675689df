#!/usr/bin/env node
// The import graph of src/: fails on any import cycle, and on any file that
// imports from a place ranked above its own. Reads `from './x.js'` in
// src/**/*.ts, type imports too.
// node scripts/check-cycles.mjs [--json] [--src DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcFlag = process.argv.indexOf('--src');
const src = srcFlag > 0 ? path.resolve(process.argv[srcFlag + 1]) : path.join(root, 'src');

/**
 * The layers, lowest first: a file may import from its own folder and from
 * the places listed before it, never from one listed after. The loose files
 * in src/ (errors.ts, model.ts, version.ts) are the bottom, cli.ts the top.
 * A folder missing from this list fails the check until it is given a place.
 */
const LAYERS = ['(root)', 'system', 'native', 'target', 'vfio', 'engines', 'inventory', 'plan', 'analysis', 'explain', 'output', 'export', 'fleet', 'run', 'lab', 'compat', 'commands', 'cli.ts'];

function tsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const rel = (file) => path.relative(src, file).split(path.sep).join('/');
const graph = new Map();
for (const file of tsFiles(src)) {
  const text = fs.readFileSync(file, 'utf8');
  const deps = [...text.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)\.js'/g)].map((m) => rel(path.resolve(path.dirname(file), m[1] + '.ts')));
  graph.set(rel(file), [...new Set(deps)]);
}

// Tarjan's strongly connected components: every component of two or more files is a cycle.
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
let counter = 0;
function visit(v) {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const component = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    component.push(w);
  } while (w !== v);
  if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
}
for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);

/** A file's place in LAYERS: its folder, cli.ts, or (root) for the other loose files. */
const place = (file) => (file.includes('/') ? file.split('/')[0] : file === 'cli.ts' ? 'cli.ts' : '(root)');
const rank = (file) => LAYERS.indexOf(place(file));
const unranked = [...new Set([...graph.keys()].filter((f) => rank(f) < 0).map(place))].sort();
const violations = [];
for (const [file, deps] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
  for (const dep of deps) {
    if (place(dep) !== place(file) && rank(dep) > rank(file)) violations.push(`${file} imports ${dep}`);
  }
}

if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify({ layers: LAYERS, cycles, violations, unranked }, null, 2) + '\n');
} else {
  for (const c of cycles) process.stdout.write(`cycle among: ${c.join(', ')}\n`);
  for (const v of violations) process.stdout.write(`layering: ${v}\n`);
  for (const u of unranked) process.stdout.write(`layering: ${u} has no place in LAYERS\n`);
  if (!cycles.length && !violations.length && !unranked.length) process.stdout.write(`${graph.size} files, no import cycle, layering holds\n`);
}
process.exit(cycles.length || violations.length || unranked.length ? 1 : 0);
