import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDuckDB } from '../shared/duckdb.ts';
import { FileStore } from '../shared/file-store.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { writeDemoData, type DemoOptions } from '../demo/demo-data.ts';

/**
 * A fresh store (its own temp folder) holding the demo dataset, ingested the way a user
 * does it. Shared by the end-to-end tests.
 */
export async function demoStore(options: DemoOptions & { recordedAt?: string } = {}): Promise<{ dir: string; store: FileStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'hippo-e2e-'));
  const store = new FileStore(join(dir, 'store'));
  const files = await writeDemoData(join(dir, 'vendor'), options);
  const recordedAt = options.recordedAt ?? new Date(Date.now() - 1000).toISOString();
  await withDuckDB({}, async (c) => {
    for (const [dataset, path] of Object.entries(files) as [string, string | string[]][]) {
      await ingestFiles(c, dataset, [path].flat().map((p) => ({ path: p })), { store, tempDir: dir, recordedAt });
    }
  });
  return { dir, store };
}

/** Polls `fn` until it returns a truthy value or `ms` pass. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, ms = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
