import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Hono } from 'hono';
import { eventResponse, readEvent, type HippoEvent } from '../shared/cloudevents.ts';
import { EventTypes, makeEvent } from './catalog.ts';
import { Dispatcher, withTimeout, type Deliver } from './dispatcher.ts';
import { MemoryBus } from './memory-bus.ts';
import type { Trigger } from './triggers.ts';

const trigger = (subscriber = 'step'): Trigger => ({
  name: 'test',
  filter: { type: EventTypes.stepRequested, step: 'x' },
  subscriber,
  delivery: { retry: 3, backoffPolicy: 'exponential', backoffDelayMs: 100, timeoutMs: 1000, deadLetterSink: 'dls' },
});

const event = () => makeEvent(EventTypes.stepRequested, '/test', { hello: 1 }, { runid: 'r1', step: 'x', tier: '0' });

/** A subscriber that answers with the given statuses in turn, and a dead-letter sink that records. */
function setup(statuses: number[], opts: { reply?: boolean } = {}) {
  const bus = new MemoryBus();
  const calls: string[] = [];
  const dead: HippoEvent[] = [];
  const sleeps: number[] = [];
  const published: HippoEvent[] = [];
  const step = new Hono().post('/', async (c) => {
    const e = await readEvent(c.req.raw);
    calls.push(e.id);
    const status = statuses.shift() ?? 200;
    if (status === 200 && opts.reply) return eventResponse(makeEvent(EventTypes.stepCompleted, '/step', { ok: true }, { runid: 'r1' }));
    return c.json({ error: { code: `code_${status}`, message: `status ${status}` } }, status as 400);
  });
  const dls = new Hono().post('/', async (c) => {
    dead.push(await readEvent(c.req.raw));
    return c.body(null, 202);
  });
  const deliver: Deliver = async (service, req) => (service === 'dls' ? dls.fetch(req) : step.fetch(req));
  const dispatcher = new Dispatcher({ bus, triggers: [trigger()], deliver, sleep: async (ms) => void sleeps.push(ms) });
  void bus.subscribe('spy', async (e) => void published.push(e));
  return { bus, dispatcher, calls, dead, sleeps, published };
}

const test = suite('dispatcher (Knative delivery semantics)');

test('503 twice then 200: delivered, exponential backoff 100, 200', async () => {
  const s = setup([503, 503, 200]);
  await s.dispatcher.start();
  await s.bus.publish(event());
  await s.bus.idle();
  assert.is(s.calls.length, 3);
  assert.equal(s.sleeps, [100, 200]);
  assert.is(s.dead.length, 0);
});

test('422 goes straight to the dead-letter sink with knativeerror* extensions', async () => {
  const s = setup([422]);
  await s.dispatcher.start();
  const e = event();
  await s.bus.publish(e);
  await s.bus.idle();
  assert.is(s.calls.length, 1);
  assert.is(s.dead.length, 1);
  const d = s.dead[0]!;
  assert.is(d.id, e.id);
  assert.is(d.type, e.type);
  assert.is(d.knativeerrorcode, '422');
  assert.is(d.knativeerrordest, 'http://step/');
  const body = JSON.parse(Buffer.from(d.knativeerrordata!, 'base64').toString());
  assert.equal(body, { error: { code: 'code_422', message: 'status 422' } });
});

test('exhausted retries dead-letter with the last status', async () => {
  const s = setup([507, 507, 507, 507]);
  await s.dispatcher.start();
  await s.bus.publish(event());
  await s.bus.idle();
  assert.is(s.calls.length, 4); // 1 + retry 3
  assert.equal(s.sleeps, [100, 200, 400]);
  assert.is(s.dead[0]!.knativeerrorcode, '507');
});

test('no response at all: retried, then dead-lettered without knativeerrorcode', async () => {
  const bus = new MemoryBus();
  const dead: HippoEvent[] = [];
  let calls = 0;
  const dls = new Hono().post('/', async (c) => {
    dead.push(await readEvent(c.req.raw));
    return c.body(null, 202);
  });
  // A real HTTP connection to a port nobody listens on.
  const deliver: Deliver = async (service, req) => {
    if (service === 'dls') return dls.fetch(req);
    calls++;
    return fetch(new Request('http://127.0.0.1:9/', req));
  };
  const d = new Dispatcher({ bus, triggers: [trigger()], deliver, sleep: async () => {} });
  await d.start();
  await bus.publish(event());
  await bus.idle();
  assert.is(calls, 4);
  assert.is(dead.length, 1);
  assert.is(dead[0]!.knativeerrorcode, undefined);
  assert.is(dead[0]!.knativeerrordest, 'http://step/');
});

test('a 2xx reply carrying a CloudEvent is published back to the bus', async () => {
  const s = setup([200], { reply: true });
  await s.dispatcher.start();
  await s.bus.publish(event());
  await s.bus.idle();
  const types = s.published.map((e) => e.type);
  assert.equal(types, [EventTypes.stepRequested, EventTypes.stepCompleted]);
});

test('a subscriber slower than the timeout: retried, then dead-lettered with no code', async () => {
  const bus = new MemoryBus();
  const dead: HippoEvent[] = [];
  let calls = 0;
  const slow = new Hono().post('/', async (c) => {
    calls++;
    await new Promise((r) => setTimeout(r, 200));
    return c.body(null, 200);
  });
  const dls = new Hono().post('/', async (c) => {
    dead.push(await readEvent(c.req.raw));
    return c.body(null, 202);
  });
  const t: Trigger = { ...trigger(), delivery: { ...trigger().delivery, retry: 1, timeoutMs: 50 } };
  const deliver: Deliver = (service, req, timeoutMs) => withTimeout(Promise.resolve((service === 'dls' ? dls : slow).fetch(req)), timeoutMs);
  const d = new Dispatcher({ bus, triggers: [t], deliver, sleep: async () => {} });
  await d.start();
  await bus.publish(event());
  await bus.idle();
  assert.is(calls, 2);
  assert.is(dead.length, 1);
  assert.is(dead[0]!.knativeerrorcode, undefined);
});

test('routing by type + step + tier: each tier has its own subscriber', async () => {
  const bus = new MemoryBus();
  const got: string[] = [];
  const triggers: Trigger[] = [0, 1].map((tier) => ({
    ...trigger(`step-t${tier}`),
    name: `t${tier}`,
    filter: { type: EventTypes.stepRequested, step: 'x', tier: String(tier) },
  }));
  const deliver: Deliver = async (service) => {
    got.push(service);
    return new Response(null, { status: 200 });
  };
  const d = new Dispatcher({ bus, triggers, deliver, sleep: async () => {} });
  await d.start();
  await bus.publish(makeEvent(EventTypes.stepRequested, '/t', {}, { runid: 'r', step: 'x', tier: '1' }));
  await bus.publish(makeEvent(EventTypes.stepRequested, '/t', {}, { runid: 'r', step: 'x', tier: '0' }));
  await bus.publish(makeEvent(EventTypes.stepRequested, '/t', {}, { runid: 'r', step: 'x', tier: '2' }));
  await bus.idle();
  assert.equal(got.sort(), ['step-t0', 'step-t1']);
});

test('the filter selects: other types and steps are not delivered', async () => {
  const s = setup([]);
  await s.dispatcher.start();
  await s.bus.publish(makeEvent(EventTypes.stepRequested, '/t', {}, { runid: 'r', step: 'other', tier: '0' }));
  await s.bus.publish(makeEvent(EventTypes.runCompleted, '/t', {}, { runid: 'r', step: 'x' }));
  await s.bus.idle();
  assert.is(s.calls.length, 0);
});

test.run();
