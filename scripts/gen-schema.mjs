#!/usr/bin/env node
// Write the results schema of the current version (SCHEMA_VERSION) to
// results/schema/v<N>/, derived from the code by src/export/schema.ts. Run it
// after adding or changing a results column or field (build first: npm run
// build). `--version 1` rewrites an older version's files; published versions
// should not change. `--check` writes nothing and exits 1 when the files differ.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { schemaFiles } = await import(join(root, 'dist/src/export/schema.js'));
const { SCHEMA_VERSION } = await import(join(root, 'dist/src/model.js'));

const at = process.argv.indexOf('--version');
const version = at > 0 ? Number(process.argv[at + 1]) : SCHEMA_VERSION;
const check = process.argv.includes('--check');
const dir = join(root, 'results', 'schema', `v${version}`);
let stale = 0;
for (const [name, text] of Object.entries(schemaFiles(version))) {
  const file = join(dir, name);
  let old = '';
  try {
    old = readFileSync(file, 'utf8');
  } catch {}
  if (old === text) continue;
  stale++;
  if (check) {
    process.stderr.write(`gen-schema: ${file} is not what the code produces; run node scripts/gen-schema.mjs\n`);
    continue;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text);
  process.stdout.write(`gen-schema: wrote ${file}\n`);
}
process.exit(check && stale ? 1 : 0);
