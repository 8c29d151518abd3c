// The S3 store against a real S3 API: moto's server. `npm test` starts one and passes its
// S3_ENDPOINT; run alone (`node --import tsx shared/s3-store.test.ts`), this file starts its
// own on a free port with scripts/s3.mjs and stops it at the end. It never skips.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { s3Endpoint } from '../local/helpers.test-support.ts';
import { ConfigError, HippoError, PreconditionFailedError } from './errors.ts';
import { objectStoreContract, rejectsWith } from './object-store.contract.test-support.ts';
import { S3Store, type S3StoreOptions } from './s3-store.ts';
import { openStore } from './store.ts';

const endpoint = await s3Endpoint();

/** One bucket for this process, one prefix a test: tests never see each other's objects. */
const bucket = `hippo-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const opened: S3Store[] = [];
let prefixes = 0;

function newPrefix(): string {
  return `t${++prefixes}-${randomBytes(3).toString('hex')}`;
}

function s3(prefix: string, options: S3StoreOptions = {}): S3Store {
  const store = new S3Store(`s3://${bucket}/${prefix}`, { endpoint, ...options });
  opened.push(store);
  return store;
}

/** Deletes every object of the store (moto keeps them in memory) and closes every client. */
async function cleanUp(store: S3Store): Promise<void> {
  const all = await store.list('');
  for (let i = 0; i < all.length; i += 1000) {
    const Objects = all.slice(i, i + 1000).map((o) => ({ Key: store.prefix + o.key }));
    await store.client.send(new DeleteObjectsCommand({ Bucket: store.bucket, Delete: { Objects, Quiet: true } }));
  }
  for (const s of opened.splice(0)) s.destroy();
}

/** Counts the SDK commands a store sends, by name (`ListObjectsV2Command`…). */
function countCommands(store: S3Store): Record<string, number> {
  const counts: Record<string, number> = {};
  store.client.middlewareStack.add(
    (next, context) => (args) => {
      counts[context.commandName!] = (counts[context.commandName!] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'hippoTestCommandCounter' },
  );
  return counts;
}

async function sha256(stream: ReadableStream<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
}

objectStoreContract('s3 store (moto)', async () => {
  const prefix = newPrefix();
  const store = s3(prefix);
  const tempDir = await mkdtemp(join(tmpdir(), 'hippo-s3-'));
  return {
    store,
    // Another client on the same bucket and prefix stands for another process.
    other: s3(prefix),
    tempDir,
    close: async () => {
      await cleanUp(store);
      await rm(tempDir, { recursive: true, force: true });
    },
  };
});

const MiB = 1024 ** 2;
/** Small multipart settings: a 12 MiB file goes up in three parts (5 + 5 + 2 MiB). */
const multipart = { multipartThreshold: 5 * MiB, partSize: 5 * MiB };

const test = suite<{ prefix: string; store: S3Store; dir: string }>('s3 store', { prefix: '', store: undefined as never, dir: '' });

test.before.each(async (ctx) => {
  ctx.prefix = newPrefix();
  ctx.store = s3(ctx.prefix, multipart);
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-s3-'));
});
test.after.each(async (ctx) => {
  await cleanUp(ctx.store);
  await rm(ctx.dir, { recursive: true, force: true });
});

test('the bucket is made on first use; prefixes keep stores apart', async () => {
  const fresh = `hippo-new-${randomBytes(4).toString('hex')}`;
  const one = new S3Store(`s3://${fresh}/team/one`, { endpoint });
  const two = new S3Store(`s3://${fresh}/team/two/`, { endpoint });
  const root = new S3Store(`s3://${fresh}`, { endpoint });
  opened.push(one, two, root);
  assert.is(one.url, `s3://${fresh}/team/one`);
  assert.is(two.url, `s3://${fresh}/team/two`);
  assert.is(root.url, `s3://${fresh}`);
  await Promise.all([one.put('runs/a.json', '1'), two.put('runs/b.json', '2')]);
  assert.equal((await one.list('')).map((o) => o.key), ['runs/a.json']);
  assert.equal((await two.list('runs/')).map((o) => o.key), ['runs/b.json']);
  assert.equal((await root.list('team/')).map((o) => o.key), ['team/one/runs/a.json', 'team/two/runs/b.json']);
  assert.is(await one.get('runs/b.json'), undefined);
  // A console's "Create folder" marker is no object of the store.
  await root.client.send(new PutObjectCommand({ Bucket: fresh, Key: 'team/one/lake/', Body: '' }));
  assert.equal((await one.list('')).map((o) => o.key), ['runs/a.json']);
  await root.client.send(new DeleteObjectCommand({ Bucket: fresh, Key: 'team/one/lake/' }));
  await cleanUp(root);
});

test('list pages through 1100 keys and returns them all, sorted', async ({ store }) => {
  const keys = Array.from({ length: 1100 }, (_, i) => `lake/prices/part-${String(i).padStart(4, '0')}.parquet`);
  const shuffled = [...keys].sort(() => Math.random() - 0.5);
  for (let i = 0; i < shuffled.length; i += 50) await Promise.all(shuffled.slice(i, i + 50).map((k) => store.put(k, k)));
  await store.put('lake/symbols/part-0.parquet', 'other dataset');
  const counts = countCommands(store);
  const listed = await store.list('lake/prices/');
  assert.is(listed.length, 1100);
  assert.equal(listed.map((o) => o.key), keys);
  assert.equal(listed[7], { key: keys[7]!, size: keys[7]!.length, etag: (await store.head(keys[7]!))!.etag });
  assert.is(counts.ListObjectsV2Command, 2, 'two pages of at most 1000');
});

test('a file above the multipart threshold round-trips byte for byte', async ({ store, dir }) => {
  const bytes = randomBytes(12 * MiB);
  const want = createHash('sha256').update(bytes).digest('hex');
  const src = join(dir, 'big.parquet');
  await writeFile(src, bytes);
  const counts = countCommands(store);
  const { etag } = await store.putFile('lake/big.parquet', src);
  assert.is(counts.CreateMultipartUploadCommand, 1);
  assert.is(counts.UploadPartCommand, 3);
  assert.is(counts.PutObjectCommand, undefined);
  assert.match(etag, /^"[0-9a-f]{32}-3"$/); // S3's multipart ETag: md5 of the parts' md5s, "-" parts
  assert.equal(await store.head('lake/big.parquet'), { key: 'lake/big.parquet', size: bytes.length, etag });
  assert.is(await sha256((await store.getStream('lake/big.parquet'))!), want);
  const local = await store.localPath('lake/big.parquet', dir);
  assert.is(createHash('sha256').update(await readFile(local)).digest('hex'), want);
  const gets = counts.GetObjectCommand;
  assert.is(await store.localPath('lake/big.parquet', dir), local);
  assert.is(counts.GetObjectCommand, gets, 'the second localPath is the downloaded file');
  assert.is(createHash('sha256').update((await store.get('lake/big.parquet'))!.body).digest('hex'), want);
});

test('multipart putFile: if-none-match and if-match, and no upload left behind on failure', async ({ store, dir }) => {
  const src = join(dir, 'big.bin');
  await writeFile(src, randomBytes(6 * MiB));
  const { etag } = await store.putFile('results/r.arrow', src, { ifNoneMatch: '*' });
  assert.match(etag, /-2"$/);
  await rejectsWith(store.putFile('results/r.arrow', src, { ifNoneMatch: '*' }), PreconditionFailedError, 'a second create');
  await rejectsWith(store.putFile('results/r.arrow', src, { ifMatch: '"0123456789abcdef0123456789abcdef-2"' }), PreconditionFailedError, 'a stale etag');
  await writeFile(src, randomBytes(7 * MiB));
  const next = await store.putFile('results/r.arrow', src, { ifMatch: etag });
  assert.is((await store.head('results/r.arrow'))!.size, 7 * MiB);
  assert.is.not(next.etag, etag);
  const uploads = await store.client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: store.prefix }));
  assert.is(uploads.Uploads?.length ?? 0, 0);
});

