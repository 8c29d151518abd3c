import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDuckDB } from '../shared/duckdb.ts';
import { lakeParts } from '../shared/lake.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { writeDemoData } from '../demo/demo-data.ts';

/**
 * Ingests the synthetic demo dataset when the lake has no prices yet, so the first
 * `npm start` has something to run on. Returns whether it ingested.
 */
export async function ensureDemoData(store: ObjectStore, onProgress: (msg: string) => void = () => {}): Promise<boolean> {
  if ((await lakeParts(store, 'prices', new Date().toISOString())).length > 0) return false;
  const dir = await mkdtemp(join(tmpdir(), 'hippo-demo-'));
  try {
    onProgress('generating demo data…');
    const files = await writeDemoData(dir);
    const recordedAt = new Date().toISOString();
    await withDuckDB({ tempDirectory: join(dir, 'spill') }, async (c) => {
      for (const [dataset, path] of Object.entries(files) as [string, string | string[]][]) {
        const parts = await ingestFiles(c, dataset, [path].flat().map((p) => ({ path: p })), { store, tempDir: dir, recordedAt });
        onProgress(`ingested ${dataset}: ${parts.reduce((n, p) => n + p.rows, 0)} rows`);
      }
    });
    return true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
