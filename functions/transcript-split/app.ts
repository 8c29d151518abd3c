import type { Hono } from 'hono';
import { loadDatasets } from '../../shared/lake.ts';
import { createStepApp, type StepDeps, type StepSpec } from '../step-app.ts';
import { transcriptSplitParams, type SplitParams } from './params.ts';
import { splitTranscripts } from './transcript-split.ts';

/**
 * `transcript-split`: earnings-call transcripts whose call falls in the window, as turns —
 * section, speaker, role, title, firm, text (DESIGN §6.2, §7.3).
 */
export const transcriptSplitStep: StepSpec<SplitParams> = {
  name: 'transcript-split',
  params: transcriptSplitParams,
  async run(c, req, ctx) {
    const lineage = await loadDatasets(c, ['transcripts'], {
      store: ctx.store,
      tempDir: ctx.tempDir,
      asOf: req.asOf,
      required: ['transcripts'],
      defer: { transcripts: ['text'] },
      // A partition reads only its share of the calls (every §7.3 rule is per transcript).
      ...(req.params.partition ? { partitions: { transcripts: { column: 'transcript_id', ...req.params.partition } } } : {}),
    });
    const calls = await splitTranscripts(c, req.params, ctx.withConnection);
    const turns = await ctx.writeParquet('SELECT * FROM turns', 'turns');
    return { outputs: { turns }, lineage, rowsIn: calls, rowsOut: turns.rows };
  },
};

export function createApp(deps: StepDeps): Hono {
  return createStepApp(transcriptSplitStep, deps);
}
