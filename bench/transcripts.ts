import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { withDuckDB } from '../shared/duckdb.ts';
import { FileStore } from '../shared/file-store.ts';
import { syntheticTranscripts, transcriptJson } from '../demo/demo-transcripts.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { splitTranscript } from '../functions/transcript-split/split.ts';
import { median, timed } from './measure.ts';
import { startStepProcess } from './step-process.ts';

export interface TranscriptScale {
  calls: number;
  averageBytes: number;
}

export const TRANSCRIPT_SCALE: TranscriptScale = { calls: 3000, averageBytes: 18_000 };
export const TRANSCRIPT_QUICK_SCALE: TranscriptScale = { calls: 200, averageBytes: 18_000 };

export interface TranscriptResult {
  calls: number;
  text_mb: number;
  turns: number;
  hippo_s: number;
  hippo_mb_per_s: number;
  splitter_s: number;
  splitter_mb_per_s: number;
  ratio: number;
  hippo_peak_rss_bytes: number;
}

const TIER_BYTES = 1024 ** 3;
const RECORDED = '2024-01-02T00:00:00.000Z';

/**
 * The transcript case (DESIGN §7.3): the `transcript-split` step through its function — texts
 * streamed from the lake part, split, turns written as Parquet — in MB of text per second,
 * against the splitter alone on the same texts already in memory (no I/O): the ratio is what
 * streaming and writing cost. The step's turn count is checked against the turns the
 * generator says it wrote before any time is reported.
 */
export async function benchTranscripts(options: { scale: TranscriptScale; reps: number; root: string; log: (line: string) => void }): Promise<TranscriptResult> {
  const { scale, reps, log } = options;
  const dir = await mkdtemp(join(tmpdir(), 'hippo-bench-transcripts-'));
  const store = new FileStore(join(dir, 'store'));
  try {
    log(`transcripts: generating ${scale.calls} calls of ~${Math.round(scale.averageBytes / 1000)} KB…`);
    const texts: string[] = [];
    let expectedTurns = 0;
    let textBytes = 0;
    const path = join(dir, 'transcripts.jsonl');
    const out = createWriteStream(path);
    for (const call of syntheticTranscripts(7, scale.calls, { averageBytes: scale.averageBytes })) {
      texts.push(call.text);
      expectedTurns += call.turns.length;
      textBytes += Buffer.byteLength(call.text);
      if (!out.write(`${transcriptJson(call)}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    await withDuckDB({}, (c) => ingestFiles(c, 'transcripts', [{ path }], { store, tempDir: dir, recordedAt: RECORDED }));
    const mb = textBytes / 1e6;
    log(`transcripts: ${scale.calls} calls, ${mb.toFixed(1)} MB of text, ${expectedTurns.toLocaleString('en-US')} turns`);

    const hippoRuns: number[] = [];
    let peakRss = 0;
    const step = await startStepProcess({ step: 'transcript-split', store, root: options.root, tierBytes: TIER_BYTES });
    try {
      for (let rep = 0; rep <= reps; rep++) {
        const { ms, done } = await step.request({
          stepId: `split-${rep}`, asOf: RECORDED, output: `work/bench/split-${rep}`, inputs: {},
          params: { start: '1990-01-01', end: '2100-12-31' },
        });
        if (done.outputs.turns?.rows !== expectedTurns) throw new Error(`transcript-split wrote ${done.outputs.turns?.rows} turns, the generator wrote ${expectedTurns}`);
        peakRss = Math.max(peakRss, done.metrics.peakRssBytes ?? 0);
        if (rep > 0) hippoRuns.push(ms / 1000);
        log(`transcripts: hippo transcript-split step ${rep === 0 ? '(warm-up)' : `run ${rep}`}: ${(ms / 1000).toFixed(2)} s`);
      }
    } finally {
      await step.stop();
    }

    const splitRuns: number[] = [];
    for (let rep = 0; rep <= reps; rep++) {
      const { ms, value: turns } = await timed(async () => texts.reduce((n, t) => n + splitTranscript(t).length, 0));
      if (turns !== expectedTurns) throw new Error(`the splitter found ${turns} turns, the generator wrote ${expectedTurns}`);
      if (rep > 0) splitRuns.push(ms / 1000);
    }
    const hippo = median(hippoRuns);
    const splitter = median(splitRuns);
    return {
      calls: scale.calls, text_mb: round(mb), turns: expectedTurns,
      hippo_s: round(hippo), hippo_mb_per_s: round(mb / hippo),
      splitter_s: round(splitter), splitter_mb_per_s: round(mb / splitter),
      ratio: round(hippo / splitter), hippo_peak_rss_bytes: peakRss,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
