import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_MEMORY_SHARE, literalList, withDuckDB } from '../shared/duckdb.ts';
import { FileStore } from '../shared/file-store.ts';
import { lakeParts, loadDatasets } from '../shared/lake.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { delistingAdjust } from '../functions/delisting-adjust/delisting-adjust.ts';
import type { DelistingParams } from '../functions/delisting-adjust/params.ts';
import { writeDemoData } from '../demo/demo-data.ts';
import { median, timed } from './measure.ts';
import { startStepProcess } from './step-process.ts';

export interface DelistingScale {
  /** The demo universe's scale (`hippo demo-data`): 300 securities each, 2005–2020. */
  demoScale: number;
  start: string;
  end: string;
}

/** ≈ 4.8 M panel rows: 1,800 securities (survivors, IPOs, mergers, performance delistings) over 16 years. */
export const DELISTING_SCALE: DelistingScale = { demoScale: 6, start: '2005-01-03', end: '2020-12-31' };
/** `--quick`: ≈ 400,000 panel rows. */
export const DELISTING_QUICK_SCALE: DelistingScale = { demoScale: 0.5, start: '2005-01-03', end: '2020-12-31' };

export interface DelistingResult {
  securities: number;
  price_rows: number;
  /** Panel rows out (every listed security on every trading day, halts included). */
  rows: number;
  /** Rows carrying a delisting return; of them imputed (Shumway). */
  delistings: number;
  imputed: number;
  hippo_s: number;
  hippo_rows_per_s: number;
  duckdb_s: number;
  duckdb_rows_per_s: number;
  ratio: number;
  /** Bare DuckDB from the lake's Parquet files: read, the same SQL, write the panel as Parquet. */
  duckdb_files_s: number;
  duckdb_files_rows_per_s: number;
  hippo_runs_s: number[];
  duckdb_runs_s: number[];
  duckdb_files_runs_s: number[];
  /** The step process's peak resident memory (from its `step.completed` metrics). */
  hippo_peak_rss_bytes: number;
  cells_checked: number;
  memory_limit: string;
}

/** The tier both sides run in, as for the point-in-time case. */
const TIER_BYTES = 16 * 1024 ** 3;
const RECORDED = '2024-01-02T00:00:00.000Z';
const DATASETS = ['securities', 'prices', 'symbols', 'memberships'] as const;

/**
 * The delisting case (DESIGN §7.1): the `delisting-adjust` step through its function — its own
 * process reading the lake parts of securities, prices, symbols and memberships, building the
 * survivorship-free panel, writing it as Parquet and replying `step.completed` — in panel rows
 * per second, against the step's own SQL (`delistingAdjust`) run in bare DuckDB on the same
 * four tables already in memory. The logic is the same on both sides, so the ratio is what the
 * function costs around it: the event, reading the lake (cut at `asOf`), sorting and writing
 * the output. A second baseline is what a DuckDB user's own script does with the same files:
 * read the Parquet, the same SQL, write the panel as Parquet. Both in-memory answers are
 * checked equal, row by row, before any time is reported.
 */
