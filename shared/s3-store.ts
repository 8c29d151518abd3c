import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
  type GetObjectCommandOutput,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ConfigError, HippoError, NotFoundError, PreconditionFailedError, TransientError } from './errors.ts';

// The pinned SDK supports Node 20 (this project's runtime); its notice that *later* releases
// will need Node 22 would otherwise be printed by every function process.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import type { ObjectInfo, ObjectStore, PutOptions, StoredObject } from './object-store.ts';

export interface S3StoreOptions {
  /** A custom endpoint (`S3_ENDPOINT`: moto, MinIO…); addressed path-style (`endpoint/bucket/key`). */
  endpoint?: string;
  /** Default: the SDK's (AWS_REGION, ~/.aws/config); `us-east-1` with a custom endpoint when none is set. */
  region?: string;
  /**
   * Default: the SDK's chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE, SSO, instance roles). With a
   * custom endpoint and no credentials anywhere, placeholder ones: moto checks no signature,
   * and a server that does answers 403, which is reported, not hidden.
   */
  credentials?: S3ClientConfig['credentials'];
  /** `putFile` uses a multipart upload for files larger than this. */
  multipartThreshold?: number;
  /** Multipart part size; S3's minimum is 5 MiB. */
  partSize?: number;
  /** Parts uploaded at once (memory: partSize × queueSize). */
  queueSize?: number;
  /** `presign`'s default lifetime. */
  presignSeconds?: number;
}

/** S3Store's defaults, merged once with the options given: `{ ...s3StoreDefaults, ...options }`. */
export const s3StoreDefaults = {
  multipartThreshold: 16 * 1024 ** 2,
  partSize: 8 * 1024 ** 2,
  queueSize: 4,
  presignSeconds: 3600,
};

/** S3's limits: parts of at least 5 MiB (but the last), presigned URLs of at most 7 days. */
const MIN_PART_SIZE = 5 * 1024 ** 2;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * `s3://bucket/some/prefix` → `{ bucket: 'bucket', prefix: 'some/prefix/' }`; a ConfigError
 * starting with the URL for anything else (the caller prefixes the variable it came from).
 * @example parseS3Url('s3://hippo/dev') // { bucket: 'hippo', prefix: 'dev/' }
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!m) throw new ConfigError(`${url}: not s3://<bucket>[/<prefix>]`);
  const bucket = m[1]!;
  // S3 bucket naming rules (general purpose buckets).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new ConfigError(`${url}: "${bucket}" is not a valid S3 bucket name (3–63 of a-z 0-9 . -, starting and ending with a letter or digit)`);
  }
  const path = (m[2] ?? '').replace(/\/+$/, '');
  if (path && path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new ConfigError(`${url}: the prefix "${path}" has an empty, "." or ".." segment`);
  }
  return { bucket, prefix: path ? `${path}/` : '' };
}

/**
 * The object store on an S3 bucket (or any S3-compatible server), under a key prefix.
 * Conditional writes are S3's own (`If-Match`/`If-None-Match`: atomic on the server), so the
 * compare-and-swap of DESIGN §4 holds across processes and machines. ETags are S3's, quoted
 * (`"9b2c…"`), as FileStore's are: compare them as opaque strings.
 *
 * @example
 * const store = new S3Store('s3://hippo/dev', { endpoint: 'http://127.0.0.1:5000' });
 * const { etag } = await store.put('runs/r1.json', '{}', { ifNoneMatch: '*' });
 * await store.put('runs/r1.json', '{"status":"running"}', { ifMatch: etag });
 */
