import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { EventTypes, makeEvent, parseData, vendorDeliveredSchema } from '../../eventing/catalog.ts';
import { eventResponse, readEvent } from '../../shared/cloudevents.ts';
import { withDuckDB, type DuckDBOptions } from '../../shared/duckdb.ts';
import { ValidationError } from '../../shared/errors.ts';
import { functionApp } from '../../shared/http.ts';
import type { Logger } from '../../shared/log.ts';
import type { ObjectStore } from '../../shared/object-store.ts';
import { ingestFiles, type IngestFile } from './ingest.ts';

export interface IngestDeps {
  store: ObjectStore;
  duckdb?: DuckDBOptions;
  log?: Logger;
  tempRoot?: string;
  now?: () => Date;
}

/**
 * `ingest`: takes `dev.hippo.vendor.delivered` (a file already in the store under `key`, or
 * inline `records`), appends it to the lake, and replies `dev.hippo.dataset.changed`.
 */
export function createApp(deps: IngestDeps): Hono {
  const { app, log } = functionApp('ingest', deps.log);
  app.post('/', async (c) => {
    const event = await readEvent(c.req.raw);
    if (event.type !== EventTypes.vendorDelivered) {
      throw new ValidationError(`ingest does not handle ${event.type}`, [], { status: 422, code: 'wrong_event' });
    }
    const d = parseData(event, vendorDeliveredSchema);
    const dir = await mkdtemp(join(deps.tempRoot ?? tmpdir(), 'hippo-ingest-'));
    try {
      let file: IngestFile;
      if (d.key) {
        file = { path: await deps.store.localPath(d.key, dir), name: d.key, format: d.format };
      } else {
        const path = join(dir, 'records.jsonl');
        await writeFile(path, d.records!.map((r) => JSON.stringify(r)).join('\n') + '\n');
        file = { path, name: `event ${event.id}`, format: 'jsonl' };
      }
      const recordedAt = d.recordedAt ? new Date(d.recordedAt).toISOString() : (deps.now?.() ?? new Date()).toISOString();
      const parts = await withDuckDB({ ...deps.duckdb, tempDirectory: join(dir, 'spill') }, (conn) =>
        ingestFiles(conn, d.dataset, [file], { store: deps.store, tempDir: dir, recordedAt }),
      );
      log.info('ingested', { dataset: d.dataset, parts: parts.map((p) => p.key), rows: parts.reduce((n, p) => n + p.rows, 0) });
      return eventResponse(
        makeEvent(EventTypes.datasetChanged, '/hippo/ingest', { dataset: d.dataset, parts: parts.map((p) => p.key), recordedAt }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  return app;
}
