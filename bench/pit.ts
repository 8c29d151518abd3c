import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_MEMORY_SHARE, withDuckDB } from '../shared/duckdb.ts';
import { FileStore } from '../shared/file-store.ts';
import { loadDatasets } from '../shared/lake.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { generatePitCorrections, generatePitData, PIT_FIELDS, type PitScale } from './pit-data.ts';
import { median, timed } from './measure.ts';
import { startStepProcess } from './step-process.ts';
import { pythonWithPyarrow } from '../scripts/python.ts';

const run = promisify(execFile);

export interface PitOptions {
  scale: PitScale;
  reps: number;
  root: string;
  log: (line: string) => void;
  /** Copies the pit-join step's answer (Parquet) here before the data is removed: the formats case reads it. */
  keepOutput?: string;
}

export interface PitResult {
  rows: number;
  fundamental_rows: number;
  correction_rows: number;
  hippo_s: number;
  duckdb_s: number;
  /** The join alone, inputs already in memory. */
  pandas_s: number;
  polars_s: number;
  /** File to file, as the step works: read the Parquet inputs, join, write the answer as Parquet (zstd). */
  pandas_files_s: number;
  polars_files_s: number;
  ratio: number;
  hippo_runs_s: number[];
  duckdb_runs_s: number[];
  /** The step process's peak resident memory (from its `step.completed` metrics). */
  hippo_peak_rss_bytes: number;
  /** Cells checked equal between the two answers. */
  cells_checked: number;
  memory_limit: string;
}

/** DESIGN §7.2 defaults the benchmark runs with. */
const CUTOFF = '16:00';
const TIMEZONE = 'America/New_York';
/** The tier both sides run in: DuckDB gets the step's share of it. */
const TIER_BYTES = 16 * 1024 ** 3;
const RECORDED = '2024-01-02T00:00:00.000Z';
const CORRECTED = '2024-06-01T00:00:00.000Z';
const AS_OF = '2025-01-01T00:00:00.000Z';

/**
 * The point-in-time case (issue 3, DESIGN §7.2): Hippo's `pit-join` step through its
 * function — a real function process reading the panel and the fundamentals' lake parts
 * (two deliveries: the original and a vendor correction), joining, writing Parquet and
 * replying `step.completed` — against bare DuckDB ASOF SQL on the same tables already in
 * memory, pandas `merge_asof` and polars `join_asof` (bench/pit_baselines.py). Every answer
 * is checked equal to Hippo's, row by row, before any time is reported.
 */
