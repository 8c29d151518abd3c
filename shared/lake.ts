// Reading the lake (DESIGN §4–5): parts are immutable and append-only; a dataset "as of" an
// instant is every row recorded by then, the latest recorded row winning per natural key.
import { quotedIdentifier, type DuckDBConnection } from '@duckdb/node-api';
import { datasets, duckdbType, type DatasetSpec } from './datasets.ts';
import { literalList } from './duckdb.ts';
import type { Partition } from './params.ts';
import { InputError } from './errors.ts';
import { keys, parseCompactInstant, type ObjectStore } from './object-store.ts';

/** Parts of a dataset that may hold rows recorded by `asOf`: the key names each part's earliest `recorded_at`. */
export async function lakeParts(store: ObjectStore, dataset: string, asOf: string): Promise<string[]> {
  const cutoff = Date.parse(asOf);
  const parts = await store.list(keys.lakePrefix(dataset));
  return parts
    .map((p) => p.key)
    .filter((key) => {
      const m = /\/part-(\d{8}T\d{9}Z)-[^/]+\.parquet$/.exec(key);
      const at = m ? parseCompactInstant(m[1]!) : undefined;
      return at !== undefined && Date.parse(at) <= cutoff;
    });
}

export interface LoadOptions {
  store: ObjectStore;
  tempDir: string;
  asOf: string;
  /** Datasets that must have rows: a step cannot run without them. */
  required?: readonly string[];
  /**
   * Only rows with `column` in [from, to] (inclusive), read straight from Parquet. The column
   * must belong to the dataset's key, so the filter never hides a correction of a kept row.
   */
  ranges?: Record<string, { column: string; from: string; to: string }>;
  /**
   * Only the rows of one partition (DESIGN §14): `column` in the half-open key range
   * [from, to) (no `from`: from the lowest; no `to`: to the highest) that partitionBounds
   * gives, read straight from Parquet. Parts are sorted by key, so the read skips the row
   * groups outside the range: P partitions read the dataset about once between them, not P
   * times. The column must belong to the dataset's key, like a range's.
   */
  partitions?: Record<string, KeyRange>;
  /**
   * Columns left in the Parquet parts (big text, say): the table gets `__file` and `__row`
   * instead, locating each kept row, and VIEW `<dataset>__parts` reads the parts with
   * `filename` and `file_row_number`, so a step fetches the deferred columns of the rows it
   * keeps by a join — streaming, never all at once.
   */
  defer?: Record<string, readonly string[]>;
}

/**
 * Creates one DuckDB table per dataset, named as the dataset, holding its rows as of
 * `asOf` (corrections applied). A dataset with no parts becomes an empty table with the
 * right columns. Returns the lineage: the part keys each dataset contributed.
 */
export async function loadDatasets(
  c: DuckDBConnection,
  names: readonly string[],
  options: LoadOptions,
): Promise<Record<string, string[]>> {
  const lineage: Record<string, string[]> = {};
  for (const name of names) {
    const spec = datasets[name]!;
    const parts = await lakeParts(options.store, name, options.asOf);
    if (parts.length === 0 && options.required?.includes(name)) {
      throw new InputError(`dataset ${name} has no rows recorded by ${options.asOf}: ingest it first (hippo ingest ${name} <file>)`, [
        { field: name, message: 'no lake parts' },
      ]);
    }
    const paths = await Promise.all(parts.map((k) => options.store.localPath(k, options.tempDir)));
    const range = options.ranges?.[name];
    if (range && !spec.key.includes(range.column)) throw new Error(`range filter on ${name}.${range.column}: not a key column`);
    const partition = options.partitions?.[name];
    if (partition && !spec.key.includes(partition.column)) throw new Error(`partition filter on ${name}.${partition.column}: not a key column`);
    const filters: PartsFilters = { range, partition };
    const values = [options.asOf, ...filterSql(filters).values];
    const deferred = options.defer?.[name] ?? [];
    const unknown = deferred.filter((d) => !spec.columns.some((col) => col.name === d) || spec.key.includes(d));
    if (unknown.length) throw new Error(`cannot defer ${name}.${unknown.join(', ')}: not a non-key column`);
    try {
      const ranked = paths.length ? await partsByInstant(c, parts, paths) : undefined;
      const sql = ranked ? latestPartSql(spec, ranked, filters, deferred) : tableSql(spec, paths, filters, deferred);
      await c.run(sql, values);
    } catch (err) {
      throw unreadablePart(err, name, parts, paths) ?? err;
    }
    if (deferred.length) {
      const source = paths.length
        ? `SELECT * FROM read_parquet(${literalList(paths)}, union_by_name = true, filename = true, file_row_number = true)`
        : `SELECT ${deferred.map((d) => `NULL::${duckdbType[spec.columns.find((col) => col.name === d)!.type]} AS ${quotedIdentifier(d)}`).join(', ')}, NULL::VARCHAR AS filename, NULL::BIGINT AS file_row_number WHERE false`;
      await c.run(`CREATE OR REPLACE VIEW ${quotedIdentifier(`${name}__parts`)} AS ${source}`);
    }
    lineage[name] = parts;
  }
  return lineage;
}