export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  /** Prepended to every key: '' or 'some/prefix/'. */
  readonly prefix: string;
  /** The SDK client, for what the interface does not cover (tests count its requests). */
  readonly client: S3Client;
  private readonly options: typeof s3StoreDefaults & { endpoint?: string };
  private bucketReady?: Promise<void>;
  /** In-flight `localPath` downloads, so two callers of one key share one download. */
  private readonly downloads = new Map<string, Promise<string>>();

  constructor(url: string, options: S3StoreOptions = {}) {
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.url = `s3://${bucket}${prefix ? `/${prefix.slice(0, -1)}` : ''}`;
    const { endpoint, region, credentials, ...rest } = options;
    this.options = { ...s3StoreDefaults, ...stripUndefined(rest), endpoint };
    if (this.options.partSize < MIN_PART_SIZE) throw new RangeError(`partSize must be at least 5 MiB (S3's minimum), got ${this.options.partSize}`);
    if (this.options.multipartThreshold < this.options.partSize) {
      throw new RangeError(`multipartThreshold (${this.options.multipartThreshold}) must be at least partSize (${this.options.partSize})`);
    }
    const config: S3ClientConfig = { region, credentials };
    if (endpoint) {
      Object.assign(config, { endpoint, forcePathStyle: true });
      config.region ??= orDefault(sdkDefaults().region, 'us-east-1');
      config.credentials ??= orPlaceholder(sdkDefaults().credentials);
    }
    this.client = new S3Client(stripUndefined(config));
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const res = await this.getObject(key);
    if (!res) return undefined;
    return { body: await res.Body!.transformToByteArray(), etag: quoted(res.ETag) };
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    const res = await this.getObject(key);
    // The response body as it arrives from the socket; nothing is read ahead.
    return res?.Body!.transformToWebStream() as ReadableStream<Uint8Array> | undefined;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.fullKey(key);
    await this.ready();
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { key, size: res.ContentLength ?? 0, etag: quoted(res.ETag) };
    } catch (err) {
      if (isMissingKey(err)) return undefined;
      throw this.error(err, `head ${key}`);
    }
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    const Key = this.fullKey(key);
    await this.ready();
    try {
      const res = await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ...conditions(options) }));
      return { etag: quoted(res.ETag) };
    } catch (err) {
      throw this.writeError(err, key, options);
    }
  }

  /**
   * Up to `multipartThreshold`, one PutObject of the file's bytes (read whole: a buffered
   * request is one the SDK retries after a 503 or a reset, a streamed one it never does).
   * Above it, a multipart upload streamed from the file (memory: partSize × queueSize; each
   * part is retried on its own). The condition of a multipart upload is checked before the
   * first part (no upload of a large file that must fail) and sent again with
   * CompleteMultipartUpload, where S3 applies it atomically. moto 5.2 honours
   * `If-None-Match: *` there but ignores `If-Match`: against moto a multipart `ifMatch` is only
   * the check before the upload, not a compare-and-swap.
   */
  async putFile(key: string, path: string, options: PutOptions = {}): Promise<{ etag: string }> {
    const Key = this.fullKey(key);
    const { size } = await stat(path);
    if (size <= this.options.multipartThreshold) return this.put(key, await readFile(path), options);
    await this.ready();
    if (options.ifNoneMatch === '*' || options.ifMatch !== undefined) {
      const current = await this.head(key);
      if (options.ifNoneMatch === '*' && current) throw new PreconditionFailedError(key);
      if (options.ifMatch !== undefined && current?.etag !== quoted(options.ifMatch)) throw new PreconditionFailedError(key);
    }
    const body = createReadStream(path);
    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key, Body: body, ContentLength: size, ...conditions(options) },
        partSize: this.options.partSize,
        queueSize: this.options.queueSize,
        leavePartsOnError: false, // a failed upload is aborted: no orphaned parts to pay for
      });
      return { etag: quoted((await upload.done()).ETag) };
    } catch (err) {
      throw this.writeError(err, key, options);
    } finally {
      body.destroy();
    }
  }

  /**
   * Downloads the object into `tempDir` (streamed to disk, renamed into place when whole) and
   * returns its path; later calls for the key return that file without downloading again (the
   * objects read this way, lake parts and step outputs, never change, and a tempDir lives for
   * one step).
   */
  async localPath(key: string, tempDir: string): Promise<string> {
    const Key = this.fullKey(key);
    const dest = join(tempDir, 's3', this.bucket, ...Key.split('/'));
    if (await stat(dest).then(() => true, () => false)) return dest;
    let download = this.downloads.get(dest);
    if (!download) {
      download = this.download(key, dest).finally(() => this.downloads.delete(dest));
      this.downloads.set(dest, download);
    }
    return download;
  }

  async delete(key: string): Promise<void> {
    const Key = this.fullKey(key);
    await this.ready();
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      throw this.error(err, `delete ${key}`);
    }
  }

  /** Every object under the prefix (ListObjectsV2, 1000 a page), keys relative to the store's prefix. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    await this.ready();
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      let res;
      try {
        res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
      } catch (err) {
        throw this.error(err, `list ${prefix}`);
      }
      for (const o of res.Contents ?? []) {
        const key = o.Key!.slice(this.prefix.length);
        // Objects no store key can name (a console's `folder/` marker, `.hidden`) are not listed, as FileStore lists none.
        if (isValidKey(key)) out.push({ key, size: o.Size ?? 0, etag: quoted(o.ETag) });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    // S3 sorts by UTF-8 bytes; sort as FileStore does, so both stores agree on every key.
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * A presigned GET URL for the object, valid for `expiresSeconds` (default 1 h, at most 7
   * days): anyone holding it can download the object with a plain GET, no credentials.
   * Undefined when there is no such object.
   * @example const url = await store.presign('results/r1.arrow', 600); await fetch(url!);
   */
  async presign(key: string, expiresSeconds = this.options.presignSeconds): Promise<string | undefined> {
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_SECONDS) {
      throw new RangeError(`expiresSeconds must be a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS}, got ${expiresSeconds}`);
    }
    if (!(await this.head(key))) return undefined;
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }), { expiresIn: expiresSeconds });
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }

  private fullKey(key: string): string {
    if (!isValidKey(key)) throw new HippoError(`invalid object key "${key}"`, { code: 'invalid_key', status: 400 });
    return this.prefix + key;
  }

  private async getObject(key: string): Promise<GetObjectCommandOutput | undefined> {
    const Key = this.fullKey(key);
    await this.ready();
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (isMissingKey(err)) return undefined;
      throw this.error(err, `get ${key}`);
    }
  }

  private async download(key: string, dest: string): Promise<string> {
    const res = await this.getObject(key);
    if (!res) throw new NotFoundError(`object ${key} not found in ${this.url}`);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = join(dirname(dest), `.${randomBytes(6).toString('hex')}.tmp`);
    const body = res.Body instanceof Readable ? res.Body : Readable.fromWeb(res.Body!.transformToWebStream() as import('node:stream/web').ReadableStream);
    try {
      await pipeline(body, createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err instanceof HippoError ? err : this.error(err, `download ${key}`);
    }
    return dest;
  }

  /** Creates the bucket on first use if it is missing; once per store, retried after a failure. */
  private ready(): Promise<void> {
    this.bucketReady ??= this.ensureBucket().catch((err) => {
      this.bucketReady = undefined;
      throw err;
    });
    return this.bucketReady;
  }

  private async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (!(status(err) === 404 || name(err) === 'NotFound' || name(err) === 'NoSuchBucket')) throw this.error(err, `open bucket ${this.bucket}`);
    }
    const region = await this.client.config.region();
    try {
      await this.client.send(new CreateBucketCommand({
        Bucket: this.bucket,
        // us-east-1 is the one region that must not be named (S3's rule).
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }));
    } catch (err) {
      if (name(err) !== 'BucketAlreadyOwnedByYou') throw this.error(err, `create bucket ${this.bucket}`);
    }
  }

  /** A lost compare-and-swap is PreconditionFailedError; anything else goes through `error`. */
  private writeError(err: unknown, key: string, options: PutOptions): HippoError {
    const conditional = options.ifMatch !== undefined || options.ifNoneMatch !== undefined;
    // 412: the condition failed; 409 ConditionalRequestConflict: a concurrent write to the key
    // won (S3 says: re-read and retry); If-Match on a key that is gone is 404 NoSuchKey.
    if (conditional && (status(err) === 412 || name(err) === 'ConditionalRequestConflict' || (options.ifMatch !== undefined && isMissingKey(err)))) {
      return new PreconditionFailedError(key);
    }
    return this.error(err, `put ${key}`);
  }

  /** S3 errors as HippoErrors: access problems said plainly, server and network trouble retriable. */
  private error(err: unknown, what: string): HippoError {
    if (err instanceof HippoError) return err;
    const code = name(err);
    const http = status(err);
    const detail = `${code ?? 'error'}${http ? ` (HTTP ${http})` : ''}: ${(err as Error)?.message ?? String(err)}`;
    if (http === 403 || ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AllAccessDisabled'].includes(code ?? '')) {
      return new HippoError(`${what} in ${this.url}: access denied — ${detail}; check the AWS credentials and the bucket's policy`, {
        code: 'store_access_denied', status: 500, cause: err,
      });
    }
    // No HTTP status: the request never got an answer (refused, reset, timed out).
    const network = http === undefined && !(err instanceof TypeError || err instanceof RangeError);
    if (network || (http !== undefined && http >= 500) || http === 429 || code === 'SlowDown') {
      return new TransientError(`${what} in ${this.url} failed: ${detail}`, err);
    }
    return new HippoError(`${what} in ${this.url} failed: ${detail}`, { code: 'store_error', status: 500, cause: err });
  }
}

