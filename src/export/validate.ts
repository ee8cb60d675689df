// Validation of what regress, plot and merge read against the published schema
// of its version (results/schema/v<N>/, written by scripts/gen-schema.mjs). Ajv
// compiles a schema the first time a file of that version is read, never in a
// benchmark run. A violation is one line: file, record or line, field, and what
// was expected.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { usageError, type BenchError } from '../errors.js';
import { csvKind, KIND_EXPECTED } from './schema.js';

// Loaded on first use: a benchmark run never loads ajv.
const require = createRequire(import.meta.url);

/** results/schema/ from dist/src/export/ (the compiled file) in the package. */
const SCHEMA_DIR = new URL('../../../results/schema/', import.meta.url);

export type SchemaKind = 'json' | 'csv';
const FILE: Record<SchemaKind, string> = { json: 'results.schema.json', csv: 'results-csv-row.schema.json' };

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

/** The published schema of this version and kind, compiled once per process. */
function validator(kind: SchemaKind, version: number): ValidateFunction {
  const key = `${kind}/${version}`;
  let v = compiled.get(key);
  if (!v) {
    if (!ajv) {
      const { Ajv2020: AjvClass } = require('ajv/dist/2020.js') as { Ajv2020: new (opts: object) => Ajv2020 };
      const addFormats = require('ajv-formats') as (a: Ajv2020) => Ajv2020;
      ajv = addFormats(new AjvClass({ allErrors: false, strict: true }));
    }
    v = ajv.compile(loadSchema(kind, version));
    compiled.set(key, v);
  }
  return v;
}

/** A published schema file, parsed. */
export function loadSchema(kind: SchemaKind, version: number): object {
  return JSON.parse(readFileSync(new URL(`v${version}/${FILE[kind]}`, SCHEMA_DIR), 'utf8')) as object;
}

function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return v === undefined ? 'nothing' : (JSON.stringify(v) ?? typeof v);
}

/** What ajv's error says was expected, in words. */
function expected(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'const':
      return `expected ${shown(p.allowedValue)}`;
    case 'enum':
      return `expected one of ${(p.allowedValues as unknown[]).map((x) => String(x)).join(', ')}`;
    case 'type':
      return `expected ${String(p.type).replace(',', ' or ')}`;
    case 'format':
      return `expected a ${String(p.format)}`;
    case 'additionalProperties':
      return `${String(p.additionalProperty)} is not in the schema`;
    default:
      return `expected it to ${(e.message ?? 'match the schema').replace(/^must /, '')}`;
  }
}

const FIX = 'fix that field or re-export the file with nvmebench; the schema is in results/schema/';

/**
 * One CSV row (values keyed by column) against the CSV row schema of its
 * version: undefined when it conforms, else the violation as a usageError.
 */
export function csvRowViolation(values: Record<string, string>, version: number, where: string): BenchError | undefined {
  const validate = validator('csv', version);
  if (validate(values)) return undefined;
  const e = validate.errors![0]!;
  if (e.keyword === 'required') return usageError(`${where}: column ${String(e.params.missingProperty)} is missing (CSV schema v${version})`, FIX);
  if (e.keyword === 'additionalProperties') return usageError(`${where}: column ${String(e.params.additionalProperty)} is not in CSV schema v${version}`, FIX);
  const column = e.instancePath.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
  return usageError(`${where}, column ${column}: ${shown(values[column])} is not ${KIND_EXPECTED[csvKind(column)]} (CSV schema v${version})`, FIX);
}

/**
 * A parsed JSON results document against the JSON schema of its version:
 * undefined when it conforms, else the first violation as a usageError.
 */
export function jsonViolation(doc: unknown, version: number, file: string): BenchError | undefined {
  const validate = validator('json', version);
  if (validate(doc)) return undefined;
  const e = validate.errors![0]!;
  const path = e.instancePath.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  let where = file;
  let value: unknown = doc;
  for (const k of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[k] : undefined;
  if (path[0] === 'records' && path.length >= 2) {
    where += ` record ${Number(path[1]) + 1}`;
    path.splice(0, 2);
  }
  if (e.keyword === 'required') {
    path.push(String(e.params.missingProperty));
    return usageError(`${where}, ${path.join('.')}: missing (JSON schema v${version})`, FIX);
  }
  const field = path.length ? path.join('.') : 'the document';
  return usageError(`${where}, ${field}: ${shown(value)}: ${expected(e)} (JSON schema v${version})`, FIX);
}
