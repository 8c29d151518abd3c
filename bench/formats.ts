import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { quotedString } from '@duckdb/node-api';
import { withDuckDB } from '../shared/duckdb.ts';
import { readArrow } from '../shared/arrow-codec.ts';
import { FileStore } from '../shared/file-store.ts';
import { pythonWithPyarrow } from '../scripts/python.ts';
import { median, timed } from './measure.ts';
import { startStepProcess } from './step-process.ts';

const run = promisify(execFile);

export interface FormatFigures {
  bytes: number;
  /** Median seconds to decode into a pyarrow Table. */
  pyarrow_s: number;
  /** Median seconds to decode in Node (see `node_reader`). */
  node_s: number;
  node_reader: string;
}

export interface FormatsResult {
  rows: number;
  columns: number;
  arrow_zstd: FormatFigures;
  parquet_zstd: FormatFigures;
  csv_gzip: FormatFigures;
  /** The export step's wall time (it writes the Arrow stream and the Parquet copy). */
  export_s: number;
  /** The export step process's peak resident memory (from its `step.completed` metrics). */
  export_peak_rss_bytes: number;
}

/** The tier the export step runs in, as for the other cases. */
const TIER_BYTES = 16 * 1024 ** 3;
const AS_OF = '2025-01-01T00:00:00.000Z';

/**
 * Result size and decode time (DESIGN §8): one panel written by the `export` step through its
 * function process — the Arrow IPC stream with ZSTD bodies that `GET /runs/:id/result` serves
 * and the SDK reads, and its Parquet (zstd) copy — and the same rows as gzipped CSV (DuckDB's
 * `COPY … (FORMAT csv, COMPRESSION gzip)`, the `?format=csv` body gzipped). Each file is
 * decoded into an in-memory table by two readers: pyarrow for all three (one library, so the
 * formats compare fairly), and the reader a Node user has — apache-arrow's `tableFromIPC`
 * (ZSTD registered; what the SDK's `result()` does) for Arrow, DuckDB for Parquet and for the
 * gzipped CSV (gunzip + parse into a table). Every decode is checked to hold the same rows,
 * and pyarrow's three to hold the same numbers (the sum of each numeric column), before a
 * time is reported. Ratios are against Arrow.
 */
