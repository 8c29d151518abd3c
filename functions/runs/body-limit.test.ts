import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTP } from 'cloudevents';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { binaryMessage } from '../../shared/cloudevents.ts';
import { FileStore } from '../../shared/file-store.ts';
import { EventTypes, makeEvent } from '../../eventing/catalog.ts';
import { createApp } from './app.ts';
import { Ledger } from '../../orchestration/index.ts';

interface Ctx {
  dir: string;
  store: FileStore;
  app: ReturnType<typeof createApp>;
}
/**
 * HIPPO_MAX_BODY_BYTES (DESIGN §14): a body over the limit is 413 with the §9 error body at
 * every way in — `POST /runs`, `POST /` (binary and structured CloudEvents), the dashboard's
 * form — and nothing reaches the ledger. Each body here is a valid request padded with JSON
 * whitespace, so without the limit it would start a run.
 */
const test = suite<Ctx>('runs body limit');

const MiB = 1024 ** 2;
const REQUEST = { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' } };
const TOO_LARGE = {
  error: { code: 'payload_too_large', message: 'the request body is larger than the limit of 1048576 bytes (HIPPO_MAX_BODY_BYTES)' },
};

test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-body-limit-'));
  ctx.store = new FileStore(ctx.dir);
  ctx.app = createApp({ store: ctx.store, emit: async () => {}, stepTimeoutSeconds: 60 });
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

/** `json` followed by spaces up to `bytes` (ASCII: one byte a character). */
const padded = (json: string, bytes: number) => json + ' '.repeat(bytes - json.length);

const submit = (app: Ctx['app'], body: string, headers: Record<string, string> = {}) =>
  app.request('/runs', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

const runIds = async (store: FileStore) => (await new Ledger(store).list({ limit: 1000 })).map((r) => r.id);

async function refused(res: Response): Promise<void> {
  assert.is(res.status, 413);
  assert.equal(await res.json(), TOO_LARGE);
}

test('POST /runs: 2 MiB is 413 (declared or streamed) and starts nothing; exactly the limit is accepted', async ({ app, store }) => {
  const big = padded(JSON.stringify({ ...REQUEST, id: 'big' }), 2 * MiB);
  await refused(await submit(app, big, { 'content-length': String(big.length) }));
  await refused(await submit(app, big));
  assert.equal(await runIds(store), []);

  const atLimit = await submit(app, padded(JSON.stringify({ ...REQUEST, id: 'at-limit' }), MiB));
  assert.is(atLimit.status, 202);
  await refused(await submit(app, padded(JSON.stringify({ ...REQUEST, id: 'one-over' }), MiB + 1)));
  assert.equal(await runIds(store), ['at-limit']);
});

test('POST /: a 2 MiB CloudEvent, binary or structured, is 413 and starts nothing; just under the limit is accepted', async ({ app, store }) => {
  const binary = binaryMessage(makeEvent(EventTypes.runRequested, '/t', { ...REQUEST, id: 'binary' }));
  await refused(await app.request('/', { method: 'POST', headers: binary.headers, body: padded(binary.body, 2 * MiB) }));
  const structured = HTTP.structured(makeEvent(EventTypes.runRequested, '/t', { ...REQUEST, id: 'structured' }));
  const headers = Object.fromEntries(Object.entries(structured.headers).map(([k, v]) => [k, String(v)]));
  await refused(await app.request('/', { method: 'POST', headers, body: padded(String(structured.body), 2 * MiB) }));
  assert.equal(await runIds(store), []);

  const under = await app.request('/', { method: 'POST', headers: binary.headers, body: padded(binary.body, MiB - 1) });
  assert.is(under.status, 202);
  assert.equal(await runIds(store), ['binary']);
});

test('the dashboard\'s form: over the limit is 413 and starts nothing', async ({ app, store }) => {
  const form = (bytes: number) => {
    const fields = new URLSearchParams({ pipeline: REQUEST.pipeline, id: 'form', params: JSON.stringify(REQUEST.params) });
    // Spaces in the params JSON: one byte each once form-encoded (`+`).
    return `${fields}${'+'.repeat(bytes - fields.toString().length)}`;
  };
  const post = (bytes: number) => app.request('/ui/runs', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(bytes) });
  await refused(await post(2 * MiB));
  assert.equal(await runIds(store), []);
  const under = await post(MiB - 1);
  assert.is(under.status, 303);
  assert.equal(await runIds(store), ['form']);
});

test('the limit is HIPPO_MAX_BODY_BYTES when set', async ({ store }) => {
  const app = createApp({ store, emit: async () => {}, stepTimeoutSeconds: 60, maxBodyBytes: 4096 });
  const res = await submit(app, padded(JSON.stringify(REQUEST), 4097));
  assert.is(res.status, 413);
  assert.is(((await res.json()) as { error: { message: string } }).error.message, 'the request body is larger than the limit of 4096 bytes (HIPPO_MAX_BODY_BYTES)');
  assert.is((await submit(app, padded(JSON.stringify(REQUEST), 4096))).status, 202);
});

test.run();
