// The ObjectStore contract (object-store.ts), one suite that every backend passes: the file
// store in file-store.test.ts, the S3 store (against moto) in s3-store.test.ts. Not a test file
// itself: each backend's test file runs it with its own stores.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HippoError, PreconditionFailedError } from './errors.ts';
import type { ObjectStore } from './object-store.ts';

export interface ContractStores {
  store: ObjectStore;
  /** A second store object on the same data, standing for another process. */
  other: ObjectStore;
  /** An empty folder of the test's own (for putFile sources and localPath downloads). */
  tempDir: string;
  close(): Promise<void>;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Awaits `p`, which must reject with a `type`; returns the error. */
export async function rejectsWith<T extends Error>(p: Promise<unknown>, type: new (...args: never[]) => T, what: string): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, type, `${what}: ${err}`);
    return err as T;
  }
  assert.unreachable(`${what} must fail`);
  throw new Error('unreachable');
}

/**
 * Registers and runs the contract suite; `open` makes fresh, empty stores for each test.
 * @example objectStoreContract('file store', async () => { const dir = …; return { store: new FileStore(dir), other: new FileStore(dir), tempDir, close } });
 */
export function objectStoreContract(name: string, open: () => Promise<ContractStores>): void {
  const test = suite<{ s: ContractStores }>(`${name}: ObjectStore contract`, { s: undefined as unknown as ContractStores });
  test.before.each(async (ctx) => {
    ctx.s = await open();
  });
  test.after.each(async (ctx) => {
    await ctx.s.close();
  });

  test('put, get, head, list, delete; one etag everywhere', async ({ s: { store } }) => {
    const { etag } = await store.put('a/b/one.json', '{"x":1}', { contentType: 'application/json' });
    await store.put('a/b/two.json', new TextEncoder().encode('two'));
    await store.put('a/c.txt', 'c');
    const got = (await store.get('a/b/one.json'))!;
    assert.is(text(got.body), '{"x":1}');
    assert.is(got.etag, etag);
    assert.equal(await store.head('a/b/one.json'), { key: 'a/b/one.json', size: 7, etag });
    assert.equal((await store.list('a/b/')).map((o) => o.key), ['a/b/one.json', 'a/b/two.json']);
    const all = await store.list('a/');
    assert.equal(all.map((o) => [o.key, o.size]), [['a/b/one.json', 7], ['a/b/two.json', 3], ['a/c.txt', 1]]);
    assert.is(all[0]!.etag, etag);
    await store.delete('a/b/one.json');
    assert.is(await store.get('a/b/one.json'), undefined);
    assert.equal((await store.list('')).map((o) => o.key), ['a/b/two.json', 'a/c.txt']);
  });

  test('missing objects: undefined, a no-op delete, a not_found localPath', async ({ s: { store, tempDir } }) => {
    assert.is(await store.get('none/x'), undefined);
    assert.is(await store.getStream('none/x'), undefined);
    assert.is(await store.head('none/x'), undefined);
    assert.equal(await store.list('none/'), []);
    await store.delete('none/x');
    const err = await rejectsWith(store.localPath('none/x', tempDir), HippoError, 'localPath of a missing key');
    assert.is(err.code, 'not_found');
    assert.is(err.status, 404);
  });

  test('list: a prefix is a string prefix, keys come back whole and sorted', async ({ s: { store } }) => {
    for (const k of ['p/b', 'p/a/2', 'p/a/10', 'p/a/1', 'pz', 'p-x/1', 'q/1']) await store.put(k, k);
    assert.equal((await store.list('p/')).map((o) => o.key), ['p/a/1', 'p/a/10', 'p/a/2', 'p/b']);
    assert.equal((await store.list('p/a/1')).map((o) => o.key), ['p/a/1', 'p/a/10']);
    assert.equal((await store.list('p')).map((o) => o.key), ['p-x/1', 'p/a/1', 'p/a/10', 'p/a/2', 'p/b', 'pz']);
    assert.equal((await store.list('')).length, 7);
  });

  test('if-none-match * creates once', async ({ s: { store } }) => {
    await store.put('k', '1', { ifNoneMatch: '*' });
    await rejectsWith(store.put('k', '2', { ifNoneMatch: '*' }), PreconditionFailedError, 'a second create');
    assert.is(text((await store.get('k'))!.body), '1');
  });

  test('if-match refuses a stale etag and a missing object; a new body gets a new etag', async ({ s: { store } }) => {
    const first = await store.put('k', 'v1');
    const second = await store.put('k', 'v2', { ifMatch: first.etag });
    assert.is.not(first.etag, second.etag);
    assert.is((await store.head('k'))!.etag, second.etag);
    const err = await rejectsWith(store.put('k', 'v3', { ifMatch: first.etag }), PreconditionFailedError, 'a stale etag');
    assert.is(err.code, 'precondition_failed');
    assert.is(err.status, 412);
    assert.ok(err.retriable);
    assert.is(text((await store.get('k'))!.body), 'v2');
    await rejectsWith(store.put('gone', 'v', { ifMatch: first.etag }), PreconditionFailedError, 'if-match on a missing key');
    assert.is(await store.head('gone'), undefined);
  });

  test('two writers with one etag: exactly one wins, the other gets PreconditionFailedError', async ({ s: { store, other } }) => {
    for (let round = 0; round < 5; round++) {
      const { etag } = await store.put('run.json', `round ${round}`);
      const results = await Promise.allSettled([
        store.put('run.json', `A${round}`, { ifMatch: etag }),
        other.put('run.json', `B${round}`, { ifMatch: etag }),
      ]);
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i ? 'B' : 'A'] : []));
      assert.is(won.length, 1, `round ${round}: ${won.length} writers won`);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.instance(lost.reason, PreconditionFailedError);
      assert.is(text((await other.get('run.json'))!.body), `${won[0]}${round}`);
    }
  });

  test('20 concurrent compare-and-swap increments from two stores lose no update', async ({ s: { store, other } }) => {
    await store.put('counter', '0');
    const increment = async (s: ObjectStore) => {
      for (;;) {
        const cur = (await s.get('counter'))!;
        try {
          await s.put('counter', String(Number(text(cur.body)) + 1), { ifMatch: cur.etag });
          return;
        } catch (err) {
          if (!(err instanceof PreconditionFailedError)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? store : other)));
    assert.is(text((await store.get('counter'))!.body), '20');
  });

  test('putFile, getStream and localPath move whole files; putFile honours conditions', async ({ s: { store, tempDir } }) => {
    const src = join(tempDir, 'src.bin');
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
    await writeFile(src, bytes);
    const { etag } = await store.putFile('x/big.bin', src, { ifNoneMatch: '*' });
    assert.equal(await store.head('x/big.bin'), { key: 'x/big.bin', size: bytes.length, etag });
    const streamed = new Uint8Array(await new Response(await store.getStream('x/big.bin')).arrayBuffer());
    assert.ok(Buffer.from(streamed).equals(bytes), 'getStream returns the bytes');
    const local = await store.localPath('x/big.bin', tempDir);
    assert.ok((await readFile(local)).equals(bytes), 'localPath holds the bytes');
    await rejectsWith(store.putFile('x/big.bin', src, { ifNoneMatch: '*' }), PreconditionFailedError, 'putFile over an existing key');
    await writeFile(src, 'smaller');
    await rejectsWith(store.putFile('x/big.bin', src, { ifMatch: '"stale"' }), PreconditionFailedError, 'putFile with a stale etag');
    const next = await store.putFile('x/big.bin', src, { ifMatch: etag });
    assert.equal(await store.head('x/big.bin'), { key: 'x/big.bin', size: 7, etag: next.etag });
  });

  test('keys cannot escape the store', async ({ s: { store } }) => {
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', '.hidden', 'a/./b', '']) {
      const err = await rejectsWith(store.put(bad, 'x'), HippoError, `key "${bad}"`);
      assert.is(err.code, 'invalid_key');
      assert.match(err.message, /invalid object key/);
    }
  });

  test.run();
}
