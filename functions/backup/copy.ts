import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { ulid } from 'ulid';
import { ARROW_STREAM_CONTENT_TYPE } from '../../shared/content-types.ts';
import type { ObjectInfo, ObjectStore } from '../../shared/object-store.ts';
import { BackupCorruptError, type BackupEntry } from './manifest.ts';

export interface Copied { bytes: number; sha256: string; etag: string }

export interface CopyOptions {
  /** Where objects bigger than `smallObjectBytes` pass through. */
  tempDir: string;
  smallObjectBytes: number;
  /** The manifest entry the bytes must match (a restore). */
  expect?: BackupEntry;
}

/**
 * Copies one object, hashing the bytes it reads; undefined when the object is gone. With
 * `expect`, a copy whose bytes differ from it is refused before anything is written.
 * Small objects go through memory; big ones stream to a temp file and are uploaded from
 * there (the stores take files, not streams: an S3 multipart upload needs to know the size).
 * @example await copyObject(source, info, target, storedKey(id, info.key), { tempDir, smallObjectBytes: 8 << 20 });
 */
export async function copyObject(from: ObjectStore, info: ObjectInfo, to: ObjectStore, toKey: string, o: CopyOptions): Promise<Copied | undefined> {
  const contentType = contentTypeOf(toKey);
  if (info.size <= o.smallObjectBytes) {
    const got = await from.get(info.key);
    if (!got) return undefined;
    const copied = { bytes: got.body.byteLength, sha256: createHash('sha256').update(got.body).digest('hex'), etag: got.etag };
    refuseMismatch(o.expect, copied);
    await to.put(toKey, got.body, contentType ? { contentType } : {});
    return copied;
  }
  const stream = await from.getStream(info.key);
  if (!stream) return undefined;
  const file = join(o.tempDir, ulid());
  try {
    const hashed = await digest(stream, file);
    // The ETag listed before the read: if the object changed since, the next backup copies it again.
    const copied = { ...hashed, etag: info.etag };
    refuseMismatch(o.expect, copied);
    await to.putFile(toKey, file, contentType ? { contentType } : {});
    return copied;
  } finally {
    await rm(file, { force: true });
  }
}

function refuseMismatch(expect: BackupEntry | undefined, got: { bytes: number; sha256: string }): void {
  const problem = expect && mismatch(expect, got);
  if (problem) throw new BackupCorruptError(`${expect!.key}: ${problem}`, [{ field: expect!.key, message: problem }]);
}

/** How bytes read differ from their manifest entry; undefined when they match. */
export function mismatch(expect: BackupEntry, got: { bytes: number; sha256: string }): string | undefined {
  if (got.sha256 === expect.sha256 && got.bytes === expect.bytes) return undefined;
  return `sha256 ${got.sha256} (${got.bytes} bytes) differs from the manifest's ${expect.sha256} (${expect.bytes} bytes)`;
}

/** Size and sha256 of a stream, read once; written to `file` on the way when given. */
export async function digest(stream: ReadableStream<Uint8Array>, file?: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const source = Readable.fromWeb(stream as NodeReadableStream<Uint8Array>);
  const count = async function* (chunks: AsyncIterable<Uint8Array>) {
    for await (const chunk of chunks) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      yield chunk;
    }
  };
  if (file) await pipeline(source, count, createWriteStream(file, { flags: 'wx' }));
  else for await (const _ of count(source)) void _;
  return { bytes, sha256: hash.digest('hex') };
}

/** The content types Hippo's writers set (ledger and result metadata JSON, Arrow results), kept on S3. */
function contentTypeOf(key: string): string | undefined {
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.arrow')) return ARROW_STREAM_CONTENT_TYPE;
  return undefined;
}
