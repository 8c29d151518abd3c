import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PreconditionFailedError } from './errors.ts';
import { FileStore } from './file-store.ts';
import { objectStoreContract } from './object-store.contract.test-support.ts';

objectStoreContract('file store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hippo-fs-'));
  const tempDir = await mkdtemp(join(tmpdir(), 'hippo-fs-tmp-'));
  return {
    store: new FileStore(dir),
    // Two store objects on one folder stand for two processes.
    other: new FileStore(dir),
    tempDir,
    close: async () => {
      await rm(dir, { recursive: true, force: true });
      await rm(tempDir, { recursive: true, force: true });
    },
  };
});

const test = suite<{ dir: string; store: FileStore }>('file store', { dir: '', store: undefined as unknown as FileStore });

test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-fs-'));
  ctx.store = new FileStore(ctx.dir);
});
test.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

test('every write changes the etag, even of the same bytes', async ({ store }) => {
  const first = await store.put('k', 'same');
  const second = await store.put('k', 'same', { ifMatch: first.etag });
  assert.is.not(first.etag, second.etag);
  try {
    await store.put('k', 'same', { ifMatch: first.etag });
    assert.unreachable('stale etag must fail');
  } catch (err) {
    assert.instance(err, PreconditionFailedError);
  }
});

test('50 concurrent compare-and-swap increments lose no update and leave no temp or lock file', async ({ store, dir }) => {
  await store.put('counter', '0');
  const other = new FileStore(dir);
  const increment = async (s: FileStore) => {
    for (;;) {
      const cur = (await s.get('counter'))!;
      const n = Number(new TextDecoder().decode(cur.body));
      try {
        await s.put('counter', String(n + 1), { ifMatch: cur.etag });
        return;
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: 50 }, (_, i) => increment(i % 2 ? store : other)));
  assert.is(new TextDecoder().decode((await store.get('counter'))!.body), '50');
  assert.equal(await readdir(dir), ['counter']);
});

test('localPath is the stored file itself', async ({ store, dir }) => {
  await store.put('lake/p/part-1.parquet', 'x');
  assert.is(await store.localPath('lake/p/part-1.parquet'), join(dir, 'lake', 'p', 'part-1.parquet'));
});

test.run();
