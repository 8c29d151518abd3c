import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { ulid } from 'ulid';
import { parseBytes } from '../../shared/config.ts';
import { datasetSpec, duckdbType, type ColumnSpec, type DatasetSpec } from '../../shared/datasets.ts';
import { InputError, PreconditionFailedError, ValidationError, type ErrorDetail } from '../../shared/errors.ts';
import { hashFile } from '../../shared/hash.ts';
import { compactInstant, keys, type ObjectStore } from '../../shared/object-store.ts';
import { findBadLine, recordLines } from './jsonl.ts';

/** The largest JSON Lines record ingest reads (a transcript with its text). */
const MAX_JSON_RECORD_BYTES = 256 * 1024 * 1024;

/** The vendor file formats ingest reads. */
export type FileFormat = 'csv' | 'parquet' | 'jsonl';

export interface IngestFile {
  path: string;
  /** The name errors use (the user's file name, not a temp path). */
  name?: string;
  format?: FileFormat;
}

export interface IngestOptions {
  store: ObjectStore;
  tempDir: string;
  /** Ingest time: `recorded_at` of rows whose file has no `recorded_at` column. */
  recordedAt: string;
  /** How many problems one error lists at most. */
  maxDetails?: number;
  /**
   * The identity of this delivery — a CloudEvent's `source` and `id` — so that a redelivery
   * is ingested once: each part's id derives from it, the file's position and the file's bytes
   * (not a random ULID), and a part already stored under that key is taken as ingested before
   * (`existing: true`), not as an error. Without it (`hippo ingest`) every call appends new parts.
   * @example ingestFiles(c, 'prices', files, { ...options, deliveryId: '/hippo/sources/pubsub pubsub-vendor-42-…' })
   */
  deliveryId?: string;
}

export interface IngestedPart {
  key: string;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  recordedAt: string;
  /** Stored by an earlier delivery of the same `deliveryId`: this call wrote nothing. */
  existing?: boolean;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The part id of file `index` of a delivery: ULID-shaped (26 Crockford base32 characters, the
 * first 130 bits of a sha256), the same on every redelivery of the same bytes. A new delivery
 * that reuses an id with other bytes gets other parts, so nothing is silently dropped.
 */
export function deliveryPartId(deliveryId: string, index: number, fileSha256: string): string {
  const digest = createHash('sha256').update(`${deliveryId}\n${index}\n${fileSha256}`).digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 17)) bits = (bits << 8n) | BigInt(byte);
  bits >>= 6n; // 136 → 130 bits
  let id = '';
  for (let i = 0; i < 26; i++) {
    id = CROCKFORD[Number(bits & 31n)] + id;
    bits >>= 5n;
  }
  return id;
}

export function formatOf(file: IngestFile): FileFormat {
  if (file.format) return file.format;
  const name = (file.name ?? file.path).toLowerCase();
  if (name.endsWith('.parquet')) return 'parquet';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson') || name.endsWith('.json')) return 'jsonl';
  if (name.endsWith('.csv') || name.endsWith('.txt')) return 'csv';
  throw new ValidationError(`${file.name ?? file.path}: unknown file format (expected .csv, .parquet or .jsonl; compressed CSV is not supported)`, [
    { file: file.name ?? file.path, message: 'unknown format' },
  ]);
}

/**
 * Ingest (DESIGN §5): validate vendor files against their dataset's columns and append
 * them to the lake as immutable Parquet parts with `recorded_at`. All files of one call are
 * validated before anything is written; bad input names the file, row and column, and
 * leaves the lake unchanged.
 */
