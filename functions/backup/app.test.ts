import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent } from 'cloudevents';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { binaryMessage } from '../../shared/cloudevents.ts';
import { FileStore } from '../../shared/file-store.ts';
import { createApp } from './app.ts';
import { listBackups, type BackupSummary } from './manifest.ts';
import { restore } from './restore.ts';

interface Ctx { dir: string; store: FileStore; backups: FileStore }
const test = suite<Ctx>('backup function');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-backup-fn-'));
  ctx.store = new FileStore(join(ctx.dir, 'store'));
  ctx.backups = new FileStore(join(ctx.dir, 'backups'));
  await ctx.store.put('runs/r1.json', '{"id":"r1","status":"succeeded"}');
  await ctx.store.put('results/r1.arrow', new Uint8Array([1, 2, 3, 4]));
  await ctx.store.put('lake/prices/part-20260101T000000000Z-01JAAAAAAAAAAAAAAAAAAAAAAA.parquet', new Uint8Array(100).fill(7));
  await ctx.store.put('work/r1/export/result.parquet', 'intermediate');
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

/** What a PingSource sends: `dev.knative.sources.ping`, binary mode. */
function ping(app: ReturnType<typeof createApp>) {
  const m = binaryMessage(new CloudEvent({ type: 'dev.knative.sources.ping', source: '/apis/v1/namespaces/hippo/pingsources/backup-tick', data: {} }));
  return app.request('/', { method: 'POST', headers: m.headers, body: m.body });
}

test('a tick backs the store up and answers with the summary; the next tick copies only what changed and keeps `keep`', async ({ store, backups }) => {
  const app = createApp({ store, backups, keep: 1 });
  const first = await ping(app);
  assert.is(first.status, 200);
  const a = (await first.json()) as { id: string; source: string; to: string; objects: number; bytes: number; copiedObjects: number; pruned: { backups: string[] } };
  assert.equal([a.source, a.to, a.objects, a.bytes, a.copiedObjects], [store.url, backups.url, 3, 32 + 4 + 100, 3]);
  assert.equal(a.pruned.backups, []);

  await store.put('runs/r2.json', '{"id":"r2"}');
  const b = (await (await ping(app)).json()) as typeof a;
  assert.equal([b.objects, b.copiedObjects], [4, 1]);
  assert.equal(b.pruned.backups, [a.id], 'keep 1');

  const listed = (await (await app.request('/backups')).json()) as { backups: BackupSummary[] };
  assert.equal(listed.backups.map((x) => [x.id, x.objects]), [[b.id, 4]]);
  assert.equal(await listBackups(backups), listed.backups);
  const target = new FileStore(`${store.root}-restored`);
  await restore(backups, target, 'latest');
  assert.equal((await target.list('')).map((o) => o.key), (await store.list('')).map((o) => o.key).filter((k) => !k.startsWith('work/')));
});

test('a tick while another backup holds the lease: 409 backup_in_progress; not a CloudEvent: 400', async ({ store, backups }) => {
  const app = createApp({ store, backups, keep: 7 });
  await backups.put('backups/lease.json', JSON.stringify({ id: 'other', expiresAt: new Date(Date.now() + 60_000).toISOString() }));
  const busy = await ping(app);
  assert.is(busy.status, 409);
  assert.is(((await busy.json()) as { error: { code: string } }).error.code, 'backup_in_progress');
  const bad = await app.request('/', { method: 'POST', body: '{}' });
  assert.is(bad.status, 400);
  assert.is(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_event');
});

test.run();
