import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDuckDB } from '../shared/duckdb.ts';
import { FileStore } from '../shared/file-store.ts';
import { lakeParts } from '../shared/lake.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { writeDemoData, type DemoFiles, type DemoOptions } from '../demo/demo-data.ts';

/** Every dataset the demo writes, in ingest order. */
const DEMO_DATASETS: readonly (keyof DemoFiles)[] = ['securities', 'prices', 'symbols', 'memberships', 'fundamentals', 'macro', 'transcripts'];

/**
 * Ingests the synthetic demo datasets the lake does not have yet, so the first `npm start`
 * has something to run on (and a lake from an older Hippo gains the newer datasets).
 * Returns whether it ingested anything.
 */
export async function ensureDemoData(store: ObjectStore, onProgress: (msg: string) => void = () => {}): Promise<boolean> {
  const now = new Date().toISOString();
  const missing: string[] = [];
  for (const dataset of DEMO_DATASETS) if ((await lakeParts(store, dataset, now)).length === 0) missing.push(dataset);
  if (missing.length === 0) return false;
  const dir = await mkdtemp(join(tmpdir(), 'hippo-demo-'));
  try {
    onProgress('generating demo data…');
    const files = await writeDemoData(dir);
    const recordedAt = new Date().toISOString();
    await withDuckDB({ tempDirectory: join(dir, 'spill') }, async (c) => {
      for (const [dataset, path] of Object.entries(files) as [string, string | string[]][]) {
        if (!missing.includes(dataset)) continue;
        const parts = await ingestFiles(c, dataset, [path].flat().map((p) => ({ path: p })), { store, tempDir: dir, recordedAt });
        onProgress(`ingested ${dataset}: ${parts.reduce((n, p) => n + p.rows, 0)} rows`);
      }
    });
    return true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A fresh store (its own temp folder) holding the demo dataset, ingested the way a user
 * does it. Shared by the end-to-end tests and benchmarks; the caller removes `dir`.
 * @example const { dir, store } = await demoStore({ scale: 0.1 });
 */
export async function demoStore<S extends ObjectStore = FileStore>(
  options: DemoOptions & { recordedAt?: string; store?: S } = {},
): Promise<{ dir: string; store: S }> {
  const dir = await mkdtemp(join(tmpdir(), 'hippo-e2e-'));
  const store = options.store ?? (new FileStore(join(dir, 'store')) as unknown as S);
  const files = await writeDemoData(join(dir, 'vendor'), options);
  const recordedAt = options.recordedAt ?? new Date(Date.now() - 1000).toISOString();
  await withDuckDB({}, async (c) => {
    for (const [dataset, path] of Object.entries(files) as [string, string | string[]][]) {
      await ingestFiles(c, dataset, [path].flat().map((p) => ({ path: p })), { store, tempDir: dir, recordedAt });
    }
  });
  return { dir, store };
}