export async function ingestFiles(c: DuckDBConnection, dataset: string, files: IngestFile[], options: IngestOptions): Promise<IngestedPart[]> {
  const spec = datasetSpec(dataset);
  if (!spec) {
    throw new ValidationError(`unknown dataset "${dataset}"`, [{ field: 'dataset', value: dataset, message: 'unknown dataset' }]);
  }
  if (files.length === 0) throw new ValidationError('no files to ingest', [{ field: 'files', message: 'at least one file' }]);

  for (const f of files) {
    const st = await stat(f.path).catch(() => undefined);
    if (!st?.isFile()) {
      throw new InputError(`${f.name ?? f.path}: no such file`, [{ file: f.name ?? f.path, message: 'no such file' }]);
    }
  }

  // 1. Validate every file into a typed table. Nothing is in the store yet.
  const names = files.map((f) => f.name ?? basename(f.path));
  const counts: number[] = [];
  for (const [i, file] of files.entries()) counts.push(await stageFile(c, spec, file, names[i]!, `staged_${i}`, options));
  const across = await duplicatesAcrossFiles(c, spec, names);
  if (across.length) throw inputError(across[0]!.file!, across);

  // 2. Stage each as a Parquet part, sorted by its key.
  const staged: { file: string; path: string; rows: number; minRecordedAt: string }[] = [];
  for (const [i, name] of names.entries()) {
    const table = `staged_${i}`;
    const rows = counts[i]!;
    const path = join(options.tempDir, `${table}.parquet`);
    const order = spec.key.map(quotedIdentifier).join(', ');
    await c.run(`COPY (SELECT * FROM ${table} ORDER BY ${order}) TO ${quotedString(path)} (FORMAT parquet, COMPRESSION zstd)`);
    const min = await c.runAndReadAll(`SELECT strftime(min(recorded_at) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') FROM ${table}`);
    staged.push({ file: name, path, rows, minRecordedAt: String(min.getRowsJS()[0]![0]) });
    await c.run(`DROP TABLE ${table}`);
  }

  // 3. Upload. Keys name the part's earliest recorded_at, so readers can skip parts by `asOf`.
  const parts: IngestedPart[] = [];
  try {
    for (const [i, s] of staged.entries()) {
      const id = options.deliveryId === undefined ? ulid() : deliveryPartId(options.deliveryId, i, (await hashFile(files[i]!.path)).sha256);
      const key = keys.lakePart(spec.name, compactInstant(s.minRecordedAt), id);
      const { bytes, sha256 } = await hashFile(s.path);
      const part: IngestedPart = { key, file: s.file, rows: s.rows, bytes, sha256, recordedAt: s.minRecordedAt };
      try {
        await options.store.putFile(key, s.path, { ifNoneMatch: '*' });
      } catch (err) {
        // A redelivery (or a concurrent delivery) of what is already in the lake.
        if (!(err instanceof PreconditionFailedError) || options.deliveryId === undefined) throw err;
        part.existing = true;
      }
      parts.push(part);
    }
  } catch (err) {
    // A store failure half-way must not leave half an ingest behind (parts stored before stay).
    await Promise.allSettled(parts.filter((p) => !p.existing).map((p) => options.store.delete(p.key)));
    throw err;
  }
  return parts;
}

