import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PreconditionFailedError } from './errors.ts';
import { FileStore } from './file-store.ts';

const test = suite<{ dir: string; store: FileStore }>('file store', { dir: '', store: undefined as unknown as FileStore });

test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-fs-'));
  ctx.store = new FileStore(ctx.dir);
});
test.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

test('put, get, head, list, delete', async ({ store }) => {
  const { etag } = await store.put('a/b/one.json', '{"x":1}');
  await store.put('a/b/two.json', 'two');
  await store.put('a/c.txt', 'c');
  const got = await store.get('a/b/one.json');
  assert.is(new TextDecoder().decode(got!.body), '{"x":1}');
  assert.is(got!.etag, etag);
  assert.is((await store.head('a/b/one.json'))!.size, 7);
  assert.equal((await store.list('a/b/')).map((o) => o.key), ['a/b/one.json', 'a/b/two.json']);
  assert.equal((await store.list('a/')).map((o) => o.key), ['a/b/one.json', 'a/b/two.json', 'a/c.txt']);
  await store.delete('a/b/one.json');
  assert.is(await store.get('a/b/one.json'), undefined);
  assert.is(await store.head('missing'), undefined);
});

test('if-none-match * creates once', async ({ store }) => {
  await store.put('k', '1', { ifNoneMatch: '*' });
  try {
    await store.put('k', '2', { ifNoneMatch: '*' });
    assert.unreachable('second create must fail');
  } catch (err) {
    assert.instance(err, PreconditionFailedError);
  }
  assert.is(new TextDecoder().decode((await store.get('k'))!.body), '1');
});

test('if-match refuses a stale etag; every write changes the etag', async ({ store }) => {
  const first = await store.put('k', 'v1');
  const second = await store.put('k', 'v2', { ifMatch: first.etag });
  assert.is.not(first.etag, second.etag);
  try {
    await store.put('k', 'v3', { ifMatch: first.etag });
    assert.unreachable('stale etag must fail');
  } catch (err) {
    assert.instance(err, PreconditionFailedError);
  }
  assert.is(new TextDecoder().decode((await store.get('k'))!.body), 'v2');
});

test('50 concurrent compare-and-swap increments lose no update', async ({ store, dir }) => {
  await store.put('counter', '0');
  // Two store objects on one folder stand for two processes.
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
  // No temp or lock files are left behind.
  assert.equal(await readdir(dir), ['counter']);
});

test('putFile and getStream move whole files', async ({ store, dir }) => {
  const { writeFile } = await import('node:fs/promises');
  const src = join(dir, 'src.bin');
  const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
  await writeFile(src, bytes);
  await store.putFile('x/big.bin', src);
  const stream = await store.getStream('x/big.bin');
  const got = new Uint8Array(await new Response(stream).arrayBuffer());
  assert.is(got.length, bytes.length);
  assert.is(got[299_999], bytes[299_999]);
  assert.is(await store.getStream('x/none'), undefined);
});

test('keys cannot escape the root', async ({ store }) => {
  for (const bad of ['../x', '/etc/passwd', 'a/../../b', '.hidden']) {
    try {
      await store.put(bad, 'x');
      assert.unreachable(`key ${bad} must be refused`);
    } catch (err) {
      assert.match((err as Error).message, /invalid object key/);
    }
  }
});

test.run();