export async function benchDelisting(options: { scale: DelistingScale; reps: number; root: string; log: (line: string) => void }): Promise<DelistingResult> {
  const { scale, reps, log } = options;
  const dir = await mkdtemp(join(tmpdir(), 'hippo-bench-delisting-'));
  const store = new FileStore(join(dir, 'store'));
  const memoryLimitBytes = Math.floor(TIER_BYTES * DUCKDB_MEMORY_SHARE);
  const params: DelistingParams = { start: scale.start, end: scale.end, universe: 'all', delisting: 'shumway' };
  try {
    log(`delisting: generating the demo universe at scale ${scale.demoScale}…`);
    const files = await writeDemoData(join(dir, 'vendor'), { scale: scale.demoScale });
    const [securities, priceRows] = await withDuckDB({ tempDirectory: join(dir, 'spill') }, async (c) => {
      for (const dataset of DATASETS) await ingestFiles(c, dataset, [{ path: files[dataset] }], { store, tempDir: dir, recordedAt: RECORDED });
      await loadDatasets(c, ['securities', 'prices'], { store, tempDir: dir, asOf: RECORDED });
      return count(c, 'SELECT (SELECT count(*) FROM securities), (SELECT count(*) FROM prices)');
    });
    await rm(join(dir, 'vendor'), { recursive: true, force: true });
    log(`delisting: ${securities!.toLocaleString('en-US')} securities, ${priceRows!.toLocaleString('en-US')} price rows in the lake`);

    const hippoRuns: number[] = [];
    let peakRss = 0;
    let lastOutput = '';
    let rows = 0;
    const step = await startStepProcess({ step: 'delisting-adjust', store, root: options.root, tierBytes: TIER_BYTES });
    try {
      for (let rep = 0; rep <= reps; rep++) {
        const { ms, done } = await step.request({ stepId: `delisting-${rep}`, asOf: RECORDED, output: `work/bench/delisting-${rep}`, params: { ...params }, inputs: {} });
        const panel = done.outputs.panel;
        if (!panel || (rep > 0 && panel.rows !== rows)) throw new Error(`delisting-adjust wrote ${panel?.rows} rows, then ${rows}`);
        rows = panel.rows;
        peakRss = Math.max(peakRss, done.metrics.peakRssBytes ?? 0);
        if (rep > 0) hippoRuns.push(ms / 1000);
        lastOutput = panel.key;
        log(`delisting: hippo delisting-adjust step ${rep === 0 ? '(warm-up)' : `run ${rep}`}: ${(ms / 1000).toFixed(2)} s, ${rows.toLocaleString('en-US')} rows`);
      }
    } finally {
      await step.stop();
    }

    // Bare DuckDB: the step's SQL on the same rows (the lake loader's tables), already in memory.
    const duckRuns: number[] = [];
    const checked = await withDuckDB({ memoryLimitBytes, tempDirectory: join(dir, 'spill') }, async (c) => {
      await loadDatasets(c, DATASETS, { store, tempDir: dir, asOf: RECORDED });
      for (let rep = 0; rep <= reps; rep++) {
        await c.run('DROP TABLE IF EXISTS panel');
        const { ms } = await timed(() => delistingAdjust(c, params));
        if (rep > 0) duckRuns.push(ms / 1000);
        log(`delisting: bare DuckDB ${rep === 0 ? '(warm-up)' : `run ${rep}`}: ${(ms / 1000).toFixed(2)} s`);
      }
      return crossCheck(c, await store.localPath(lastOutput), rows);
    });

    // Bare DuckDB from the files, as a user's own script: the lake's Parquet read as it is (one
    // delivery, so nothing to cut at asOf), the same SQL, the panel written as Parquet.
    const fileRuns: number[] = [];
    await withDuckDB({ memoryLimitBytes, tempDirectory: join(dir, 'spill') }, async (c) => {
      const parts = Object.fromEntries(await Promise.all(DATASETS.map(async (d) => [d, await Promise.all((await lakeParts(store, d, RECORDED)).map((k) => store.localPath(k)))] as const)));
      const out = join(dir, 'bare.parquet');
      for (let rep = 0; rep <= reps; rep++) {
        const { ms } = await timed(async () => {
          for (const d of DATASETS) await c.run(`CREATE OR REPLACE TABLE ${d} AS SELECT * FROM read_parquet(${literalList(parts[d]!)})`);
          await c.run('DROP TABLE IF EXISTS panel');
          await delistingAdjust(c, params);
          await c.run(`COPY (SELECT * FROM panel ORDER BY date, sid) TO ${quotedString(out)} (FORMAT parquet, COMPRESSION zstd)`);
        });
        const [written] = await count(c, `SELECT count(*) FROM read_parquet(${quotedString(out)})`);
        if (written !== rows) throw new Error(`delisting: bare DuckDB from the files wrote ${written} rows, the step ${rows}`);
        if (rep > 0) fileRuns.push(ms / 1000);
        log(`delisting: bare DuckDB from the files ${rep === 0 ? '(warm-up)' : `run ${rep}`}: ${(ms / 1000).toFixed(2)} s`);
      }
    });
    const hippo = median(hippoRuns);
    const duck = median(duckRuns);
    const fromFiles = median(fileRuns);
    return {
      securities: securities!, price_rows: priceRows!, rows, delistings: checked.delistings, imputed: checked.imputed,
      hippo_s: round(hippo), hippo_rows_per_s: Math.round(rows / hippo),
      duckdb_s: round(duck), duckdb_rows_per_s: Math.round(rows / duck),
      ratio: round(hippo / duck),
      duckdb_files_s: round(fromFiles), duckdb_files_rows_per_s: Math.round(rows / fromFiles),
      hippo_runs_s: hippoRuns.map(round), duckdb_runs_s: duckRuns.map(round), duckdb_files_runs_s: fileRuns.map(round),
      hippo_peak_rss_bytes: peakRss, cells_checked: checked.cells,
      memory_limit: `${(memoryLimitBytes / 1024 ** 3).toFixed(1)} GiB`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Hippo's output equals bare DuckDB's TABLE `panel`, row for row (as multisets), and the
 * data exercised the rules: some delisting returns, some of them imputed.
 */
async function crossCheck(c: DuckDBConnection, hippoPath: string, rows: number): Promise<{ cells: number; delistings: number; imputed: number }> {
  await c.run(`CREATE TABLE hippo AS SELECT * FROM read_parquet(${quotedString(hippoPath)})`);
  const columns = (await c.runAndReadAll('SELECT * FROM panel LIMIT 0')).columnNames();
  const list = columns.map((n) => `"${n}"`).join(', ');
  const [onlyHippo, onlyBare, bareRows, delistings, imputed] = await count(c, `SELECT
    (SELECT count(*) FROM (SELECT ${list} FROM hippo EXCEPT ALL SELECT ${list} FROM panel)),
    (SELECT count(*) FROM (SELECT ${list} FROM panel EXCEPT ALL SELECT ${list} FROM hippo)),
    (SELECT count(*) FROM panel),
    (SELECT count(delist_ret) FROM hippo),
    (SELECT count(*) FILTER (WHERE delist_imputed) FROM hippo)`);
  if (onlyHippo || onlyBare || bareRows !== rows) {
    throw new Error(`delisting cross-check failed: ${onlyHippo} rows only in Hippo's answer, ${onlyBare} only in bare DuckDB's (${bareRows} vs ${rows})`);
  }
  if (!delistings || !imputed) throw new Error(`delisting cross-check: ${delistings} delisting returns, ${imputed} imputed — the data generator is broken`);
  return { cells: rows * columns.length, delistings: delistings!, imputed: imputed! };
}

async function count(c: DuckDBConnection, sql: string): Promise<number[]> {
  return (await c.runAndReadAll(sql)).getRowsJS()[0]!.map(Number);
}

const round = (x: number) => Math.round(x * 1000) / 1000;