/**
 * TABLE `table` of the distinct values of a key column of `dataset` in [from, to], over the rows
 * recorded by `asOf` — without loading the rows: every version of a key has the same key
 * columns, so the set is the as-of set. What a partition of a step needs of the rows it does
 * not read (delisting-adjust: the panel dates come from every security's prices).
 */
export async function loadDistinct(
  c: DuckDBConnection,
  table: string,
  dataset: string,
  range: { column: string; from: string; to: string },
  options: Pick<LoadOptions, 'store' | 'tempDir' | 'asOf'>,
): Promise<void> {
  const spec = datasets[dataset]!;
  const col = spec.columns.find((x) => x.name === range.column);
  if (!col || !spec.key.includes(col.name)) throw new Error(`distinct ${dataset}.${range.column}: not a key column`);
  const parts = await lakeParts(options.store, dataset, options.asOf);
  const paths = await Promise.all(parts.map((k) => options.store.localPath(k, options.tempDir)));
  const name = quotedIdentifier(col.name);
  const type = duckdbType[col.type];
  const source = paths.length
    ? `SELECT DISTINCT ${name}::${type} AS ${name} FROM read_parquet(${literalList(paths)}, union_by_name = true)
       WHERE recorded_at <= $1::TIMESTAMPTZ AND ${name} BETWEEN $2 AND $3`
    : `SELECT NULL::${type} AS ${name}, $1::TIMESTAMPTZ AS _as_of, $2 AS _from, $3 AS _to WHERE false`;
  try {
    await c.run(`CREATE OR REPLACE TABLE ${quotedIdentifier(table)} AS SELECT ${name} FROM (${source})`, [options.asOf, range.from, range.to]);
  } catch (err) {
    throw unreadablePart(err, dataset, parts, paths) ?? err;
  }
}

/**
 * Partition `index` of `count` of a dataset's key column (DESIGN §14), as the key range
 * [from, to) that `loadDatasets`' `partitions` reads: the column's distinct values recorded by
 * `asOf`, sorted, cut into `count` runs of equal length. The first range is open below and the
 * last open above, so the ranges cover every value — also one a later read meets that this
 * one did not (another dataset's rows, say) — and each value is in exactly one. Every
 * partition of a run computes the same cuts: the same parts, the same `asOf`. With fewer
 * values than partitions some ranges are empty.
 */
export async function partitionBounds(
  c: DuckDBConnection,
  dataset: string,
  column: string,
  partition: Partition,
  options: Pick<LoadOptions, 'store' | 'tempDir' | 'asOf'>,
): Promise<KeyRange> {
  const spec = datasets[dataset]!;
  if (!spec.key.includes(column)) throw new Error(`partition bounds of ${dataset}.${column}: not a key column`);
  const { index, count } = partition;
  const parts = await lakeParts(options.store, dataset, options.asOf);
  const paths = await Promise.all(parts.map((k) => options.store.localPath(k, options.tempDir)));
  let cuts: unknown[] = [null, null, 0];
  if (paths.length) {
    try {
      const r = await c.runAndReadAll(
        `WITH v AS (SELECT DISTINCT ${quotedIdentifier(column)}::VARCHAR AS v FROM read_parquet(${literalList(paths)}, union_by_name = true) WHERE recorded_at <= $1::TIMESTAMPTZ),
              r AS (SELECT v, row_number() OVER (ORDER BY v) - 1 AS i, count(*) OVER () AS n FROM v)
         SELECT max(v) FILTER (WHERE i = ($2 * n) // $3), max(v) FILTER (WHERE i = (($2 + 1) * n) // $3), count(*) FROM r`,
        [options.asOf, index, count],
      );
      cuts = r.getRowsJS()[0]!;
    } catch (err) {
      throw unreadablePart(err, dataset, parts, paths) ?? err;
    }
  }
  const [lo, hi, n] = cuts;
  // Nothing recorded by asOf: partition 0 takes every key (none), the others the empty range.
  if (Number(n) === 0) return index === 0 ? { column } : { column, from: '', to: '' };
  return { column, ...(index > 0 ? { from: String(lo) } : {}), ...(index < count - 1 ? { to: String(hi) } : {}) };
}

