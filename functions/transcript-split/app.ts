import type { Hono } from 'hono';
import { loadDatasets, partitionBounds } from '../../shared/lake.ts';
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
    const { partition } = req.params;
    const lake = { store: ctx.store, tempDir: ctx.tempDir, asOf: req.asOf };
    // A partition reads only its range of calls (every §7.3 rule is per transcript).
    const calls = partition && (await partitionBounds(c, 'transcripts', 'transcript_id', partition, lake));
    const lineage = await loadDatasets(c, ['transcripts'], {
      ...lake,
      required: ['transcripts'],
      defer: { transcripts: ['text'] },
      ...(calls ? { partitions: { transcripts: calls } } : {}),
    });
    const split = await splitTranscripts(c, req.params, ctx.withConnection);
    const turns = await ctx.writeParquet('SELECT * FROM turns', 'turns');
    return { outputs: { turns }, lineage, rowsIn: split, rowsOut: turns.rows };
  },
};

export function createApp(deps: StepDeps): Hono {
  return createStepApp(transcriptSplitStep, deps);
}
