import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { quotedString } from '@duckdb/node-api';
import { ARROW_STREAM_CONTENT_TYPE } from '../../shared/content-types.ts';
import { withDuckDB } from '../../shared/duckdb.ts';
import { NotFoundError } from '../../shared/errors.ts';
import { keys, type ObjectStore } from '../../shared/object-store.ts';
import type { Run } from '../../orchestration/index.ts';

export type ResultFormat = 'arrow' | 'parquet' | 'csv';

const contentTypes: Record<ResultFormat, string> = {
  arrow: ARROW_STREAM_CONTENT_TYPE,
  parquet: 'application/vnd.apache.parquet',
  csv: 'text/csv; charset=utf-8',
};

/**
 * A run's result as a streamed response (DESIGN §8): the Arrow IPC stream as written by
 * `export` (ETag = its sha256), its Parquet copy, or CSV converted on request.
 */
export async function resultResponse(
  store: ObjectStore,
  run: Run,
  format: ResultFormat,
  ifNoneMatch: string | undefined,
  tempRoot = tmpdir(),
): Promise<Response> {
  const etag = format === 'arrow' ? `"${run.result!.sha256}"` : `W/"${run.result!.sha256}-${format}"`;
  const headers: Record<string, string> = {
    'content-type': contentTypes[format],
    etag,
    'content-disposition': `attachment; filename="${run.id}.${format === 'arrow' ? 'arrow' : format}"`,
    'x-hippo-rows': String(run.result!.rows),
  };
  if (ifNoneMatch && ifNoneMatch === etag) return new Response(null, { status: 304, headers });

  if (format === 'csv') {
    const dir = await mkdtemp(join(tempRoot, 'hippo-csv-'));
    try {
      const src = await store.localPath(keys.resultParquet(resultOwner(run)), dir);
      const out = join(dir, 'result.csv');
      await withDuckDB({ tempDirectory: join(dir, 'spill') }, (c) =>
        c.run(`COPY (SELECT * FROM read_parquet(${quotedString(src)})) TO ${quotedString(out)} (FORMAT csv, HEADER true)`),
      );
      const stream = createReadStream(out);
      stream.on('close', () => void rm(dir, { recursive: true, force: true }));
      return new Response(Readable.toWeb(stream) as ReadableStream, { status: 200, headers });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const key = format === 'arrow' ? keys.resultArrow(resultOwner(run)) : keys.resultParquet(resultOwner(run));
  const info = await store.head(key);
  const body = await store.getStream(key);
  if (!body || !info) throw new NotFoundError(`result object ${key} is missing from the store`);
  headers['content-length'] = String(info.size);
  return new Response(body, { status: 200, headers });
}

/** The run whose export wrote the result: a reused run serves the result it took (DESIGN §14). */
const resultOwner = (run: Run) => run.reusedFrom ?? run.id;
