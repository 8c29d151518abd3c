import type { Hono } from 'hono';
import { z } from 'zod';
import { loadDatasets } from '../../shared/lake.ts';
import { createStepApp, paramsParser, type StepDeps, type StepSpec } from '../step-app.ts';
import { splitTranscripts, type SplitParams } from './transcript-split.ts';

/**
 * `transcript-split`: earnings-call transcripts whose call falls in the window, as turns —
 * section, speaker, role, title, firm, text (DESIGN §6.2, §7.3).
 */
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const paramsSchema = z.object({
  start: isoDate,
  end: isoDate,
  sids: z.array(z.string().min(1)).min(1).optional(),
  timezone: z.string().min(1).default('America/New_York'),
});

export const transcriptSplitStep: StepSpec<SplitParams> = {
  name: 'transcript-split',
  parseParams: paramsParser('transcript-split', paramsSchema),
  async run(c, req, ctx) {
    const lineage = await loadDatasets(c, ['transcripts'], {
      store: ctx.store,
      tempDir: ctx.tempDir,
      asOf: req.asOf,
      required: ['transcripts'],
      defer: { transcripts: ['text'] },
    });
    const calls = await splitTranscripts(c, req.params, ctx.withConnection);
    const turns = await ctx.writeParquet('SELECT * FROM turns', 'turns');
    return { outputs: { turns }, lineage, rowsIn: calls, rowsOut: turns.rows };
  },
};

export function createApp(deps: StepDeps): Hono {
  return createStepApp(transcriptSplitStep, deps);
}
