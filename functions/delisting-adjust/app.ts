import type { Hono } from 'hono';
import { loadDatasets, loadDistinct, partitionBounds } from '../../shared/lake.ts';
import { createStepApp, type StepDeps, type StepSpec } from '../step-app.ts';
import { delistingAdjustParams, type DelistingParams } from './params.ts';
import { delistingAdjust } from './delisting-adjust.ts';

/** `delisting-adjust`: the survivorship-free, delisting-adjusted panel of DESIGN §7.1. */
export const delistingAdjustStep: StepSpec<DelistingParams> = {
  name: 'delisting-adjust',
  params: delistingAdjustParams,
  async run(c, req, ctx) {
    const { partition } = req.params;
    // Panel dates come from prices in [start, end]: no other price row is ever read.
    const window = { column: 'date', from: req.params.start, to: req.params.end };
    const lake = { store: ctx.store, tempDir: ctx.tempDir, asOf: req.asOf };
    // A partition is a range of sids, cut from the securities' list (every partition cuts the same).
    const sids = partition && (await partitionBounds(c, 'securities', 'sid', partition, lake));
    const lineage = await loadDatasets(c, ['securities', 'prices', 'symbols', 'memberships'], {
      ...lake,
      required: ['securities', 'prices'],
      ranges: { prices: window },
      // A partition reads only its securities' rows (the big one: prices)…
      ...(sids ? { partitions: { securities: sids, prices: sids } } : {}),
    });
    // …and the panel dates of every security's prices, without their rows.
    if (partition) await loadDistinct(c, 'panel_dates', 'prices', window, lake);
    const rowsIn = Number((await c.runAndReadAll('SELECT count(*) FROM prices')).getRowsJS()[0]![0]);
    await delistingAdjust(c, req.params, partition ? { panelDates: 'panel_dates' } : {});
    const panel = await ctx.writeParquet('SELECT * FROM panel ORDER BY date, sid', 'panel');
    return { outputs: { panel }, lineage, rowsIn, rowsOut: panel.rows };
  },
};

export function createApp(deps: StepDeps): Hono {
  return createStepApp(delistingAdjustStep, deps);
}
