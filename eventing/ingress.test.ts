import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { HippoEvent } from '../shared/cloudevents.ts';
import { createIngress } from './ingress.ts';

const test = suite('broker ingress');

test('binary mode → 202 and the event on the bus', async () => {
  const got: HippoEvent[] = [];
  const app = createIngress(async (e) => void got.push(e));
  const res = await app.request('/', {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0', 'ce-type': 'dev.hippo.run.requested', 'ce-source': 'curl', 'ce-id': 'abc-1',
      'ce-runid': 'r1', 'content-type': 'application/json',
    },
    body: JSON.stringify({ pipeline: 'equity-panel', params: {} }),
  });
  assert.is(res.status, 202);
  assert.is(got.length, 1);
  assert.is(got[0]!.id, 'abc-1');
  assert.is(got[0]!.runid, 'r1');
  assert.equal(got[0]!.data, { pipeline: 'equity-panel', params: {} });
});

test('an event over the body limit is 413 with the JSON error body and never reaches the bus', async () => {
  const got: HippoEvent[] = [];
  const app = createIngress(async (e) => void got.push(e), 4096);
  const body = JSON.stringify({ pipeline: 'equity-panel', params: {} });
  const post = (bytes: number) =>
    app.request('/', {
      method: 'POST',
      headers: { 'ce-specversion': '1.0', 'ce-type': 'dev.hippo.run.requested', 'ce-source': 'curl', 'ce-id': `big-${bytes}`, 'content-type': 'application/json' },
      body: body + ' '.repeat(bytes - body.length),
    });
  const res = await post(4097);
  assert.is(res.status, 413);
  assert.equal(await res.json(), { error: { code: 'payload_too_large', message: 'the request body is larger than the limit of 4096 bytes (HIPPO_MAX_BODY_BYTES)' } });
  assert.is(got.length, 0);
  assert.is((await post(4096)).status, 202);
  assert.is(got.length, 1);
});

test('structured mode → 202', async () => {
  const got: HippoEvent[] = [];
  const app = createIngress(async (e) => void got.push(e));
  const res = await app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', type: 'dev.hippo.run.requested', source: 'x', id: 's-1', datacontenttype: 'application/json', data: { a: 1 } }),
  });
  assert.is(res.status, 202);
  assert.is(got[0]!.id, 's-1');
  assert.equal(got[0]!.data, { a: 1 });
});

test('not a CloudEvent → 400 invalid_event, nothing published', async () => {
  const got: HippoEvent[] = [];
  const app = createIngress(async (e) => void got.push(e));
  const res = await app.request('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.is(res.status, 400);
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'invalid_event');
  assert.is(got.length, 0);
});

test('the bus refusing → 5xx, so the sender knows it was not accepted', async () => {
  const app = createIngress(async () => {
    throw new Error('bus down');
  });
  const res = await app.request('/', {
    method: 'POST',
    headers: { 'ce-specversion': '1.0', 'ce-type': 't', 'ce-source': 's', 'ce-id': '1' },
    body: '',
  });
  assert.is(res.status, 500);
});

test.run();
