import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { z } from 'zod';
import { ValidationError } from '../shared/errors.ts';
import { delistingAdjustParams } from '../functions/delisting-adjust/params.ts';
import { exportParams } from '../functions/export/params.ts';
import { pitJoinParams } from '../functions/pit-join/params.ts';
import { transcriptSplitParams } from '../functions/transcript-split/params.ts';
import { getPipeline } from './pipelines.ts';

/** Each step's own schema: what the step app accepts. */
const stepSchemas: Record<string, z.ZodType> = {
  'delisting-adjust': delistingAdjustParams,
  'pit-join': pitJoinParams,
  'transcript-split': transcriptSplitParams,
  export: exportParams,
};

async function refusal(pipeline: string, params: Record<string, unknown>): Promise<ValidationError> {
  try {
    await getPipeline(pipeline).prepare(params);
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error(`${pipeline} accepted ${JSON.stringify(params)}`);
}

test('every planned step gets params its own schema accepts, unchanged by it', async () => {
  const requests: [string, Record<string, unknown>][] = [
    ['equity-panel', { start: '2010-01-04', end: '2010-12-31' }],
    ['equity-panel', { start: '2010-01-04', end: '2010-12-31', fields: ['eps'], macro: ['GDP'], maxAge: '540d', audit: true, timezone: 'Europe/London', cutoff: '17:30', universe: 'SP500', delisting: 'vendor-only' }],
    ['transcripts', { start: '2020-01-01', end: '2020-03-31', sids: ['S1'] }],
  ];
  for (const [name, raw] of requests) {
    const { steps } = await getPipeline(name).prepare(raw);
    for (const s of steps) {
      const r = stepSchemas[s.step]!.safeParse(s.params);
      assert.ok(r.success, `${name} → ${s.stepId}: ${r.success ? '' : r.error.message}`);
      // Nothing added or dropped: but export's lineage, which the coordinator fills in at dispatch.
      const expected = s.step === 'export' ? { ...s.params, lineage: {} } : s.params;
      assert.equal(r.data, expected, `${name} → ${s.stepId}: the step's schema adds or drops nothing`);
    }
  }
});

test('the stricter rule everywhere: impossible dates and unknown time zones are refused by the pipelines and the steps', async () => {
  const date = await refusal('transcripts', { start: '2021-02-30', end: '2021-03-31' });
  assert.is(date.status, 400);
  assert.match(JSON.stringify(date.toBody()), /params\.start/);
  assert.match(date.message, /not a real calendar date/);
  const zone = await refusal('equity-panel', { start: '2010-01-04', end: '2010-12-31', timezone: 'Mars/Olympus_Mons' });
  assert.match(zone.message, /not an IANA time zone/);
  assert.not.ok(delistingAdjustParams.safeParse({ start: '2010-02-31', end: '2010-12-31' }).success);
  assert.not.ok(transcriptSplitParams.safeParse({ start: '2010-01-01', end: '2010-12-31', timezone: 'Nowhere/City' }).success);
  assert.not.ok(pitJoinParams.safeParse({ kind: 'macro', names: ['GDP'], timezone: 'Nowhere/City' }).success);
  assert.not.ok(pitJoinParams.safeParse({ kind: 'macro', names: ['GDP', 'GDP'] }).success, 'a name twice');
  assert.not.ok(pitJoinParams.safeParse({ kind: 'macro', names: [] }).success, 'no names');
});

test('equity-panel refuses panel column names and a name both field and series', async () => {
  assert.match((await refusal('equity-panel', { start: '2010-01-04', end: '2010-12-31', fields: ['ret'] })).message, /panel column/);
  assert.match((await refusal('equity-panel', { start: '2010-01-04', end: '2010-12-31', fields: ['x'], macro: ['x'] })).message, /both a field and a macro series/);
  assert.match((await refusal('equity-panel', { start: '2010-12-31', end: '2010-01-04' })).message, /start must not be after end/);
  assert.match((await refusal('equity-panel', { start: '2010-01-04', end: '2010-12-31', extra: 1 })).message, /extra|unrecognized/i);
});

test.run();