/**
 * A part DuckDB cannot read (truncated, not Parquet at all) is bad input, not a crash: 422,
 * naming the part by its key, so the run fails at once with a reason and no retry or bigger
 * tier is spent on it. Undefined when the error is not about one of the parts.
 */
function unreadablePart(err: unknown, dataset: string, parts: string[], paths: string[]): InputError | undefined {
  const message = (err as Error)?.message ?? String(err);
  const i = paths.findIndex((p) => message.includes(p));
  if (i === -1 || !/Invalid Input Error|Parquet|magic bytes|corrupt/i.test(message)) return undefined;
  const reason = message.replaceAll(paths[i]!, parts[i]!);
  return new InputError(
    `dataset ${dataset}: lake part ${parts[i]} is not a readable Parquet file (${reason}); remove or replace that part`,
    [{ field: dataset, file: parts[i], message: reason }],
    err,
  );
}

/**
 * The parts' local paths from the earliest `recorded_at` to the latest (ties: the later key,
 * as in tableSql), when every part holds a single `recorded_at` (its Parquet statistics say
 * so: min = max in every row group) — what an ingest without its own `recorded_at` column
 * writes. Undefined otherwise (a vendor history file with several versions of a key).
 */
export async function partsByInstant(c: DuckDBConnection, parts: string[], paths: string[]): Promise<string[] | undefined> {
  const stats = await c.runAndReadAll(
    `SELECT file_name, count(DISTINCT stats_min_value) = 1 AND bool_and(stats_min_value = stats_max_value) AND count(stats_min_value) = count(*) AS single,
            epoch_us(CAST(min(stats_min_value) AS TIMESTAMPTZ)) AS at
     FROM parquet_metadata(${literalList(paths)}) WHERE path_in_schema = 'recorded_at' GROUP BY file_name`,
  );
  const byPath = new Map(stats.getRowsJS().map(([file, single, at]) => [String(file), { single: single === true, at: at as bigint }]));
  const ranked = paths.map((path, i) => ({ path, key: parts[i]!, ...byPath.get(path) }));
  if (!ranked.every((p) => p.single && typeof p.at === 'bigint')) return undefined;
  ranked.sort((a, b) => (a.at! < b.at! ? -1 : a.at! > b.at! ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return ranked.map((p) => p.path);
}

/**
 * The same table as tableSql when each part holds one `recorded_at` (`paths` ranked by
 * partsByInstant): a key is unique within a part (ingest refuses the same key and
 * `recorded_at` twice), so a row is the latest of its key unless a later part has the key.
 * That is an anti-join against the keys of the later parts — typically a few corrections
 * beside a big first delivery — instead of sorting every row by key (0.55 → ~0.2 s for
 * 1.1 M fundamentals and a correction file; one part: no join at all).
 */
function latestPartSql(spec: DatasetSpec, paths: string[], filters: PartsFilters, deferred: readonly string[] = []): string {
  const { typed, select, names, where } = partsColumns(spec, filters, deferred);
  const rows = `SELECT ${select.join(', ')}, recorded_at, file_index AS __part
     FROM read_parquet(${literalList(paths)}, union_by_name = true) WHERE ${where}`;
  if (paths.length === 1) return `CREATE OR REPLACE TABLE ${quotedIdentifier(spec.name)} AS SELECT ${names.join(', ')} FROM (${rows})`;
  const key = spec.key.map(quotedIdentifier);
  return `CREATE OR REPLACE TABLE ${quotedIdentifier(spec.name)} AS
    SELECT ${names.map((n) => `r.${n}`).join(', ')}
    FROM (${rows}) r
    ANTI JOIN (
      SELECT ${key.join(', ')}, max(__part) AS __last
      FROM (SELECT ${spec.key.map(typed).join(', ')}, file_index + 1 AS __part
            FROM read_parquet(${literalList(paths.slice(1))}, union_by_name = true) WHERE ${where})
      GROUP BY ALL
    ) later ON ${key.map((k) => `later.${k} = r.${k}`).join(' AND ')} AND later.__last > r.__part`;
}

/** A partition of a dataset: its rows with `column` in [from, to); an absent bound is open. */
export interface KeyRange {
  column: string;
  from?: string;
  to?: string;
}

/** The key-column filters of a reading of the parts: a range (inclusive), a partition's bounds ([from, to)). */
interface PartsFilters {
  range?: { column: string; from: string; to: string };
  partition?: KeyRange;
}

/** The filters as SQL over parameters $2, $3, … ($1 is asOf), and the values to bind to them, in that order. */
function filterSql(filters: PartsFilters): { where: string[]; values: string[] } {
  const where: string[] = [];
  const values: string[] = [];
  const bind = (v: string) => `$${values.push(v) + 1}`;
  const { range, partition } = filters;
  if (range) where.push(`${quotedIdentifier(range.column)} BETWEEN ${bind(range.from)} AND ${bind(range.to)}`);
  if (partition?.from !== undefined) where.push(`${quotedIdentifier(partition.column)} >= ${bind(partition.from)}`);
  if (partition?.to !== undefined) where.push(`${quotedIdentifier(partition.column)} < ${bind(partition.to)}`);
  return { where, values };
}

/**
 * What both readings of the parts share: each kept column cast to its type (`typed`), the
 * SELECT list (with `__file`/`__row` locating rows when columns are deferred), the table's
 * column names, and the filter (recorded by `asOf` = $1, then the range's and the partition's
 * parameters, in that order).
 */
function partsColumns(spec: DatasetSpec, filters: PartsFilters, deferred: readonly string[]) {
  const columns = spec.columns.filter((col) => !deferred.includes(col.name));
  const typed = (name: string) => `${quotedIdentifier(name)}::${duckdbType[spec.columns.find((col) => col.name === name)!.type]} AS ${quotedIdentifier(name)}`;
  const location = deferred.length ? ['__file', '__row'] : [];
  return {
    columns,
    location,
    typed,
    select: [...columns.map((col) => typed(col.name)), ...(location.length ? ['filename AS __file', 'file_row_number AS __row'] : [])],
    names: [...columns.map((col) => quotedIdentifier(col.name)), ...location, 'recorded_at'],
    where: ['recorded_at <= $1::TIMESTAMPTZ', ...filterSql(filters).where].join(' AND '),
  };
}

function tableSql(spec: DatasetSpec, paths: string[], filters: PartsFilters, deferred: readonly string[] = []): string {
  const table = quotedIdentifier(spec.name);
  const { columns, location, select, names, where } = partsColumns(spec, filters, deferred);
  if (paths.length === 0) {
    // Keep every parameter referenced so the caller binds the same values either way.
    return `CREATE OR REPLACE TABLE ${table} AS SELECT ${names.join(', ')} FROM (SELECT ${columns
      .map((col) => `NULL::${duckdbType[col.type]} AS ${quotedIdentifier(col.name)}`)
      .join(', ')}, $1::TIMESTAMPTZ AS recorded_at${location.length ? ', NULL::VARCHAR AS __file, NULL::BIGINT AS __row' : ''}${
      filterSql(filters).values.map((_, i) => `, $${i + 2} AS _p${i}`).join('')}) WHERE false`;
  }
  const key = spec.key.map(quotedIdentifier).join(', ');
  return `CREATE OR REPLACE TABLE ${table} AS
    SELECT ${select.join(', ')}, recorded_at
    -- Equal recorded_at (two ingests in one instant): the later part (ULID keys sort by time) wins, deterministically.
    FROM read_parquet(${literalList(paths)}, union_by_name = true, filename = true, file_row_number = true)
    WHERE ${where}
    QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY recorded_at DESC, filename DESC, file_row_number DESC) = 1`;
}
