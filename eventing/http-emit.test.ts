import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { HippoEvent } from '../shared/cloudevents.ts';
import { HippoError } from '../shared/errors.ts';
import { EventTypes, makeEvent } from './catalog.ts';
import { httpEmit } from './http-emit.ts';

/**
 * A broker of the test's own on 127.0.0.1: `/answer/<status>` answers that status with the
 * body `<status> says no`; `/silent` never answers; every request is kept by its `ce-id`.
 */
interface Ctx { server: Server; base: string; seen: Map<string, { headers: IncomingHttpHeaders; body: string }> }
const test = suite<Ctx>('httpEmit (binary mode, Knative delivery rule)');

test.before(async (ctx) => {
  ctx.seen = new Map();
  ctx.server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      ctx.seen.set(String(req.headers['ce-id']), { headers: req.headers, body });
      const status = /^\/answer\/(\d+)$/.exec(req.url ?? '')?.[1];
      if (status) res.writeHead(Number(status)).end(`${status} says no`);
    });
  });
  await new Promise<void>((resolve) => ctx.server.listen(0, '127.0.0.1', resolve));
  ctx.base = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}`;
});

test.after(async (ctx) => {
  ctx.server.closeAllConnections();
  await new Promise((resolve) => ctx.server.close(resolve));
});

const event = (id: string) =>
  makeEvent(EventTypes.runRequested, '/test/http-emit', { pipeline: 'equity-panel', params: { n: 1 } }, { runid: `run-${id}` }).cloneWith({ id }) as HippoEvent;

/** What an emit came to: 'accepted', or the error's fields. */
async function outcome(emit: ReturnType<typeof httpEmit>, id: string): Promise<unknown> {
  return emit(event(id)).then(
    () => 'accepted',
    (err: HippoError) => ({ hippo: err instanceof HippoError, code: err.code, status: err.status, retriable: err.retriable, message: err.message }),
  );
}

test('202: accepted, the event sent in binary mode (ce-* headers, the data as the JSON body)', async (ctx) => {
  const sink = `${ctx.base}/answer/202`;
  assert.is(await outcome(httpEmit(sink), 'accept-1'), 'accepted');
  const { headers, body } = ctx.seen.get('accept-1')!;
  assert.equal(
    [headers['ce-specversion'], headers['ce-id'], headers['ce-type'], headers['ce-source'], headers['ce-runid'], headers['ce-partitionkey']],
    ['1.0', 'accept-1', 'dev.hippo.run.requested', '/test/http-emit', 'run-accept-1', 'run-accept-1'],
  );
  assert.match(String(headers['content-type']), /^application\/json/);
  assert.equal(JSON.parse(body), { pipeline: 'equity-panel', params: { n: 1 } });
});

test('5xx, 404, 408, 409, 429: a retriable 503 unavailable that names the status and the body', async (ctx) => {
  for (const status of [500, 502, 503, 507, 404, 408, 409, 429]) {
    const sink = `${ctx.base}/answer/${status}`;
    assert.equal(await outcome(httpEmit(sink), `retry-${status}`), {
      hippo: true, code: 'unavailable', status: 503, retriable: true,
      message: `broker at ${sink} refused event retry-${status}: ${status} ${status} says no`,
    }, String(status));
  }
});

test('any other 4xx refuses the event: not retriable, the status and the start of the body in the message', async (ctx) => {
  for (const status of [400, 401, 403, 413, 422]) {
    const sink = `${ctx.base}/answer/${status}`;
    assert.equal(await outcome(httpEmit(sink), `refuse-${status}`), {
      hippo: true, code: 'refused', status, retriable: false,
      message: `broker at ${sink} refused event refuse-${status}: ${status} ${status} says no`,
    }, String(status));
  }
});

test('a broker that never answers: retriable 503 once timeoutMs has passed, not later', async (ctx) => {
  const sink = `${ctx.base}/silent`;
  const t0 = Date.now();
  const got = await outcome(httpEmit(sink, { timeoutMs: 200 }), 'silent-1');
  const took = Date.now() - t0;
  assert.equal(got, {
    hippo: true, code: 'unavailable', status: 503, retriable: true,
    message: `broker at ${sink} did not take event silent-1: no answer within 200 ms`,
  });
  assert.ok(took >= 190 && took < 1_000, `took ${took} ms`);
  assert.ok(ctx.seen.has('silent-1'), 'the request reached the broker');
});

test('nothing listening: retriable 503 with the network error', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const sink = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
  await new Promise((resolve) => closed.close(resolve));
  const got = (await outcome(httpEmit(sink, { timeoutMs: 2_000 }), 'down-1')) as { message: string };
  assert.match(got.message, new RegExp(`^broker at ${sink} did not take event down-1: fetch failed: .*ECONNREFUSED`));
  assert.equal({ ...got, message: '' }, { hippo: true, code: 'unavailable', status: 503, retriable: true, message: '' });
});

test.run();
