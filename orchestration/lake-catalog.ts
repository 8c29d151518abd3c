import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { literalList, withDuckDB } from '../shared/duckdb.ts';
import { lakeParts } from '../shared/lake.ts';
import { keys, type ObjectStore } from '../shared/object-store.ts';
import type { LakeCatalog } from './pipelines.ts';

/**
 * The lake as the coordinator sees it when validating and planning a request: distinct values
 * of a column (e.g. which fundamental fields exist), and estimates of a window's rows and bytes
 * from the parts' Parquet statistics. Parts are immutable, so an answer is cached until the
 * dataset's list of parts changes.
 */
export class StoreLakeCatalog implements LakeCatalog {
  private readonly cache = new Map<string, { parts: string; value: unknown }>();
  private readonly spans = new Map<string, { min: number; max: number }>();

  constructor(private readonly store: ObjectStore, private readonly tempRoot = tmpdir()) {}

  async bytes(dataset: string): Promise<number> {
    return (await this.parts(dataset)).reduce((sum, p) => sum + p.size, 0);
  }

  private async parts(dataset: string) {
    return (await this.store.list(keys.lakePrefix(dataset))).filter((p) => p.key.endsWith('.parquet'));
  }

  async distinct(dataset: string, column: string): Promise<string[]> {
    return this.cached(dataset, `distinct ${column}`, [], (c, paths) =>
      c.runAndReadAll(`SELECT DISTINCT ${quotedIdentifier(column)}::VARCHAR FROM read_parquet(${literalList(paths)}) ORDER BY 1`).then((r) =>
        r.getRowsJS().map((row) => String(row[0])),
      ),
    );
  }

  async estimate(dataset: string, column: string, from: string, to: string, sizeOf?: string): Promise<{ rows: number; bytes: number }> {
    const none = { rows: 0, bytes: 0 };
    return this.cached(dataset, `estimate ${column} ${from} ${to} ${sizeOf ?? ''}`, none, async (c, paths) => {
      // One row per row group: its rows, its span of `column`, and the bytes of `sizeOf` in it.
      const r = await c.runAndReadAll(
        `WITH groups AS (
           SELECT file_name, row_group_id, any_value(row_group_num_rows) AS n,
                  max(CASE WHEN path_in_schema = $1 THEN epoch(TRY_CAST(stats_min_value AS TIMESTAMPTZ)) END) AS lo,
                  max(CASE WHEN path_in_schema = $1 THEN epoch(TRY_CAST(stats_max_value AS TIMESTAMPTZ)) END) AS hi,
                  sum(CASE WHEN path_in_schema = $2 THEN total_uncompressed_size ELSE 0 END) AS size
           FROM parquet_metadata(${literalList(paths)})
           GROUP BY file_name, row_group_id
         ),
         shares AS (
           SELECT n, size,
                  CASE WHEN lo IS NULL OR hi IS NULL THEN 1.0
                       WHEN hi <= lo THEN CASE WHEN lo BETWEEN epoch($3::TIMESTAMPTZ) AND epoch($4::TIMESTAMPTZ) THEN 1.0 ELSE 0.0 END
                       ELSE greatest(0.0, least(hi, epoch($4::TIMESTAMPTZ)) - greatest(lo, epoch($3::TIMESTAMPTZ))) / (hi - lo)
                  END AS share
           FROM groups
         )
         SELECT coalesce(sum(n * share), 0)::DOUBLE, coalesce(sum(size * share), 0)::DOUBLE FROM shares`,
        [column, sizeOf ?? '', from, to],
      );
      const [rows, bytes] = r.getRowsJS()[0] as [number, number];
      return { rows: Math.round(rows), bytes: Math.round(bytes) };
    });
  }

  /**
   * The parts of `dataset` a run at `asOf` reads (LakeState, reuse.ts): those with a row
   * recorded by `asOf`; a part with rows recorded after it too (a vendor history) as
   * `<key>@<its latest recorded_at by asOf, epoch µs>`, the rows it shows. Each part's span of
   * `recorded_at` comes from its Parquet statistics, once (parts are immutable).
   */
  async visible(dataset: string, asOf: string): Promise<string[]> {
    const cutoff = Date.parse(asOf);
    const candidates = await lakeParts(this.store, dataset, asOf);
    const out: string[] = [];
    for (const key of candidates) {
      const span = await this.recordedSpan(key);
      if (span.min > cutoff) continue;
      if (span.max <= cutoff) {
        out.push(key);
        continue;
      }
      const latest = await this.withParts([key], async (c, [path]) => {
        const r = await c.runAndReadAll(`SELECT epoch_us(max(recorded_at)) FROM read_parquet(${quotedString(path!)}) WHERE recorded_at <= $1::TIMESTAMPTZ`, [asOf]);
        const us = r.getRowsJS()[0]![0];
        return us === null ? undefined : String(us);
      });
      // Epoch microseconds, exact: two cuts between the same two recorded instants show the same rows.
      if (latest !== undefined) out.push(`${key}@${latest}`);
    }
    return out;
  }

  /** A part's earliest and latest `recorded_at` (ms; µs floored and ceiled), from its footer's statistics, once per part. */
  private async recordedSpan(key: string): Promise<{ min: number; max: number }> {
    const hit = this.spans.get(key);
    if (hit) return hit;
    const span = await this.withParts([key], async (c, paths) => {
      const r = await c.runAndReadAll(
        `SELECT epoch_us(min(TRY_CAST(stats_min_value AS TIMESTAMPTZ))), epoch_us(max(TRY_CAST(stats_max_value AS TIMESTAMPTZ)))
         FROM parquet_metadata(${literalList(paths)}) WHERE path_in_schema = 'recorded_at'`,
      );
      const [lo, hi] = r.getRowsJS()[0]!;
      // No statistics: assume the part spans everything, so it is cut at asOf exactly (the scan above).
      return { min: lo === null ? -Infinity : Math.floor(Number(lo) / 1000), max: hi === null ? Infinity : Math.ceil(Number(hi) / 1000) };
    }).catch(() => {
      // Not readable (not Parquet): the part counts whole, by its key — the step that reads it fails the run, naming it.
      return { min: -Infinity, max: -Infinity };
    });
    this.spans.set(key, span);
    return span;
  }

  /** `read` over local copies of the parts (downloaded when the store is remote), removed afterwards. */
  private async withParts<T>(parts: string[], read: (c: DuckDBConnection, paths: string[]) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(this.tempRoot, 'hippo-catalog-'));
    try {
      const paths = await Promise.all(parts.map((k) => this.store.localPath(k, dir)));
      return await withDuckDB({}, (c) => read(c, paths));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * `read` over the dataset's parts (local paths; downloaded when the store is remote), cached
   * under `id` until the dataset's list of parts changes (parts are immutable).
   */
  private async cached<T>(dataset: string, id: string, empty: T, read: (c: DuckDBConnection, paths: string[]) => Promise<T>): Promise<T> {
    const parts = (await this.parts(dataset)).map((p) => p.key);
    const key = `${dataset} ${id}`;
    const signature = parts.join('\n');
    const hit = this.cache.get(key);
    if (hit && hit.parts === signature) return hit.value as T;
    const value = parts.length ? await this.withParts(parts, read) : empty;
    this.cache.set(key, { parts: signature, value });
    return value;
  }
}