export async function benchPit(options: PitOptions): Promise<PitResult> {
  const { scale, reps, log } = options;
  const dir = await mkdtemp(join(tmpdir(), 'hippo-bench-pit-'));
  const store = new FileStore(join(dir, 'store'));
  const memoryLimitBytes = Math.floor(TIER_BYTES * DUCKDB_MEMORY_SHARE);
  try {
    log(`pit: generating ${scale.sids} sids × ${scale.days} days, ${scale.quarters} quarters of ${PIT_FIELDS.length} fields…`);
    const counts = await withDuckDB({}, async (c) => {
      await generatePitData(c, scale);
      await generatePitCorrections(c);
      const files = { panel: join(dir, 'panel.parquet'), fundamentals: join(dir, 'fundamentals.parquet'), corrections: join(dir, 'corrections.parquet') };
      for (const [table, path] of [['panel', files.panel], ['fundamentals', files.fundamentals], ['fundamental_corrections', files.corrections]] as const) {
        await c.run(`COPY ${table} TO ${quotedString(path)} (FORMAT parquet, COMPRESSION zstd)`);
      }
      // The vendor's deliveries go in the way a user's do: validated by ingest, into lake parts.
      await ingestFiles(c, 'fundamentals', [{ path: files.fundamentals }], { store, tempDir: dir, recordedAt: RECORDED });
      await ingestFiles(c, 'fundamentals', [{ path: files.corrections }], { store, tempDir: dir, recordedAt: CORRECTED });
      await store.putFile('work/bench/panel/panel.parquet', files.panel);
      return count(c, `SELECT (SELECT count(*) FROM panel), (SELECT count(*) FROM fundamentals), (SELECT count(*) FROM fundamental_corrections)`);
    });
    const [rows, fundamentalRows, correctionRows] = counts;
    log(`pit: ${rows!.toLocaleString('en-US')} panel rows, ${fundamentalRows!.toLocaleString('en-US')} fundamental rows + ${correctionRows!.toLocaleString('en-US')} corrections`);

    // Hippo: the step's own process, as the local platform runs it.
    const hippoRuns: number[] = [];
    let peakRss = 0;
    let lastOutput = '';
    const step = await startStepProcess({ step: 'pit-join', store, root: options.root, tierBytes: TIER_BYTES });
    try {
      for (let rep = 0; rep <= reps; rep++) {
        const { ms, done } = await step.request({
          stepId: `pit-${rep}`, asOf: AS_OF, output: `work/bench/pit-${rep}`,
          params: { kind: 'fundamentals', names: [...PIT_FIELDS], cutoff: CUTOFF, timezone: TIMEZONE },
          inputs: { panel: 'work/bench/panel/panel.parquet' },
        });
        if (done.outputs.panel?.rows !== rows) throw new Error(`pit-join wrote ${done.outputs.panel?.rows} rows, expected ${rows}`);
        peakRss = Math.max(peakRss, done.metrics.peakRssBytes ?? 0);
        // The first request warms the process (as the second request to a scaled-up Service would find it).
        if (rep > 0) hippoRuns.push(ms / 1000);
        lastOutput = done.outputs.panel.key;
        log(`pit: hippo pit-join step ${rep === 0 ? '(warm-up)' : `run ${rep}`}: ${(ms / 1000).toFixed(2)} s`);
      }
    } finally {
      await step.stop();
    }

    // Bare DuckDB: the same tables, already in memory, in an instance with the same limit.
    const duckRuns: number[] = [];
    const cells = await withDuckDB({ memoryLimitBytes, tempDirectory: join(dir, 'spill') }, async (c) => {
      await c.run(`CREATE TABLE panel AS SELECT * FROM read_parquet(${quotedString(join(dir, 'panel.parquet'))})`);
      await loadDatasets(c, ['fundamentals'], { store, tempDir: dir, asOf: AS_OF });
      for (let rep = 0; rep <= reps; rep++) {
        await c.run('DROP TABLE IF EXISTS bare');
        const { ms } = await timed(() => c.run(bareAsofSql()));
        if (rep > 0) duckRuns.push(ms / 1000);
        log(`pit: bare DuckDB ASOF ${rep === 0 ? '(warm-up)' : `run ${rep}`}: ${(ms / 1000).toFixed(2)} s`);
      }
      const checked = await crossCheck(c, await store.localPath(lastOutput), rows!);
      // The same inputs for the Python baselines: the panel, and the fundamentals as of AS_OF.
      await mkdir(join(dir, 'baseline'));
      await c.run(`COPY panel TO ${quotedString(join(dir, 'baseline', 'panel.parquet'))} (FORMAT parquet)`);
      await c.run(`COPY (SELECT sid, field, period_end, value, published_at, recorded_at FROM fundamentals) TO ${quotedString(join(dir, 'baseline', 'fundamentals.parquet'))} (FORMAT parquet)`);
      return checked;
    });

    // pandas merge_asof and polars join_asof: the same rule, the same rows, checked equal too.
    const python = await pythonWithPyarrow();
    const baselines: Record<string, number[]> = {};
    const fileBaselines: Record<string, number[]> = {};
    for (const engine of ['pandas', 'polars'] as const) {
      const folder = join(dir, 'baseline');
      log(`pit: ${engine} (${reps} runs after a warm-up)…`);
      const { stdout } = await run(python, [join(options.root, 'bench', 'pit_baselines.py'), engine, folder, String(reps)], { maxBuffer: 1 << 24 });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { runs_s: number[]; files_runs_s: number[]; rows: number };
      baselines[engine] = out.runs_s;
      fileBaselines[engine] = out.files_runs_s;
      log(`pit: ${engine} runs: ${out.runs_s.map((x) => x.toFixed(2)).join(', ')} s; file to file: ${out.files_runs_s.map((x) => x.toFixed(2)).join(', ')} s`);
      await withDuckDB({ memoryLimitBytes, tempDirectory: join(dir, 'spill') }, async (c) => {
        await c.run(`CREATE TABLE hippo AS SELECT * FROM read_parquet(${quotedString(await store.localPath(lastOutput))})`);
        await c.run(`CREATE TABLE ${engine} AS SELECT * FROM read_parquet(${quotedString(join(folder, `${engine}.parquet`))})`);
        const list = (t: string) => `SELECT CAST(date AS DATE), CAST(sid AS VARCHAR), ${PIT_FIELDS.map((f) => `CAST(${f} AS DOUBLE)`).join(', ')} FROM ${t}`;
        const [onlyHippo, onlyOther] = await count(c, `SELECT (SELECT count(*) FROM (${list('hippo')} EXCEPT ALL ${list(engine)})), (SELECT count(*) FROM (${list(engine)} EXCEPT ALL ${list('hippo')}))`);
        if (onlyHippo || onlyOther || out.rows !== rows) {
          throw new Error(`pit cross-check failed: ${onlyHippo} rows only in Hippo's answer, ${onlyOther} only in ${engine}'s (of ${rows})`);
        }
      });
    }
    if (options.keepOutput) await copyFile(await store.localPath(lastOutput), options.keepOutput);
    const hippo = median(hippoRuns);
    const duck = median(duckRuns);
    return {
      rows: rows!, fundamental_rows: fundamentalRows!, correction_rows: correctionRows!,
      hippo_s: round(hippo), duckdb_s: round(duck), pandas_s: round(median(baselines.pandas!)), polars_s: round(median(baselines.polars!)),
      pandas_files_s: round(median(fileBaselines.pandas!)), polars_files_s: round(median(fileBaselines.polars!)),
      ratio: round(hippo / duck),
      hippo_runs_s: hippoRuns.map(round), duckdb_runs_s: duckRuns.map(round),
      hippo_peak_rss_bytes: peakRss, cells_checked: cells, memory_limit: `${(memoryLimitBytes / 1024 ** 3).toFixed(1)} GiB`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What a DuckDB user writes for the same rule (§7.2), one ASOF JOIN per field: a row is
 * available when published (a date-only row at the end of its day in New York); a row
 * counts only if no row available before it has a later period (an old period's
 * restatement never replaces a newer one); of rows available at one instant the last in
 * (period_end, value) order wins; the panel date sees what was available by its 16:00
 * close.
 */
export function bareAsofSql(): string {
  const fields = PIT_FIELDS.map((name, i) => ({ name, alias: `f${i}` }));
  return `CREATE TABLE bare AS
    WITH available AS (
      SELECT sid, field, period_end, value, recorded_at,
             CASE WHEN length(published_at) = 10 THEN timezone('${TIMEZONE}', CAST(published_at AS DATE) + INTERVAL 1 DAY)
                  ELSE CAST(published_at AS TIMESTAMPTZ) END AS avail
      FROM fundamentals
    ),
    changes AS (
      SELECT sid, field, value, avail FROM available
      WINDOW w AS (PARTITION BY sid, field ORDER BY avail, period_end, recorded_at, value)
      QUALIFY coalesce(period_end >= max(period_end) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), true)
          AND coalesce(lead(avail) OVER w <> avail, true)
    ),
    cutoffs AS (
      SELECT date, timezone('${TIMEZONE}', date + TIME '${CUTOFF}') AS cutoff_at FROM (SELECT DISTINCT date FROM panel)
    )
    SELECT p.*, ${fields.map((f) => `${f.alias}.value AS ${f.name}`).join(', ')}
    FROM (SELECT panel.*, cutoff_at FROM panel JOIN cutoffs USING (date)) p
    ${fields.map((f) => `ASOF LEFT JOIN (SELECT * FROM changes WHERE field = '${f.name}') ${f.alias} ON p.sid = ${f.alias}.sid AND p.cutoff_at >= ${f.alias}.avail`).join('\n    ')}`;
}

/** Every row and cell of Hippo's output equals bare DuckDB's (as multisets); returns the cells compared. */
async function crossCheck(c: DuckDBConnection, hippoPath: string, rows: number): Promise<number> {
  await c.run(`CREATE TABLE hippo AS SELECT * FROM read_parquet(${quotedString(hippoPath)})`);
  const columns = (await c.runAndReadAll('SELECT * FROM hippo LIMIT 0')).columnNames();
  const list = columns.map((n) => `"${n}"`).join(', ');
  const [onlyHippo, onlyBare, bareRows, filled] = await count(c, `SELECT
    (SELECT count(*) FROM (SELECT ${list} FROM hippo EXCEPT ALL SELECT ${list} FROM bare)),
    (SELECT count(*) FROM (SELECT ${list} FROM bare EXCEPT ALL SELECT ${list} FROM hippo)),
    (SELECT count(*) FROM bare),
    (SELECT count(${PIT_FIELDS[0]}) FROM hippo)`);
  if (onlyHippo || onlyBare || bareRows !== rows) {
    throw new Error(`pit cross-check failed: ${onlyHippo} rows only in Hippo's answer, ${onlyBare} only in bare DuckDB's (of ${rows})`);
  }
  if (!filled) throw new Error('pit cross-check: no value joined at all — the data generator is broken');
  return rows * columns.length;
}

async function count(c: DuckDBConnection, sql: string): Promise<number[]> {
  return (await c.runAndReadAll(sql)).getRowsJS()[0]!.map(Number);
}

const round = (x: number) => Math.round(x * 1000) / 1000;
