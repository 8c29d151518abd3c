import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FileStore } from '../shared/file-store.ts';

const exec = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;

async function hippo(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(ROOT, 'bin/hippo.js'), ...args], { cwd: ROOT, env: { ...process.env, HIPPO_BACKUP_STORE: '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Ctx { dir: string; store: FileStore; backups: FileStore }
/** `hippo backup`, `hippo backups` and `hippo restore` as a user runs them: separate processes, file stores. */
const test = suite<Ctx>('hippo backup / backups / restore');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-backup-cli-'));
  ctx.store = new FileStore(join(ctx.dir, 'store'));
  ctx.backups = new FileStore(join(ctx.dir, 'backups'));
  await ctx.store.put('runs/r1.json', '{"id":"r1","status":"succeeded"}');
  await ctx.store.put('runs/active/r2', '{}');
  await ctx.store.put('results/r1.arrow', new Uint8Array(5000).fill(1));
  await ctx.store.put('lake/prices/part-20260101T000000000Z-01JAAAAAAAAAAAAAAAAAAAAAAA.parquet', new Uint8Array(300).fill(2));
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

test('backup --to, backups, wipe, restore latest: exit 0, what was verified and restored', async ({ store, backups }) => {
  const env = { HIPPO_STORE: store.url };
  const b = await hippo(['backup', '--to', backups.url], env);
  assert.is(b.code, 0, b.stderr);
  const id = /^(\S+): 4 objects, 5334 bytes \(copied 4 objects, 5334 bytes;/.exec(b.stdout)?.[1];
  assert.ok(id, b.stdout);
  const list = await hippo(['backups', '--from', backups.url], env);
  assert.is(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${id}  \\S+  4 objects  5334 bytes  \\(copied 4\\)  of ${store.url}\\n$`));

  for (const o of await store.list('')) await store.delete(o.key);
  const r = await hippo(['restore', 'latest'], { ...env, HIPPO_BACKUP_STORE: backups.url });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `${id} (made `);
  assert.match(r.stdout, 'verified 4 objects, 5334 bytes, every sha256 as in the manifest; restored 1 runs, 1 results and 1 lake parts');
  assert.equal((await store.list('')).map((o) => o.key), ['lake/prices/part-20260101T000000000Z-01JAAAAAAAAAAAAAAAAAAAAAAA.parquet', 'results/r1.arrow', 'runs/active/r2', 'runs/r1.json']);
});

test('exit 2: no backup store, a store that is not empty (until --force), a corrupt backup naming the key', async ({ store, backups }) => {
  const env = { HIPPO_STORE: store.url, HIPPO_BACKUP_STORE: backups.url };
  const none = await hippo(['backup'], { HIPPO_STORE: store.url });
  assert.is(none.code, 2);
  assert.match(none.stderr, 'no backup store: pass --to <store-url>');
  const bad = await hippo(['backup', '--to', 'ftp://x'], env);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, '--to=ftp://x: must be file://<dir> or s3://<bucket>[/<prefix>]');

  assert.is((await hippo(['backup'], env)).code, 0);
  const full = await hippo(['restore'], env);
  assert.is(full.code, 2);
  assert.match(full.stderr, /is not empty \(2 objects under runs\/, e\.g\. runs\/active\/r2\)/);
  assert.is((await hippo(['restore', '--force'], env)).code, 0);

  const [entry] = (await backups.list('backups/')).filter((o) => o.key.endsWith('results/r1.arrow'));
  await backups.put(entry!.key, new Uint8Array(5000).fill(9));
  const corrupt = await hippo(['restore', '--force'], env);
  assert.is(corrupt.code, 2);
  assert.match(corrupt.stderr, /failed verification, nothing was restored: results\/r1\.arrow: sha256 [0-9a-f]{64} \(5000 bytes\) differs from the manifest's/);
});

test.run();
