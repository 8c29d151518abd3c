// The dead-letter sink's decisions (DESIGN §10): one tier up, or the end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { binaryMessage, eventFromResponse } from '../../shared/cloudevents.ts';
import { stepRequestedEvent, type StepFailed } from '../../eventing/catalog.ts';
import { createApp } from './app.ts';

const app = createApp({ tiers: 3 });

async function deadLetter(tier: number, ext: Record<string, string>): Promise<StepFailed> {
  const e = stepRequestedEvent('/t', {
    runId: 'r', stepId: 'pit-join-fundamentals', step: 'pit-join', params: {}, asOf: '2024-01-01T00:00:00Z', inputs: {}, output: 'work/r/p', attempt: tier + 1, tier,
  }).cloneWith({ knativeerrordest: 'http://pit-join-t0/', ...ext });
  const m = binaryMessage(e);
  const res = await app.request('/', { method: 'POST', headers: m.headers, body: m.body });
  return (await eventFromResponse(res))!.data as StepFailed;
}

const body = (code: string, message: string) => Buffer.from(JSON.stringify({ error: { code, message } })).toString('base64');

test('507 out of memory below the top tier → the next tier', async () => {
  const d = await deadLetter(0, { knativeerrorcode: '507', knativeerrordata: body('out_of_memory', 'Out of Memory Error: failed to allocate') });
  assert.is(d.error.code, 'out_of_memory');
  assert.is(d.error.nextTier, 1);
  assert.is(d.attempt, 1);
});

test('no answer (the process died) and 502 → the next tier', async () => {
  assert.is((await deadLetter(1, {})).error.nextTier, 2);
  assert.is((await deadLetter(0, { knativeerrorcode: '502' })).error.nextTier, 1);
});

test('out of memory at the top tier → the step fails with out_of_memory', async () => {
  const d = await deadLetter(2, { knativeerrorcode: '507', knativeerrordata: body('out_of_memory', 'Out of Memory Error') });
  assert.is(d.error.code, 'out_of_memory');
  assert.is(d.error.nextTier, undefined);
});

test('4xx (bad input) fails at once, whatever the tier', async () => {
  const d = await deadLetter(0, { knativeerrorcode: '422', knativeerrordata: body('invalid_input', 'lake/fundamentals/part-1.parquet is not Parquet') });
  assert.is(d.error.code, 'invalid_input');
  assert.is(d.error.nextTier, undefined);
  assert.match(d.error.message, /part-1\.parquet/);
});

test.run();
