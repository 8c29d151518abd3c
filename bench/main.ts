// `npm run bench`: Hippo's figures, each against a baseline measured in the same run on the
// same data. Prints a table and writes `bench/results.json` (`--quick`:
// `bench/results.quick.json`, so a smoke run never overwrites the real figures).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { withDuckDB } from '../shared/duckdb.ts';
import { benchPit, type PitResult } from './pit.ts';
import { PIT_QUICK_SCALE, PIT_SCALE } from './pit-data.ts';
import { benchEvents } from './events.ts';
import { benchTranscripts, TRANSCRIPT_QUICK_SCALE, TRANSCRIPT_SCALE } from './transcripts.ts';
import { benchColdStart, COLD_START_TARGET_MS } from './cold-start.ts';
import { benchDelisting, DELISTING_QUICK_SCALE, DELISTING_SCALE } from './delisting.ts';
import { benchFormats, type FormatFigures, type FormatsResult } from './formats.ts';
import { benchE2e } from './e2e.ts';
import { benchFanout, FANOUT_QUICK_SCALE, FANOUT_SCALE, type FanoutFigures } from './fanout.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

const program = new Command('bench')
  .description("Hippo's benchmarks: every figure against a baseline measured in the same run")
  .option('--quick', 'small scale (seconds, for a smoke run)', false)
  .option('--reps <n>', 'timed repetitions per measurement (after one warm-up); the median is reported', (v) => Number(v))
  .option('--out <file>', 'where to write the JSON results')
  .parse();
const opts = program.opts<{ quick: boolean; reps?: number; out?: string }>();
const reps = opts.reps ?? (opts.quick ? 2 : 3);
const out = opts.out ?? join(root, 'bench', opts.quick ? 'results.quick.json' : 'results.json');
const log = (line: string) => process.stderr.write(`${line}\n`);

const started = Date.now();
// First, while the machine is quiet: seconds, not minutes.
const coldStart = await benchColdStart({ root, samples: opts.quick ? 3 : 7, log });
// The point-in-time answer (the equity panel with four fields) is the panel the formats case exports.
const kept = await mkdtemp(join(tmpdir(), 'hippo-bench-panel-'));
let pit: PitResult;
let formats: FormatsResult;
try {
  pit = await benchPit({ scale: opts.quick ? PIT_QUICK_SCALE : PIT_SCALE, reps, root, log, keepOutput: join(kept, 'panel.parquet') });
  formats = await benchFormats({ panel: join(kept, 'panel.parquet'), sortBy: ['date', 'sid'], reps, root, log });
} finally {
  await rm(kept, { recursive: true, force: true });
}
const delisting = await benchDelisting({ scale: opts.quick ? DELISTING_QUICK_SCALE : DELISTING_SCALE, reps, root, log });
const transcripts = await benchTranscripts({ scale: opts.quick ? TRANSCRIPT_QUICK_SCALE : TRANSCRIPT_SCALE, reps, root, log });
const events = await benchEvents({ events: opts.quick ? 300 : 3000, concurrency: 32, log });
const e2e = await benchE2e({ runs: opts.quick ? 3 : 10, root, log });
const fanout = await benchFanout({ scale: opts.quick ? FANOUT_QUICK_SCALE : FANOUT_SCALE, root, log });

const results = {
  date: new Date().toISOString(),
  scale: opts.quick ? 'quick' : 'default',
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    duckdb: await withDuckDB({}, async (c) => String((await c.runAndReadAll('SELECT version()')).getRowsJS()[0]![0])),
  },
  reps,
  pit,
  delisting,
  transcripts,
  formats,
  events,
  e2e,
  e2e_small_run_ms: { memory: e2e.memory.ms, kafka: e2e.kafka.ms },
  fanout,
  ...coldStart,
  /** Each step process's peak resident memory at this scale (its step.completed metrics). */
  peak_rss_bytes: {
    'pit-join': pit.hippo_peak_rss_bytes,
    'delisting-adjust': delisting.hippo_peak_rss_bytes,
    'transcript-split': transcripts.hippo_peak_rss_bytes,
    export: formats.export_peak_rss_bytes,
  },
  total_s: Math.round((Date.now() - started) / 1000),
};
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);

