import type { Hono } from 'hono';
import { loadDatasets } from '../../shared/lake.ts';
import { createStepApp, type StepDeps, type StepSpec } from '../step-app.ts';
import { pitJoinParams, type PitParams } from './params.ts';
import { writePitJoin } from './pit-join.ts';

/**
 * `pit-join`: adds point-in-time fundamentals or macro values to a panel (DESIGN §7.2) —
 * only what was published by each date's cutoff and recorded by the run's `asOf`.
 */
export const pitJoinStep: StepSpec<PitParams> = {
  name: 'pit-join',
  params: pitJoinParams,
  async run(c, req, ctx) {
    const { partition } = req.params;
    const lineage = await loadDatasets(c, [req.params.kind], {
      store: ctx.store,
      tempDir: ctx.tempDir,
      asOf: req.asOf,
      required: [req.params.kind],
      // A partition's panel holds its share of the securities: the others' fundamentals are never read.
      ...(partition && req.params.kind === 'fundamentals' ? { partitions: { fundamentals: { column: 'sid', ...partition } } } : {}),
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