test('getStream streams: the first chunk arrives before the body is read', async ({ store }) => {
  const size = 12 * MiB;
  await store.put('results/big.arrow', randomBytes(size));
  const stream = (await store.getStream('results/big.arrow'))!;
  const reader = stream.getReader();
  const first = await reader.read();
  assert.ok(!first.done);
  assert.ok(first.value!.byteLength < size / 4, `first chunk is ${first.value!.byteLength} bytes of ${size}`);
  await reader.cancel();
  // The store still answers after a reader walked away from a stream.
  assert.is((await store.head('results/big.arrow'))!.size, size);
});

test('a presigned URL downloads with plain fetch', async ({ store }) => {
  const bytes = randomBytes(100_000);
  await store.put('results/r1.arrow', bytes);
  const url = (await store.presign('results/r1.arrow', 600))!;
  assert.match(url, /X-Amz-Signature=/);
  assert.match(url, /X-Amz-Expires=600/);
  const res = await fetch(url);
  assert.is(res.status, 200);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
  assert.is(await store.presign('results/none.arrow'), undefined);
  await rejectsWith(store.presign('results/r1.arrow', 0), RangeError, 'a zero lifetime');
  await rejectsWith(store.presign('results/r1.arrow', 8 * 24 * 3600), RangeError, 'more than 7 days');
});

test('openStore: s3:// is an S3Store at S3_ENDPOINT; a malformed URL is a ConfigError naming HIPPO_STORE', async () => {
  const fresh = `hippo-open-${randomBytes(4).toString('hex')}`;
  const store = openStore({ HIPPO_STORE: `s3://${fresh}/dev`, S3_ENDPOINT: endpoint });
  assert.instance(store, S3Store);
  opened.push(store as S3Store);
  assert.is(store.url, `s3://${fresh}/dev`);
  await store.put('runs/r.json', '{}', { ifNoneMatch: '*' });
  assert.equal((await store.list('')).map((o) => o.key), ['runs/r.json']);
  await cleanUp(store as S3Store);
  for (const bad of ['s3://', 's3:///x', 's3://Bad_Bucket/x', 's3://ab', 's3://ok-bucket//x', 's3://ok-bucket/a/../b', 'gs://x/y']) {
    const err = await rejectsWith(Promise.resolve().then(() => openStore({ HIPPO_STORE: bad, S3_ENDPOINT: endpoint })), ConfigError, bad);
    assert.ok(err.message.startsWith(`HIPPO_STORE=${bad}: `), err.message);
  }
});

test('access denied is reported as such, and no bucket is created', async () => {
  // A server that refuses everything as S3 does without permission (moto allows all).
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  try {
    const store = new S3Store('s3://locked/x', { endpoint: `http://127.0.0.1:${port}` });
    opened.push(store);
    const err = await rejectsWith(store.put('k', 'v'), HippoError, 'a put without permission');
    assert.is(err.code, 'store_access_denied');
    assert.match(err.message, /access denied/);
    assert.not.ok(err.retriable);
    assert.equal(seen, ['HEAD /locked/']); // HeadBucket, path-style
  } finally {
    server.close();
  }
});

test.run();
