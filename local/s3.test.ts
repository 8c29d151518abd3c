import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../shared/config.ts';
import { S3Store } from '../shared/s3-store.ts';
import { Hippo } from '../sdk/index.ts';
import { freePort, startLocalPlatform, type LocalPlatform } from './dev.ts';
import { demoStore } from './demo.ts';
import { s3Endpoint } from './helpers.test-support.ts';

interface Ctx { dir: string; store: S3Store; platform: LocalPlatform; hippo: Hippo }
/**
 * Hippo on S3 (moto) end to end: the demo ingested into `s3://…`, the local platform's
 * function processes reading and writing the bucket, a run fetched through the SDK and
 * through the presigned link the API offers.
 */
const test = suite<Ctx>('on S3 (moto, real processes)');
const ROOT = new URL('..', import.meta.url).pathname;

test.before(async (ctx) => {
  const endpoint = await s3Endpoint();
  const store = new S3Store(`s3://hippo-e2e/${randomUUID()}`, { endpoint });
  Object.assign(ctx, await demoStore({ scale: 0.1, store }));
  ctx.platform = await startLocalPlatform({
    config: loadConfig({ HIPPO_STORE: store.url, S3_ENDPOINT: endpoint, HIPPO_LOG_LEVEL: 'warn' }),
    store, root: ROOT, port: await freePort(), brokerPort: 0, idleMs: 30_000,
  });
  ctx.hippo = new Hippo({ url: ctx.platform.runsUrl });
});

test.after(async (ctx) => {
  await ctx.platform?.stop();
  ctx.store?.destroy();
  await rm(ctx.dir, { recursive: true, force: true });
});

test('the equity-panel demo run succeeds with HIPPO_STORE=s3://…; ledger, lake and result live in the bucket', async ({ hippo, store }) => {
  const { id } = await hippo.submit('equity-panel', { start: '2015-01-02', end: '2015-12-31', fields: ['eps'], macro: ['GDP'] });
  const run = await hippo.wait(id, { timeoutMs: 120_000 });
  const table = await hippo.result(id);
  assert.is(table.numRows, run.result!.rows);
  assert.ok(table.numRows > 1000);
  assert.ok(await store.head(`runs/${id}.json`), 'the ledger entry is in the bucket');
  assert.ok(await store.head(`results/${id}.arrow`), 'the result is in the bucket');
  assert.ok((await store.list('lake/prices/')).length > 0, 'the lake is in the bucket');
});

test('a succeeded run offers a presigned download that plain fetch reads, byte for byte', async ({ hippo, platform }) => {
  const { id } = await hippo.submit('transcripts', { start: '2020-01-01', end: '2020-12-31' });
  const run = await hippo.wait(id, { timeoutMs: 120_000 });
  const view = (await (await fetch(`${platform.runsUrl}/runs/${id}`)).json()) as { links: { download?: string } };
  assert.ok(view.links.download?.startsWith('http'), 'a presigned link');
  const res = await fetch(view.links.download!);
  assert.is(res.status, 200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.is(createHash('sha256').update(bytes).digest('hex'), run.result!.sha256);
  const csv = await (await fetch(`${platform.runsUrl}/runs/${id}/result?format=csv`)).text();
  assert.ok(csv.startsWith('transcript_id,sid,call_start,published_at,section,turn,speaker,role,title,firm,text,words\n'));
});

test.run();