/** FileStore's rules, so a key valid in one store is valid in the other: relative, no `.`, `..`, hidden or empty segment. */
function isValidKey(key: string): boolean {
  return key !== '' && key.split('/').every((p) => p !== '' && !p.startsWith('.'));
}

function conditions(options: PutOptions): Partial<PutObjectCommandInput> {
  return {
    ...(options.ifMatch !== undefined ? { IfMatch: options.ifMatch } : {}),
    ...(options.ifNoneMatch ? { IfNoneMatch: options.ifNoneMatch } : {}),
    ...(options.contentType ? { ContentType: options.contentType } : {}),
  };
}

/** S3 sends ETags quoted; a few compatible servers do not. Always `"…"`, as FileStore's are. */
function quoted(etag: string | undefined): string {
  if (!etag) throw new HippoError('the S3 server sent no ETag', { code: 'store_error', status: 500 });
  return etag.startsWith('"') || etag.startsWith('W/"') ? etag : `"${etag}"`;
}

function name(err: unknown): string | undefined {
  return (err as { name?: string })?.name;
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** HeadObject says 404 `NotFound` (no body), GetObject `NoSuchKey`; `NoSuchBucket` is an error, not a missing key. */
function isMissingKey(err: unknown): boolean {
  return name(err) === 'NoSuchKey' || name(err) === 'NotFound';
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

let defaults: S3Client['config'] | undefined;
/** The SDK's own region and credential chains, read through a client configured with neither. */
function sdkDefaults(): S3Client['config'] {
  defaults ??= new S3Client({}).config;
  return defaults;
}

function orDefault(provider: () => Promise<string>, fallback: string): () => Promise<string> {
  return () => provider().catch(() => fallback);
}

type Credentials = Awaited<ReturnType<S3Client['config']['credentials']>>;

function orPlaceholder(provider: S3Client['config']['credentials']): () => Promise<Credentials> {
  return async () => {
    try {
      return await provider();
    } catch (err) {
      if (name(err) !== 'CredentialsProviderError') throw err;
      return { accessKeyId: 'hippo-placeholder', secretAccessKey: 'hippo-placeholder' };
    }
  };
}
