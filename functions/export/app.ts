import { join } from 'node:path';
import type { Hono } from 'hono';
import { quotedIdentifier, quotedString } from '@duckdb/node-api';
import { ARROW_STREAM_CONTENT_TYPE } from '../../shared/content-types.ts';
import { literalList } from '../../shared/duckdb.ts';
import { createStepApp, type StepDeps, type StepSpec } from '../step-app.ts';
import { writeArrowStream } from './arrow-stream.ts';
import { exportParams, type ExportParams } from './params.ts';

/** The result's metadata, `results/<id>.json`: written last, so its presence means the result is complete. */
export interface ResultMeta {
  runId: string;
  pipeline: string;
  params: Record<string, unknown>;
  asOf: string;
  rows: number;
  bytes: number;
  sha256: string;
  schema: { name: string; type: string }[];
  lineage: Record<string, string[]>;
  contentType: string;
  createdAt: string;
}

/**
 * `export`: the last step of every pipeline. Turns the previous step's Parquet into the
 * result of DESIGN §8 — `results/<id>.arrow` (Arrow IPC stream, ZSTD body compression),
 * a Parquet (zstd) copy the API serves for `?format=parquet|csv`, and `results/<id>.json`.
 */
export const exportStep: StepSpec<ExportParams> = {
  name: 'export',
  params: exportParams,
  async run(c, req, ctx) {
    const inputs = await Promise.all(Object.values(req.inputs).map((k) => ctx.inputPath(k)));
    const order = req.params.sortBy.map(quotedIdentifier).join(', ');
    const source = `SELECT * FROM read_parquet(${literalList(inputs)}) ORDER BY ${order}`;
    await c.run(`CREATE TEMP TABLE result AS ${source}`);

    const arrowPath = join(ctx.tempDir, 'result.arrow');
    const arrow = await writeArrowStream(c, 'SELECT * FROM result', arrowPath);
    const parquetPath = join(ctx.tempDir, 'result.parquet');
    await c.run(`COPY result TO ${quotedString(parquetPath)} (FORMAT parquet, COMPRESSION zstd)`);

    const arrowKey = `${req.output}.arrow`;
    await ctx.store.putFile(`${req.output}.parquet`, parquetPath);
    await ctx.store.putFile(arrowKey, arrowPath, { contentType: ARROW_STREAM_CONTENT_TYPE });
    const meta: ResultMeta = {
      runId: req.runId,
      pipeline: req.params.pipeline,
      params: req.params.params,
      asOf: req.asOf,
      rows: arrow.rows,
      bytes: arrow.bytes,
      sha256: arrow.sha256,
      schema: arrow.schema,
      lineage: req.params.lineage,
      contentType: ARROW_STREAM_CONTENT_TYPE,
      createdAt: new Date().toISOString(),
    };
    // The metadata goes last: its presence means the result is complete.
    await ctx.store.put(`${req.output}.json`, JSON.stringify(meta, null, 2), { contentType: 'application/json' });
    return {
      outputs: { result: { key: arrowKey, rows: arrow.rows, bytes: arrow.bytes, sha256: arrow.sha256 } },
      rowsIn: arrow.rows,
      rowsOut: arrow.rows,
    };
  },
};

export function createApp(deps: StepDeps): Hono {
  return createStepApp(exportStep, deps);
}