printTable([
  ['case', 'scale', 'Hippo', 'baseline', 'ratio', 'target'],
  [
    'point-in-time join (4 fields)',
    `${pit.rows.toLocaleString('en-US')} × ${pit.fundamental_rows.toLocaleString('en-US')}`,
    `${pit.hippo_s.toFixed(2)} s (pit-join step)`,
    `${pit.duckdb_s.toFixed(2)} s (bare DuckDB ASOF)`,
    `${pit.ratio.toFixed(2)}×`,
    '≤ 1.5×',
  ],
  ...(['pandas', 'polars'] as const).flatMap((engine) => [
    [
      `  … vs ${engine} (${engine === 'pandas' ? 'merge_asof' : 'join_asof'}, in memory)`,
      'same data',
      `${pit.hippo_s.toFixed(2)} s`,
      `${pit[`${engine}_s`].toFixed(2)} s`,
      `${(pit.hippo_s / pit[`${engine}_s`]).toFixed(2)}×`,
      '< 1×',
    ],
    [
      `  … vs ${engine} file to file (read, join, write Parquet)`,
      'same data',
      `${pit.hippo_s.toFixed(2)} s`,
      `${pit[`${engine}_files_s`].toFixed(2)} s`,
      `${(pit.hippo_s / pit[`${engine}_files_s`]).toFixed(2)}×`,
      '< 1×',
    ],
  ]),
  [
    'delisting adjustment',
    `${delisting.rows.toLocaleString('en-US')} panel rows (${delisting.securities.toLocaleString('en-US')} securities)`,
    `${mrows(delisting.hippo_rows_per_s)} rows/s (delisting-adjust step)`,
    `${mrows(delisting.duckdb_rows_per_s)} rows/s (its SQL, bare DuckDB, in memory)`,
    `${delisting.ratio.toFixed(2)}×`,
    '',
  ],
  [
    '  … vs a DuckDB script on the files',
    'same data',
    `${mrows(delisting.hippo_rows_per_s)} rows/s`,
    `${mrows(delisting.duckdb_files_rows_per_s)} rows/s (read Parquet → SQL → write Parquet)`,
    `${(delisting.hippo_s / delisting.duckdb_files_s).toFixed(2)}×`,
    '',
  ],
  [
    'transcript split',
    `${transcripts.calls.toLocaleString('en-US')} calls, ${transcripts.text_mb.toFixed(0)} MB`,
    `${transcripts.hippo_mb_per_s.toFixed(1)} MB/s (transcript-split step)`,
    `${transcripts.splitter_mb_per_s.toFixed(1)} MB/s (splitter alone, in memory)`,
    `${transcripts.ratio.toFixed(2)}×`,
    '',
  ],
  [
    'events: ingress → trigger → no-op fn → reply',
    `${events.kafka.events} events, ${events.kafka.concurrency} at once`,
    `${events.kafka.events_per_s.toFixed(0)} ev/s (Kafka)`,
    `${events.memory.events_per_s.toFixed(0)} ev/s (memory bus)`,
    `${(events.memory.events_per_s / events.kafka.events_per_s).toFixed(2)}×`,
    '',
  ],
]);
console.log(`\nsmall run, submit → result in hand (SDK; equity-panel ${e2e.params.start}…${e2e.params.end}, ${e2e.securities} securities, eps; 3 steps), ms:`);
printTable([
  ['bus', 'median', 'in the steps', 'with the SDK\'s wait', 'first run (from zero)', 'runs'],
  ...(['memory', 'kafka'] as const).map((b) => {
    const r = e2e[b];
    return [b, String(r.ms), String(r.steps_ms), String(r.sdk_wait_ms), String(r.first_ms), String(r.runs)];
  }),
]);
console.log(`\nresult formats, the pit-join answer (${formats.rows.toLocaleString('en-US')} rows × ${formats.columns} columns) exported in ${formats.export_s.toFixed(2)} s; decode = read into an in-memory table, median:`);
const fmt = (name: string, f: FormatFigures) => [
  name,
  mib(f.bytes), `${(f.bytes / formats.arrow_zstd.bytes).toFixed(2)}×`,
  `${f.pyarrow_s.toFixed(3)} s`, `${(f.pyarrow_s / formats.arrow_zstd.pyarrow_s).toFixed(2)}×`,
  `${f.node_s.toFixed(3)} s`, `${(f.node_s / formats.arrow_zstd.node_s).toFixed(2)}×`, f.node_reader,
];
printTable([
  ['format', 'size', 'vs Arrow', 'pyarrow', 'vs Arrow', 'Node', 'vs Arrow', 'Node reader'],
  fmt('Arrow IPC, zstd', formats.arrow_zstd),
  fmt('Parquet, zstd', formats.parquet_zstd),
  fmt('CSV, gzip', formats.csv_gzip),
]);
console.log('\npeak RSS of each step invocation at this scale (step.completed metrics; tier 16 GiB, transcript-split 1 GiB):');
printTable([
  ['step', 'peak RSS', 'input'],
  ['pit-join', mib(pit.hippo_peak_rss_bytes), `${pit.rows.toLocaleString('en-US')} panel rows × ${pit.fundamental_rows.toLocaleString('en-US')} fundamental rows`],
  ['delisting-adjust', mib(delisting.hippo_peak_rss_bytes), `${delisting.price_rows.toLocaleString('en-US')} price rows → ${delisting.rows.toLocaleString('en-US')} panel rows`],
  ['transcript-split', mib(transcripts.hippo_peak_rss_bytes), `${transcripts.calls.toLocaleString('en-US')} calls, ${transcripts.text_mb.toFixed(0)} MB`],
  ['export', mib(formats.export_peak_rss_bytes), `${formats.rows.toLocaleString('en-US')} rows × ${formats.columns} columns`],
]);
console.log('\nlatency added per hop, ms (p50 / p99):');
printTable([
  ['bus', 'ingress (POST → 202)', 'delivery (→ function)', 'reply (→ consumer)', 'end to end'],
  ...(['memory', 'kafka'] as const).map((b) => {
    const e = events[b];
    return [b, `${e.ingress_p50} / ${e.ingress_p99}`, `${e.delivery_p50} / ${e.delivery_p99}`, `${e.reply_p50} / ${e.reply_p99}`, `${e.end_to_end_p50} / ${e.end_to_end_p99}`];
  }),
]);
const one = fanout.p['1']!;
console.log(`\nfan-out: one equity-panel run, ${fanout.fields.length} fields, ${fanout.rows.toLocaleString('en-US')} rows, the same sha256 for every P; vs P = 1:`);
const fanRow = (name: string, f: FanoutFigures) => [
  name, String(f.partitions), String(f.instances), `${f.wall_s.toFixed(1)} s`, `${(f.wall_s / one.wall_s).toFixed(2)}×`,
  `${f.cpu_s.toFixed(1)} s`, `${(f.cpu_s / one.cpu_s).toFixed(2)}×`, `${f.steps_cpu_s.toFixed(1)} s`,
  `${f.max_rss_mib} MiB`, `${(f.max_rss_mib / one.max_rss_mib).toFixed(2)}×`, `${f.max_rss_mib_by_step.export ?? '–'} MiB`, String(f.invocations),
];
printTable([
  ['case', 'P', 'instances', 'wall', 'vs P=1', 'CPU (platform)', 'vs P=1', 'CPU (steps)', 'peak RSS / invocation', 'vs P=1', 'export (fan-in)', 'invocations'],
  ...Object.entries(fanout.p).map(([name, f]) => fanRow(name, f)),
  fanRow('16, scaled out', fanout.scaled_out),
]);
console.log(`\ncold start, process start → ready (node dist/functions/<name>/main.js, median), target < ${COLD_START_TARGET_MS} ms:`);
printTable([
  ['function', 'ms', 'samples'],
  ...Object.entries(coldStart.cold_start_ms).map(([fn, ms]) => [fn, String(ms), coldStart.cold_start_samples_ms[fn]!.join(' ')]),
]);
console.log(`\n${(pit.cells_checked + delisting.cells_checked).toLocaleString('en-US')} cells checked equal to bare DuckDB's (and pandas' and polars' point-in-time answers row by row); wrote ${out} in ${results.total_s} s`);

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toLocaleString('en-US', { maximumFractionDigits: bytes < 100 * 1024 ** 2 ? 1 : 0 })} MiB`;
}

function mrows(perSecond: number): string {
  return `${(perSecond / 1e6).toFixed(2)} M`;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
}
