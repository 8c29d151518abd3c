// Backups (backup.ts, restore.ts) of a genuine store — the demo lake ingested as a user does it, a
// run of the equity-panel made by the real steps, an unfinished run with its active marker —
// on the file store and on S3 (moto): backup, wipe, restore, and every object comes back
// byte-identical and the run reads back with its verified result.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ledger } from '../../orchestration/index.ts';
import type { Run } from '../../orchestration/index.ts';
import { runToEnd, startEmbedded } from '../../local/embedded.ts';
import { demoStore } from '../../local/demo.ts';
import { s3Endpoint } from '../../local/helpers.test-support.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../shared/errors.ts';
import { FileStore } from '../../shared/file-store.ts';
import { keys, type ObjectStore } from '../../shared/object-store.ts';
import { rejectsWith } from '../../shared/object-store.contract.test-support.ts';
import { S3Store } from '../../shared/s3-store.ts';
import { backup } from './backup.ts';
import { BackupCorruptError, listBackups, readManifest } from './manifest.ts';
import { restore } from './restore.ts';

/** A store backend the tests run on: fresh stores of its kind, and the cleanup. */
interface Backend {
  name: string;
  /** A new, empty store of the test's own. */
  fresh(): Promise<ObjectStore>;
  close(): Promise<void>;
}

function fileBackend(): Backend {
  const dirs: string[] = [];
  return {
    name: 'file',
    fresh: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hippo-backup-test-'));
      dirs.push(dir);
      return new FileStore(dir);
    },
    close: async () => void (await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))),
  };
}

function s3Backend(): Backend {
  const stores: S3Store[] = [];
  return {
    name: 's3 (moto)',
    fresh: async () => {
      const store = new S3Store(`s3://hippo-backup-test/${randomUUID()}`, { endpoint: await s3Endpoint() });
      stores.push(store);
      return store;
    },
    close: async () => stores.forEach((s) => s.destroy()),
  };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every object of a store: key → sha256 of its bytes. */
async function snapshot(store: ObjectStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const o of await store.list('')) out.set(o.key, sha256((await store.get(o.key))!.body));
  return out;
}

async function copyAll(from: ObjectStore, to: ObjectStore): Promise<void> {
  for (const o of await from.list('')) await to.put(o.key, (await from.get(o.key))!.body);
}

async function wipe(store: ObjectStore): Promise<void> {
  for (const o of await store.list('')) await store.delete(o.key);
}

/** Objects this small go through memory, bigger ones (the Parquet parts, the results) through temp files. */
const SMALL = 4096;
const CONFIG = { HIPPO_TIERS: [1 << 30, 4 << 30, 16 << 30], HIPPO_STEP_TIMEOUT: 600 };

