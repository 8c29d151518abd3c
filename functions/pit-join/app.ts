import type { Hono } from 'hono';
import { quotedString, type DuckDBConnection } from '@duckdb/node-api';
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
    const panelPath = await ctx.inputPath(req.inputs.panel!);
    // A partition's panel is a range of sids: fundamentals outside it are never read (parts are
    // sorted by sid, so whole row groups are skipped). Macro series are not per security.
    const sids = req.params.partition && req.params.kind === 'fundamentals' ? await sidSpan(c, panelPath) : undefined;
    const lineage = await loadDatasets(c, [req.params.kind], {
      store: ctx.store,
      tempDir: ctx.tempDir,
      asOf: req.asOf,
      required: [req.params.kind],
      ...(sids ? { ranges: { fundamentals: sids } } : {}),
    });
    // From the input file straight into the output file: the panel is never held as a table.
    const panel = await writePitJoin(c, panelPath, req.params, (select, values) => ctx.writeParquet(select, 'panel', values));
    return { outputs: { panel }, lineage, rowsIn: panel.rows, rowsOut: panel.rows };
  },
};

/** The panel's lowest and highest sid, as a range of the fundamentals' key; undefined for an empty panel (nothing to narrow). */
async function sidSpan(c: DuckDBConnection, panelPath: string): Promise<{ column: string; from: string; to: string } | undefined> {
  const [lo, hi] = (await c.runAndReadAll(`SELECT min(sid), max(sid) FROM read_parquet(${quotedString(panelPath)})`)).getRowsJS()[0]!;
  return lo === null || hi === null ? undefined : { column: 'sid', from: String(lo), to: String(hi) };
}

export function createApp(deps: StepDeps): Hono {
  return createStepApp(pitJoinStep, deps);
}
