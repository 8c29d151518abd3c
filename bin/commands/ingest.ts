import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDuckDB } from '../../shared/duckdb.ts';
import { ValidationError } from '../../shared/errors.ts';
import { ingestFiles } from '../../functions/ingest/ingest.ts';
import { context } from './context.ts';

export async function ingestCommand(dataset: string, files: string[], opts: { recordedAt?: string }): Promise<void> {
  const { store } = context();
  if (opts.recordedAt && Number.isNaN(Date.parse(opts.recordedAt))) {
    throw new ValidationError(`--recorded-at "${opts.recordedAt}" is not an ISO-8601 instant`, [{ field: 'recorded-at', message: 'not an instant' }]);
  }
  const recordedAt = new Date(opts.recordedAt ?? Date.now()).toISOString();
  const dir = await mkdtemp(join(tmpdir(), 'hippo-ingest-'));
  try {
    const parts = await withDuckDB({ tempDirectory: join(dir, 'spill') }, (c) =>
      ingestFiles(c, dataset, files.map((path) => ({ path, name: path })), { store, tempDir: dir, recordedAt }),
    );
    for (const p of parts) process.stdout.write(`${p.file}: ${p.rows} rows → ${p.key}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
