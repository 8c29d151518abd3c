import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { HippoError, PreconditionFailedError } from './errors.ts';
import type { ObjectInfo, ObjectStore, PutOptions, StoredObject } from './object-store.ts';

export interface FileStoreOptions {
  /** A lock older than this is taken to belong to a dead process and is broken. */
  staleLockMs?: number;
  /** How long a writer waits for another writer's lock before giving up. */
  lockWaitMs?: number;
}

export const fileStoreDefaults: Required<FileStoreOptions> = { staleLockMs: 30_000, lockWaitMs: 20_000 };

/**
 * The object store on a local folder. Writes go to a temporary file in the same folder and
 * are renamed into place (atomic on POSIX). Writers of one key serialise on an exclusive
 * lock file, so a conditional `put` compares and swaps atomically even across processes.
 * The ETag is the file's inode, mtime and size: every write makes a new file, so it changes.
 */
export class FileStore implements ObjectStore {
  readonly url: string;
  readonly root: string;
  private readonly options: Required<FileStoreOptions>;

  constructor(root: string, options: FileStoreOptions = {}) {
    this.root = resolve(root);
    this.url = `file://${this.root}`;
    this.options = { ...fileStoreDefaults, ...options };
  }

  path(key: string): string {
    if (!key || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.' || p.startsWith('.'))) {
      throw new HippoError(`invalid object key "${key}"`, { code: 'invalid_key', status: 400 });
    }
    return join(this.root, ...key.split('/'));
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const p = this.path(key);
    try {
      // Read then stat, and retry if the file was replaced in between, so body and etag agree.
      for (;;) {
        const before = await etagOf(p);
        const body = new Uint8Array(await readFile(p));
        const after = await etagOf(p);
        if (before === after) return { body, etag: after };
      }
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    const p = this.path(key);
    try {
      const handle = await open(p, 'r');
      return Readable.toWeb(handle.createReadStream({ autoClose: true })) as ReadableStream<Uint8Array>;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await stat(this.path(key), { bigint: true });
      return { key, size: Number(s.size), etag: etagFromStat(s) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    return this.write(key, options, (tmp) => writeFile(tmp, body, { flag: 'wx' }));
  }

  async putFile(key: string, path: string, options: PutOptions = {}): Promise<{ etag: string }> {
    return this.write(key, options, (tmp) => copyFile(path, tmp));
  }

  async localPath(key: string): Promise<string> {
    const p = this.path(key);
    if (!(await this.head(key))) throw new HippoError(`object ${key} not found`, { code: 'not_found', status: 404 });
    return p;
  }

  async delete(key: string): Promise<void> {
    const p = this.path(key);
    await this.locked(p, () => rm(p, { force: true }));
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = dir ? join(this.root, ...dir.split('/')) : this.root;
    const out: ObjectInfo[] = [];
    const walk = async (d: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(d, { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // temp and lock files
        const full = join(d, e.name);
        if (e.isDirectory()) await walk(full);
        else {
          const key = relative(this.root, full).split(sep).join('/');
          if (!key.startsWith(prefix)) continue;
          try {
            const s = await stat(full, { bigint: true });
            out.push({ key, size: Number(s.size), etag: etagFromStat(s) });
          } catch (err) {
            if (!isNotFound(err)) throw err; // deleted while listing
          }
        }
      }
    };
    await walk(start);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async write(key: string, options: PutOptions, fill: (tmp: string) => Promise<void>): Promise<{ etag: string }> {
    const p = this.path(key);
    await mkdir(dirname(p), { recursive: true });
    return this.locked(p, async () => {
      if (options.ifNoneMatch === '*' || options.ifMatch !== undefined) {
        const current = await etagOf(p).catch((err) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        if (options.ifNoneMatch === '*' && current !== undefined) throw new PreconditionFailedError(key);
        if (options.ifMatch !== undefined && current !== options.ifMatch) throw new PreconditionFailedError(key);
      }
      const tmp = join(dirname(p), `.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await fill(tmp);
        await rename(tmp, p);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return { etag: await etagOf(p) };
    });
  }

  /** Runs `fn` holding `<path>.lock` (exclusive create), breaking locks left by dead writers. */
  private async locked<T>(p: string, fn: () => Promise<T>): Promise<T> {
    const lock = join(dirname(p), `.${p.slice(dirname(p).length + 1)}.lock`);
    await mkdir(dirname(p), { recursive: true });
    const deadline = Date.now() + this.options.lockWaitMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        const h = await open(lock, 'wx');
        await h.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const s = await stat(lock).catch(() => undefined);
        if (s && Date.now() - s.mtimeMs > this.options.staleLockMs) await rm(lock, { force: true });
        if (Date.now() > deadline) {
          throw new HippoError(`timed out waiting for the write lock on ${p}`, { code: 'unavailable', status: 503, retriable: true });
        }
        await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }
}

function etagFromStat(s: { ino: bigint; mtimeNs: bigint; size: bigint }): string {
  return `"${s.ino.toString(16)}-${s.mtimeNs.toString(16)}-${s.size.toString(16)}"`;
}

async function etagOf(p: string): Promise<string> {
  return etagFromStat(await stat(p, { bigint: true }));
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}
