import { createHash } from 'node:crypto';
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
 *
 * A redelivered event (same `source` and `id`: the broker retrying, the Pub/Sub bridge
 * re-posting a message it could not ack) is ingested once: the part keys derive from the event,
 * and the reply names the parts the first delivery stored, under the same event id.
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
      // The event's own time when the data has none: a redelivery carries the same, so it
      // lands on the same part keys (the SDK reads a missing `time` as now).
      const at = d.recordedAt ?? event.time ?? (deps.now?.() ?? new Date()).toISOString();
      const recordedAt = new Date(at).toISOString();
      const deliveryId = `${event.source} ${event.id}`;
      const parts = await withDuckDB({ ...deps.duckdb, tempDirectory: join(dir, 'spill') }, (conn) =>
        ingestFiles(conn, d.dataset, [file], { store: deps.store, tempDir: dir, recordedAt, deliveryId }),
      );
      const rows = parts.reduce((n, p) => n + p.rows, 0);
      if (parts.every((p) => p.existing)) log.info('already ingested', { dataset: d.dataset, event: event.id, parts: parts.map((p) => p.key), rows });
      else log.info('ingested', { dataset: d.dataset, event: event.id, parts: parts.map((p) => p.key), rows });
      const changed = makeEvent(EventTypes.datasetChanged, '/hippo/ingest', { dataset: d.dataset, parts: parts.map((p) => p.key), recordedAt });
      // One id per delivery, so whoever follows dataset.changed can tell a repeat.
      return eventResponse(changed.cloneWith({ id: uuidOf(`dataset.changed ${deliveryId}`) }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  return app;
}

/** A UUID (version 8: custom) from a sha256 of `text`: the same text, the same id. */
export function uuidOf(text: string): string {
  const h = createHash('sha256').update(text).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