for (const backend of [fileBackend(), s3Backend()]) {
  interface Ctx { fixture: ObjectStore; runId: string; vendorDir: string }
  const test = suite<Ctx>(`backup and restore: ${backend.name}`);

  /** Once per backend: the demo lake, a finished run and an unfinished one. Each test works on its own copy. */
  test.before(async (ctx) => {
    const fixture = await backend.fresh();
    const { dir } = await demoStore({ scale: 0.1, store: fixture });
    const hippo = await startEmbedded({ store: fixture, config: CONFIG });
    try {
      const run = await runToEnd(hippo, { pipeline: 'equity-panel', params: { start: '2015-01-02', end: '2015-03-31' } });
      assert.is(run.status, 'succeeded', JSON.stringify(run.error));
      ctx.runId = run.id;
    } finally {
      await hippo.close();
    }
    const now = new Date().toISOString();
    await new Ledger(fixture).create({ id: 'queued-1', pipeline: 'equity-panel', params: {}, asOf: now, status: 'queued', steps: {}, createdAt: now, updatedAt: now } as Run);
    Object.assign(ctx, { fixture, vendorDir: dir });
  });
  test.after(async (ctx) => {
    await rm(ctx.vendorDir, { recursive: true, force: true });
    await backend.close();
  });

  const sourceOf = async (ctx: Ctx) => {
    const source = await backend.fresh();
    await copyAll(ctx.fixture, source);
    return source;
  };

  test('backup → wipe the store → restore: every object back byte-identical, the run and its result read back verified', async (ctx) => {
    const [source, backups] = [await sourceOf(ctx), await backend.fresh()];
    const before = await snapshot(source);
    const { manifest } = await backup(source, backups, { smallObjectBytes: SMALL });

    // The ledger with its markers, the results and the lake; no work/ (intermediate step outputs).
    const expected = [...before.keys()].filter((k) => !k.startsWith('work/'));
    assert.ok(before.size > expected.length, 'the fixture has work/ objects, left out');
    assert.equal(manifest.objects.map((e) => e.key), expected);
    assert.equal(manifest.objects.map((e) => e.sha256), expected.map((k) => before.get(k)));
    for (const key of [keys.run(ctx.runId), keys.run('queued-1'), keys.activeRun('queued-1'), keys.resultArrow(ctx.runId), keys.resultMeta(ctx.runId), keys.resultParquet(ctx.runId)]) {
      assert.ok(expected.includes(key), key);
    }
    assert.ok(expected.filter((k) => k.startsWith('lake/')).length >= 4, 'the lake parts');
    assert.equal(manifest.totals, {
      objects: expected.length,
      bytes: manifest.objects.reduce((n, e) => n + e.bytes, 0),
      copiedObjects: expected.length,
      copiedBytes: manifest.objects.reduce((n, e) => n + e.bytes, 0),
    });
    assert.is(manifest.source, source.url);
    assert.equal((await listBackups(backups)).map((b) => b.id), [manifest.id]);
    assert.not.ok(await backups.head('backups/lease.json'), 'the lease is released');

    await wipe(source);
    assert.equal(await source.list(''), []);
    const restored = await restore(backups, source, 'latest', { smallObjectBytes: SMALL });
    assert.equal([restored.manifest.id, restored.objects, restored.runs, restored.results], [manifest.id, expected.length, 2, 1]);
    assert.is(restored.lakeParts, expected.filter((k) => k.startsWith('lake/')).length);

    const after = await snapshot(source);
    assert.equal([...after], expected.map((k) => [k, before.get(k)]));
    const ledger = new Ledger(source);
    const run = (await ledger.get(ctx.runId))!;
    assert.is(run.status, 'succeeded');
    assert.is(sha256((await source.get(keys.resultArrow(run.id)))!.body), run.result!.sha256, 'the result is the one the run recorded');
    assert.equal((await ledger.active()).map((r) => r.id), ['queued-1'], 'the unfinished run is on the active list again');
  });

  test('incremental: the next backup copies only what changed; pruning keeps every copy a kept backup points at', async (ctx) => {
    const [source, backups] = [await sourceOf(ctx), await backend.fresh()];
    const first = (await backup(source, backups, { keep: 7 })).manifest;
    // A new lake part and a changed run (only its updatedAt: the same size, so only the ETag
    // tells); everything else is as the first backup found it.
    const part = first.objects.find((e) => e.key.startsWith('lake/prices/'))!;
    const newPart = part.key.replace(/-[^-]+\.parquet$/, '-01JZZZZZZZZZZZZZZZZZZZZZZZ.parquet');
    await source.put(newPart, (await source.get(part.key))!.body);
    const sizeBefore = (await source.head(keys.run('queued-1')))!.size;
    const { run: touched } = await new Ledger(source).update('queued-1', () => true);
    assert.is((await source.head(keys.run('queued-1')))!.size, sizeBefore);

    const second = await backup(source, backups, { keep: 1 });
    const m = second.manifest;
    assert.is(m.totals.copiedObjects, 2);
    assert.equal(m.objects.filter((e) => e.stored.startsWith(`backups/${m.id}/`)).map((e) => e.key).sort(), [keys.run('queued-1'), newPart].sort());
    assert.ok(m.objects.filter((e) => e.stored.startsWith(`backups/${first.id}/`)).length === m.objects.length - 2, 'the rest points at the first backup');
    // The first backup's manifest is gone, and of its copies only the old queued-1 record (no kept manifest needs it).
    assert.equal(second.pruned, { backups: [first.id], objects: 1 });
    assert.equal((await listBackups(backups)).map((b) => b.id), [m.id]);
    assert.not.ok(await backups.head(`backups/${first.id}/objects/${keys.run('queued-1')}`));

    const target = await backend.fresh();
    await restore(backups, target, m.id);
    const expected = [...(await snapshot(source))].filter(([k]) => !k.startsWith('work/'));
    assert.equal([...(await snapshot(target))], expected);
    assert.is((await new Ledger(target).get('queued-1'))!.updatedAt, touched.updatedAt);
  });

  test('a corrupted object in the backup: restore refuses, naming its key, and writes nothing', async (ctx) => {
    const [source, backups, target] = [await sourceOf(ctx), await backend.fresh(), await backend.fresh()];
    const { manifest } = await backup(source, backups);
    for (const corrupt of [manifest.objects.find((e) => e.key.startsWith('lake/'))!, manifest.objects.find((e) => e.key === keys.run(ctx.runId))!]) {
      const original = (await backups.get(corrupt.stored))!.body;
      const flipped = Uint8Array.from(original);
      flipped[flipped.length >> 1] ^= 0xff; // same size, one byte changed
      await backups.put(corrupt.stored, flipped);
      const err = await rejectsWith(restore(backups, target, manifest.id, { smallObjectBytes: SMALL }), BackupCorruptError, 'restore of a corrupt backup');
      assert.is(err.code, 'backup_corrupt');
      assert.match(err.message, `failed verification, nothing was restored: ${corrupt.key}: sha256 ${sha256(flipped)}`);
      assert.equal(err.problems!.map((p) => p.field), [corrupt.key]);
      assert.equal(await target.list(''), [], 'nothing written');
      await backups.put(corrupt.stored, original);
    }
    // A copy that is missing altogether is named as well.
    const gone = manifest.objects.at(-1)!;
    await backups.delete(gone.stored);
    const err = await rejectsWith(restore(backups, target, 'latest'), BackupCorruptError, 'restore with a missing copy');
    assert.equal(err.problems, [{ field: gone.key, message: `missing from the backup store (${gone.stored})` }]);
    assert.equal(await target.list(''), []);
  });

  test('a backup without its manifest (in progress, or died) is neither listed nor restored; the next backup clears it away', async (ctx) => {
    const [source, backups] = [await sourceOf(ctx), await backend.fresh()];
    const complete = (await backup(source, backups)).manifest;
    const unfinished = (await backup(source, backups, { incremental: false })).manifest;
    await backups.delete(`backups/${unfinished.id}/manifest.json`); // as if its process died just before writing it
    assert.ok((await backups.list(`backups/${unfinished.id}/`)).length > 0);
    assert.equal((await listBackups(backups)).map((b) => b.id), [complete.id]);
    const err = await rejectsWith(readManifest(backups, unfinished.id), NotFoundError, 'an unfinished backup');
    assert.match(err.message, /has no manifest: it is in progress or did not finish/);
    const target = await backend.fresh();
    await rejectsWith(restore(backups, target, unfinished.id), NotFoundError, 'restore of an unfinished backup');
    assert.equal(await target.list(''), []);
    assert.is((await restore(backups, target, 'latest')).manifest.id, complete.id);

    const next = (await backup(source, backups, { keep: 2 })).manifest;
    assert.equal(await backups.list(`backups/${unfinished.id}/`), [], 'its copies are gone');
    assert.equal((await listBackups(backups)).map((b) => b.id), [complete.id, next.id]);
  });

  test('restore refuses a store that is not empty unless forced', async (ctx) => {
    const [source, backups] = [await sourceOf(ctx), await backend.fresh()];
    await backup(source, backups);
    const before = await snapshot(source);
    const run = (await source.get(keys.run(ctx.runId)))!.body;
    await source.put(keys.run(ctx.runId), '{"changed":true}');
    const err = await rejectsWith(restore(backups, source, 'latest'), ConflictError, 'restore into a store with runs');
    assert.is(err.code, 'store_not_empty');
    assert.match(err.message, /is not empty \(\d+ objects under runs\/, e\.g\. runs\//);
    assert.is(new TextDecoder().decode((await source.get(keys.run(ctx.runId)))!.body), '{"changed":true}', 'untouched');
    await restore(backups, source, 'latest', { force: true });
    assert.equal((await source.get(keys.run(ctx.runId)))!.body, run);
    assert.equal(await snapshot(source), before);
  });

  test('one backup at a time: a held lease is a 409 backup_in_progress; one past its expiry is taken over', async (ctx) => {
    const [source, backups] = [await sourceOf(ctx), await backend.fresh()];
    const lease = (expiresAt: string) => backups.put('backups/lease.json', JSON.stringify({ id: 'another', expiresAt }));
    await lease(new Date(Date.now() + 60_000).toISOString());
    const err = await rejectsWith(backup(source, backups), ConflictError, 'a backup while another holds the lease');
    assert.is(err.code, 'backup_in_progress');
    assert.match(err.message, 'backup another is in progress');
    assert.equal(await listBackups(backups), []);
    await lease('2020-01-01T00:00:00.000Z');
    const { manifest } = await backup(source, backups);
    assert.equal((await listBackups(backups)).map((b) => b.id), [manifest.id]);
    assert.not.ok(await backups.head('backups/lease.json'));
  });

  test('a backup that lost its lease (taken over as if it had died) publishes no manifest', async (ctx) => {
    const [source, inner] = [await sourceOf(ctx), await backend.fresh()];
    let copies = 0;
    // The backup store as seen by a backup whose successor takes the lease over after its 3rd copy.
    const backups: ObjectStore = Object.create(inner, {
      put: {
        value: async (key: string, body: Uint8Array | string, opts?: object) => {
          if (key.includes('/objects/') && ++copies === 3) await inner.put('backups/lease.json', JSON.stringify({ id: 'successor', expiresAt: '2999-01-01T00:00:00Z' }));
          return inner.put(key, body, opts);
        },
      },
    });
    const err = await rejectsWith(backup(source, backups, { leaseMs: 1 }), ConflictError, 'a backup that lost its lease');
    assert.is(err.code, 'backup_lease_lost');
    assert.equal(await listBackups(inner), []);
    assert.match(new TextDecoder().decode((await inner.get('backups/lease.json'))!.body), 'successor', "the successor's lease is left alone");
  });

  test('a big object streams through a temp file both ways (a multipart upload on S3)', async (ctx) => {
    const [source, backups, target] = [await sourceOf(ctx), await backend.fresh(), await backend.fresh()];
    const big = new Uint8Array(17 * 1024 ** 2);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    const key = 'lake/prices/part-20300101T000000000Z-01JBBBBBBBBBBBBBBBBBBBBBBB.parquet';
    await source.put(key, big);
    const { manifest } = await backup(source, backups);
    assert.equal(manifest.objects.find((e) => e.key === key), { key, bytes: big.length, sha256: sha256(big), etag: (await source.head(key))!.etag, stored: `backups/${manifest.id}/objects/${key}` });
    await restore(backups, target, manifest.id);
    assert.is(sha256((await target.get(key))!.body), sha256(big));
  });

  test('ids: sortable by time; a bad id is a 400, an unknown one a 404', async (ctx) => {
    const [source, backups] = [await sourceOf(ctx), await backend.fresh()];
    const { manifest } = await backup(source, backups, { now: () => new Date('2026-03-04T05:06:07.089Z') });
    assert.match(manifest.id, /^20260304T050607089Z-[0-9A-Z]{26}$/);
    const bad = await rejectsWith(readManifest(backups, '../runs'), Error, 'a bad id');
    assert.is((bad as ConflictError).status, 400);
    await rejectsWith(readManifest(backups, '20260304T050607089Z-01JAAAAAAAAAAAAAAAAAAAAAAA'), NotFoundError, 'an unknown id');
    const itself = await rejectsWith(backup(source, source), ValidationError, 'a backup into the store it backs up');
    assert.match(itself.message, 'must go to another store');
  });

  test.run();
}
