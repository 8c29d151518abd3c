import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotedIdentifier } from '@duckdb/node-api';
import { literalList, withDuckDB } from '../shared/duckdb.ts';
import { keys, type ObjectStore } from '../shared/object-store.ts';
import type { LakeCatalog } from './pipelines.ts';

/**
 * The lake as the coordinator sees it when validating a request: distinct values of a
 * column (e.g. which fundamental fields exist). Parts are immutable, so an answer is cached
 * until the dataset's list of parts changes.
 */
export class StoreLakeCatalog implements LakeCatalog {
  private readonly cache = new Map<string, { parts: string; values: string[] }>();

  constructor(private readonly store: ObjectStore, private readonly tempRoot = tmpdir()) {}

  async bytes(dataset: string): Promise<number> {
    return (await this.parts(dataset)).reduce((sum, p) => sum + p.size, 0);
  }

  private async parts(dataset: string) {
    return (await this.store.list(keys.lakePrefix(dataset))).filter((p) => p.key.endsWith('.parquet'));
  }

  async distinct(dataset: string, column: string): Promise<string[]> {
    const parts = (await this.parts(dataset)).map((p) => p.key);
    const id = `${dataset}.${column}`;
    const signature = parts.join('\n');
    const hit = this.cache.get(id);
    if (hit && hit.parts === signature) return hit.values;
    let values: string[] = [];
    if (parts.length) {
      const dir = await mkdtemp(join(this.tempRoot, 'hippo-catalog-'));
      try {
        const paths = await Promise.all(parts.map((k) => this.store.localPath(k, dir)));
        values = await withDuckDB({}, async (c) => {
          const r = await c.runAndReadAll(`SELECT DISTINCT ${quotedIdentifier(column)}::VARCHAR FROM read_parquet(${literalList(paths)}) ORDER BY 1`);
          return r.getRowsJS().map((row) => String(row[0]));
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    this.cache.set(id, { parts: signature, values });
    return values;
  }
}