/** Reads one file into `table` (typed columns + recorded_at), or throws InputError naming what is wrong. */
async function stageFile(c: DuckDBConnection, spec: DatasetSpec, file: IngestFile, name: string, table: string, options: IngestOptions): Promise<number> {
  const format = formatOf(file);
  const raw = `raw_${table}`;
  const path = quotedString(file.path);
  let reader: string;
  if (format === 'csv') {
    // The header is read here, not sniffed: DuckDB's dialect sniffer can misjudge small files.
    const header = await csvHeader(file.path, name);
    const columns = header.map((h) => `${quotedString(h)}: 'VARCHAR'`).join(', ');
    reader = `read_csv(${path}, auto_detect = false, header = true, delim = ',', quote = '"', escape = '"', strict_mode = true, null_padding = false, columns = {${columns}})`;
  } else if (format === 'parquet') {
    reader = `read_parquet(${path})`;
  } else {
    // Every value as the vendor's text (DuckDB's type sniffing would turn an offset
    // timestamp into a bare one); one record per line, megabytes each if need be.
    // DuckDB sizes its read buffer from maximum_object_size: within a small memory_limit
    // (a 512 MiB tier) the largest record must be smaller, or nothing can be read at all.
    const limit = parseBytes(String((await c.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRowsJS()[0]![0]));
    const maxObject = Math.min(MAX_JSON_RECORD_BYTES, limit ? Math.floor(limit / 8) : MAX_JSON_RECORD_BYTES);
    const objects = `read_ndjson_objects(${path}, maximum_object_size = ${maxObject})`;
    let present: string[];
    try {
      const nonObjects = await c.runAndReadAll(`SELECT count(*) FROM ${objects} WHERE json_type(json) <> 'OBJECT'`);
      if (Number(nonObjects.getRowsJS()[0]![0]) > 0) throw new Error('a line is not a JSON object');
      present = (await c.runAndReadAll(`SELECT DISTINCT unnest(json_keys(json)) FROM ${objects}`)).getRowsJS().map((r) => String(r[0]));
    } catch (err) {
      throw await jsonlError(err as Error, file.path, name);
    }
    checkColumns(spec, present, name);
    reader = `(SELECT ${present.map((k) => `json ->> ${quotedString(`$."${k.replace(/"/g, '\\"')}"`)} AS ${quotedIdentifier(k)}`).join(', ')} FROM ${objects})`;
  }
  try {
    // CREATE TABLE keeps file order, so rowid + 1 is the data row number (row 1 = first row after the header).
    await c.run(`CREATE OR REPLACE TABLE ${raw} AS SELECT * FROM ${reader}`);
  } catch (err) {
    throw format === 'jsonl' ? await jsonlError(err as Error, file.path, name) : readError(err as Error, name, format);
  }
  try {
    const described = await c.runAndReadAll(`SELECT column_name FROM (DESCRIBE ${raw})`);
    const present = described.getRowsJS().map((r) => String(r[0]));
    checkColumns(spec, present, name);
    const count = Number((await c.runAndReadAll(`SELECT count(*) FROM ${raw}`)).getRowsJS()[0]![0]);
    if (count === 0) throw new InputError(`${name}: has no data rows`, [{ file: name, message: 'no data rows' }]);

    const hasRecordedAt = present.includes('recorded_at');
    const columns: ColumnSpec[] = [...spec.columns.filter((col) => present.includes(col.name))];
    const checked = hasRecordedAt ? [...columns, { name: 'recorded_at', type: 'timestamp' as const, required: true }] : columns;
    const problems = await findProblems(c, raw, checked, name, options.maxDetails ?? 10);
    if (problems.length) throw inputError(name, format === 'jsonl' ? await asLines(file.path, problems) : problems);

    const select = spec.columns.map((col) =>
      present.includes(col.name)
        ? `${typedExpr(quotedIdentifier(col.name), col)} AS ${quotedIdentifier(col.name)}`
        : `NULL::${duckdbType[col.type]} AS ${quotedIdentifier(col.name)}`,
    );
    const recorded = hasRecordedAt ? `CAST(CAST(recorded_at AS VARCHAR) AS TIMESTAMPTZ)` : `${quotedString(options.recordedAt)}::TIMESTAMPTZ`;
    await c.run(`CREATE OR REPLACE TABLE ${table} AS SELECT ${select.join(', ')}, ${recorded} AS recorded_at FROM ${raw} ORDER BY rowid`);
    const dupes = await duplicateKeys(c, table, spec, name);
    if (dupes.length) throw inputError(name, format === 'jsonl' ? await asLines(file.path, dupes) : dupes);
    const rules = await ruleProblems(c, table, spec, name);
    if (rules.length) throw inputError(name, rules);
    return count;
  } finally {
    await c.run(`DROP TABLE IF EXISTS ${raw}`);
  }
}

function checkColumns(spec: DatasetSpec, present: string[], file: string): void {
  const known = new Set([...spec.columns.map((c) => c.name), 'recorded_at']);
  const missing = spec.columns.filter((c) => c.required && !present.includes(c.name)).map((c) => c.name);
  const unknown = present.filter((p) => !known.has(p));
  const details: ErrorDetail[] = [
    ...missing.map((column) => ({ file, column, message: `required column "${column}" is missing` })),
    ...unknown.map((column) => ({ file, column, message: `unknown column "${column}" (${spec.name} has ${[...known].join(', ')})` })),
  ];
  if (details.length) throw inputError(file, details);
}

const ISO_DATE = `'^\\d{4}-\\d{2}-\\d{2}$'`;
/** A timestamp must say its offset (`Z`, `+00`, `-05:00`): a bare local time is ambiguous. */
const WITH_OFFSET = `'^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s*(Z|[+-]\\d{2}(:?\\d{2})?)$'`;

/** SQL that is true when the (VARCHAR) value `v` is not a valid value of the column's type. */
function invalidExpr(v: string, col: ColumnSpec): string {
  switch (col.type) {
    case 'varchar':
      return 'false';
    case 'date':
      return `NOT regexp_matches(${v}, ${ISO_DATE}) OR TRY_CAST(${v} AS DATE) IS NULL`;
    case 'double':
      return `TRY_CAST(${v} AS DOUBLE) IS NULL OR NOT isfinite(TRY_CAST(${v} AS DOUBLE))`;
    case 'integer':
      return `NOT regexp_matches(${v}, '^[+-]?\\d+$') OR TRY_CAST(${v} AS INTEGER) IS NULL`;
    case 'timestamp':
      return `NOT regexp_matches(${v}, ${WITH_OFFSET}) OR TRY_CAST(${v} AS TIMESTAMPTZ) IS NULL`;
    case 'instant_or_date':
      return `NOT ((regexp_matches(${v}, ${ISO_DATE}) AND TRY_CAST(${v} AS DATE) IS NOT NULL) OR (regexp_matches(${v}, ${WITH_OFFSET}) AND TRY_CAST(${v} AS TIMESTAMPTZ) IS NOT NULL))`;
  }
}

const expected: Record<ColumnSpec['type'], string> = {
  varchar: 'text',
  date: 'a date (YYYY-MM-DD)',
  double: 'a finite number',
  integer: 'an integer',
  timestamp: 'a timestamp with an offset (e.g. 2019-07-18T16:05:00-04:00)',
  instant_or_date: 'a date (YYYY-MM-DD) or a timestamp with an offset',
};

function typedExpr(v: string, col: ColumnSpec): string {
  const s = `NULLIF(trim(CAST(${v} AS VARCHAR)), '')`;
  return col.type === 'instant_or_date' ? s : `CAST(${s} AS ${duckdbType[col.type]})`;
}

async function findProblems(c: DuckDBConnection, raw: string, columns: ColumnSpec[], file: string, max: number): Promise<ErrorDetail[]> {
  const checks = columns.map((col) => {
    const v = `NULLIF(trim(CAST(${quotedIdentifier(col.name)} AS VARCHAR)), '')`;
    const missing = col.required ? `${v} IS NULL` : 'false';
    return `SELECT rowid + 1 AS row, ${quotedString(col.name)} AS col, CAST(${quotedIdentifier(col.name)} AS VARCHAR) AS value, ${v} IS NULL AS empty
      FROM ${raw} WHERE ${missing} OR (${v} IS NOT NULL AND (${invalidExpr(v, col)}))`;
  });
  const r = await c.runAndReadAll(`SELECT * FROM (${checks.join(' UNION ALL ')}) ORDER BY row, col LIMIT ${max}`);
  return r.getRowObjectsJS().map((p) => {
    const col = columns.find((x) => x.name === p.col)!;
    const message = p.empty ? 'required value is empty' : `${JSON.stringify(p.value)} is not ${expected[col.type]}`;
    return { file, row: Number(p.row), column: String(p.col), value: p.value ?? null, message };
  });
}

/**
 * Two rows with the same key and the same `recorded_at` leave no way to say which one the
 * vendor meant. Checked on the typed values, so ` S1` and `S1` are the same sid.
 */
async function duplicateKeys(c: DuckDBConnection, table: string, spec: DatasetSpec, file: string): Promise<ErrorDetail[]> {
  const key = [...spec.key, 'recorded_at'].map(quotedIdentifier).join(', ');
  const r = await c.runAndReadAll(
    `SELECT list(rowid + 1 ORDER BY rowid) AS rows FROM ${table} GROUP BY ${key} HAVING count(*) > 1 ORDER BY min(rowid) LIMIT 5`,
  );
  return r.getRowObjectsJS().map((d) => {
    const rows = (d.rows as bigint[]).map(Number);
    return { file, row: rows[1], column: spec.key.join(','), message: `row ${rows[1]} repeats the key (${spec.key.join(', ')}) of row ${rows[0]}` };
  });
}

/** The same key with the same `recorded_at` in two files of one ingest: as ambiguous as within one file. */
async function duplicatesAcrossFiles(c: DuckDBConnection, spec: DatasetSpec, names: string[]): Promise<ErrorDetail[]> {
  if (names.length < 2) return [];
  const key = [...spec.key, 'recorded_at'].map(quotedIdentifier).join(', ');
  const all = names.map((_, i) => `SELECT ${key}, ${i} AS f, rowid + 1 AS row FROM staged_${i}`).join(' UNION ALL ');
  const r = await c.runAndReadAll(
    `SELECT list(f ORDER BY f, row) AS files, list(row ORDER BY f, row) AS rows FROM (${all}) GROUP BY ${key} HAVING count(DISTINCT f) > 1 LIMIT 5`,
  );
  return r.getRowObjectsJS().map((d) => {
    const [fa, fb] = (d.files as number[]).map(Number);
    const [ra, rb] = (d.rows as bigint[]).map(Number);
    return {
      file: names[fb!]!, row: rb, column: spec.key.join(','),
      message: `row ${rb} repeats the key (${spec.key.join(', ')}) and recorded_at of ${names[fa!]} row ${ra}`,
    };
  });
}

/** Rules beyond types: spans that end before they start. */
async function ruleProblems(c: DuckDBConnection, table: string, spec: DatasetSpec, file: string): Promise<ErrorDetail[]> {
  const spans: Record<string, [string, string, string]> = {
    securities: ['listed_on', 'delisted_on', '>='],
    symbols: ['valid_from', 'valid_to', '>='],
    memberships: ['added_on', 'removed_on', '>'],
  };
  const span = spans[spec.name];
  if (!span) return [];
  const [from, to, op] = span;
  const r = await c.runAndReadAll(
    `SELECT rowid + 1 AS row, CAST(${to} AS VARCHAR) AS v, CAST(${from} AS VARCHAR) AS f FROM ${table} WHERE ${to} IS NOT NULL AND NOT (${to} ${op} ${from}) ORDER BY rowid LIMIT 5`,
  );
  return r.getRowObjectsJS().map((p) => ({
    file, row: Number(p.row), column: to, value: p.v,
    message: `${to} ${p.v} is ${op === '>' ? 'not after' : 'before'} ${from} ${p.f}`,
  }));
}

/** DuckDB's JSON reader error, restated as the file line that is wrong. */
async function jsonlError(err: Error, path: string, name: string): Promise<InputError> {
  const bad = await findBadLine(path);
  if (bad) return new InputError(`${name}: line ${bad.line}: ${bad.message}`, [{ file: name, line: bad.line, message: bad.message }], err);
  return readError(err, name, 'jsonl');
}

/** JSON Lines problems name file lines (`line`), not record numbers: a blank line in between shifts them. */
async function asLines(path: string, details: ErrorDetail[]): Promise<ErrorDetail[]> {
  const lines = await recordLines(path, details.filter((d) => d.row !== undefined).map((d) => d.row! - 1));
  return details.map(({ row, ...d }) => (row === undefined ? d : { ...d, line: lines.get(row - 1) ?? row }));
}

function inputError(file: string, details: ErrorDetail[]): InputError {
  const d = details[0]!;
  const where = [d.line !== undefined ? `line ${d.line}` : d.row !== undefined ? `row ${d.row}` : undefined, d.column ? `column "${d.column}"` : undefined].filter(Boolean).join(', ');
  const more = details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? 's' : ''})` : '';
  return new InputError(`${file}: ${where ? where + ': ' : ''}${d.message}${more}`, details);
}

/** The column names on a CSV file's first line. */
async function csvHeader(path: string, name: string): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 16);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    const line = text.split(/\r?\n/, 1)[0] ?? '';
    if (!line.trim()) throw new InputError(`${name}: is empty (expected a header row)`, [{ file: name, row: 0, message: 'no header row' }]);
    return line.split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1').replace(/""/g, '"'));
  } finally {
    await handle.close();
  }
}

/** DuckDB's reader error, restated with the file's name and the data row. */
function readError(err: Error, name: string, format: FileFormat): InputError {
  const line = /CSV Error on Line: (\d+)/.exec(err.message);
  const cols = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(err.message);
  if (line) {
    const row = Number(line[1]) - 1;
    // DuckDB stops counting one past the expected number, so "more" is all it knows.
    const what = cols ? `expected ${cols[1]} columns, found ${Number(cols[2]) > Number(cols[1]) ? 'more' : cols[2]}` : firstLine(err.message.split('\n')[0]!.replace(/^.*?Error: /, ''));
    return new InputError(`${name}: row ${row}: ${what}`, [{ file: name, row, message: what }], err);
  }
  return new InputError(`${name}: cannot be read as ${format}: ${firstLine(err.message)}`, [{ file: name, message: firstLine(err.message) }], err);
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}
