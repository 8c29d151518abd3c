import type { Hono } from 'hono';
import { z } from 'zod';
import { loadDatasets } from '../../shared/lake.ts';
import { createStepApp, paramsParser, type StepDeps, type StepSpec } from '../step-app.ts';
import { writePitJoin, type PitParams } from './pit-join.ts';

/**
 * `pit-join`: adds point-in-time fundamentals or macro values to a panel (DESIGN §7.2) —
 * only what was published by each date's cutoff and recorded by the run's `asOf`.
 */
const paramsSchema = z.object({
  kind: z.enum(['fundamentals', 'macro']),
  names: z.array(z.string().min(1)).min(1),
  cutoff: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM').default('16:00'),
  timezone: z.string().min(1).default('America/New_York'),
  maxAge: z.string().regex(/^\d+d$/, 'must be a number of days like 540d').optional(),
  audit: z.boolean().default(false),
});

export const pitJoinStep: StepSpec<PitParams> = {
  name: 'pit-join',
  parseParams: paramsParser('pit-join', paramsSchema),
  async run(c, req, ctx) {
    const lineage = await loadDatasets(c, [req.params.kind], {
      store: ctx.store,
      tempDir: ctx.tempDir,
      asOf: req.asOf,
      required: [req.params.kind],
    });
    // From the input file straight into the output file: the panel is never held as a table.
    const panelPath = await ctx.inputPath(req.inputs.panel!);
    const panel = await writePitJoin(c, panelPath, req.params, (select, values) => ctx.writeParquet(select, 'panel', values));
    return { outputs: { panel }, lineage, rowsIn: panel.rows, rowsOut: panel.rows };
  },
};

export function createApp(deps: StepDeps): Hono {
  return createStepApp(pitJoinStep, deps);
}