export async function benchFormats(options: { panel: string; sortBy: string[]; reps: number; root: string; log: (line: string) => void }): Promise<FormatsResult> {
  const { reps, log } = options;
  const dir = await mkdtemp(join(tmpdir(), 'hippo-bench-formats-'));
  const store = new FileStore(join(dir, 'store'));
  try {
    await store.putFile('work/bench/panel/panel.parquet', options.panel);
    const step = await startStepProcess({ step: 'export', store, root: options.root, tierBytes: TIER_BYTES });
    let exported;
    try {
      exported = await step.request({
        stepId: 'export', asOf: AS_OF, output: 'results/bench', inputs: { panel: 'work/bench/panel/panel.parquet' },
        params: { pipeline: 'equity-panel', params: {}, sortBy: options.sortBy, lineage: {} },
      });
    } finally {
      await step.stop();
    }
    const rows = exported.done.outputs.result!.rows;
    log(`formats: export step wrote ${rows.toLocaleString('en-US')} rows as Arrow IPC (zstd) and Parquet (zstd) in ${(exported.ms / 1000).toFixed(2)} s`);
    const paths = {
      arrow_zstd: await store.localPath('results/bench.arrow'),
      parquet_zstd: await store.localPath('results/bench.parquet'),
      csv_gzip: join(dir, 'result.csv.gz'),
    };

    // The node readers, and the gzipped CSV written from the same Parquet.
    const node: Record<keyof typeof paths, number[]> = { arrow_zstd: [], parquet_zstd: [], csv_gzip: [] };
    let columns = 0;
    await withDuckDB({ tempDirectory: join(dir, 'spill') }, async (c) => {
      await c.run(`COPY (SELECT * FROM read_parquet(${quotedString(paths.parquet_zstd)})) TO ${quotedString(paths.csv_gzip)} (FORMAT csv, HEADER true, COMPRESSION gzip)`);
      const readers: Record<keyof typeof paths, () => Promise<[number, number]>> = {
        arrow_zstd: async () => {
          const table = readArrow(await readFile(paths.arrow_zstd));
          return [table.numRows, table.numCols];
        },
        parquet_zstd: () => duckTable(`read_parquet(${quotedString(paths.parquet_zstd)})`),
        csv_gzip: () => duckTable(`read_csv(${quotedString(paths.csv_gzip)}, header = true)`),
      };
      async function duckTable(source: string): Promise<[number, number]> {
        await c.run(`CREATE OR REPLACE TABLE decoded AS SELECT * FROM ${source}`);
        const n = Number((await c.runAndReadAll('SELECT count(*) FROM decoded')).getRowsJS()[0]![0]);
        return [n, (await c.runAndReadAll('SELECT * FROM decoded LIMIT 0')).columnCount];
      }
      for (const format of Object.keys(paths) as (keyof typeof paths)[]) {
        for (let rep = 0; rep <= reps; rep++) {
          const { ms, value: [n, cols] } = await timed(readers[format]);
          if (n !== rows) throw new Error(`formats: ${format} decoded to ${n} rows, the export wrote ${rows}`);
          if (columns && cols !== columns) throw new Error(`formats: ${format} decoded to ${cols} columns, not ${columns}`);
          columns = cols;
          if (rep > 0) node[format].push(ms / 1000);
        }
        await c.run('DROP TABLE IF EXISTS decoded');
        log(`formats: ${format}, node reader: ${node[format].map((s) => s.toFixed(2)).join(', ')} s`);
      }
    });

    log(`formats: pyarrow reads each format (${reps} runs after a warm-up)…`);
    const python = await pythonWithPyarrow();
    const { stdout } = await run(python, [join(options.root, 'bench', 'formats_decode.py'), String(reps), paths.arrow_zstd, paths.parquet_zstd, paths.csv_gzip], { maxBuffer: 1 << 24 });
    const py = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<'arrow' | 'parquet' | 'csv_gzip', { runs_s: number[]; rows: number; sums: Record<string, number> }>;
    const pyOf = { arrow_zstd: py.arrow, parquet_zstd: py.parquet, csv_gzip: py.csv_gzip };
    for (const [format, r] of Object.entries(pyOf)) {
      if (r.rows !== rows) throw new Error(`formats: pyarrow read ${r.rows} rows from ${format}, the export wrote ${rows}`);
      for (const [col, sum] of Object.entries(py.arrow.sums)) {
        const other = r.sums[col] ?? 0;
        if (Math.abs(other - sum) > 1e-7 * Math.max(1, Math.abs(sum))) throw new Error(`formats: column ${col} sums to ${other} in ${format}, ${sum} in Arrow`);
      }
      log(`formats: ${format}, pyarrow: ${r.runs_s.map((s) => s.toFixed(2)).join(', ')} s`);
    }
    const readerOf = { arrow_zstd: 'apache-arrow tableFromIPC', parquet_zstd: 'DuckDB read_parquet → table', csv_gzip: 'DuckDB read_csv (gunzip + parse) → table' };
    const figures = async (format: keyof typeof paths): Promise<FormatFigures> => ({
      bytes: (await stat(paths[format])).size,
      pyarrow_s: round(median(pyOf[format].runs_s)),
      node_s: round(median(node[format])),
      node_reader: readerOf[format],
    });
    return {
      rows, columns,
      arrow_zstd: await figures('arrow_zstd'), parquet_zstd: await figures('parquet_zstd'), csv_gzip: await figures('csv_gzip'),
      export_s: round(exported.ms / 1000), export_peak_rss_bytes: exported.done.metrics.peakRssBytes ?? 0,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
