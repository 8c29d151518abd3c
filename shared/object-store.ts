/** An object as `head` and `list` describe it. */
export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
}

export interface PutOptions {
  /** Write only if the current object has this ETag. */
  ifMatch?: string;
  /** `'*'`: write only if no object exists under the key. */
  ifNoneMatch?: '*';
  contentType?: string;
}

export interface StoredObject {
  body: Uint8Array;
  etag: string;
}

/**
 * The object store every function reads and writes (DESIGN §4). The file backend
 * (file-store.ts) and the S3 backend (s3-store.ts) implement the same interface, and pass the
 * same contract tests (object-store.contract.test-support.ts); nothing above it knows which it has.
 *
 * Writes are atomic (a reader sees the old object or the new one, never half of one).
 * `put` with `ifMatch`/`ifNoneMatch` is a compare-and-swap: it fails with
 * `PreconditionFailedError` when the object changed since it was read.
 */
export interface ObjectStore {
  /** A URL-ish description for logs and run metadata (`file:///…`, `s3://…`). */
  readonly url: string;
  get(key: string): Promise<StoredObject | undefined>;
  /** A stream of the object's bytes, for results too big to buffer. */
  getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }>;
  /** Upload a local file (atomic; large files never go through memory). */
  putFile(key: string, path: string, options?: PutOptions): Promise<{ etag: string }>;
  /**
   * A local path holding the object's bytes, for DuckDB to read. The file backend returns
   * its own file; remote backends download into `tempDir`.
   */
  localPath(key: string, tempDir: string): Promise<string>;
  delete(key: string): Promise<void>;
  /** Every object under the prefix, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /**
   * A URL anyone can GET the object from for `expiresSeconds`, without credentials; undefined
   * when there is no such object. Only stores that can sign URLs have it (S3 does, the file
   * store does not): offer a direct download where it exists, serve the bytes otherwise.
   * @example const url = await store.presign?.('results/r1.arrow', 600);
   */
  presign?(key: string, expiresSeconds?: number): Promise<string | undefined>;
}

/** Object keys of DESIGN §4, in one place. */
export const keys = {
  run: (id: string) => `runs/${id}.json`,
  runsPrefix: 'runs/',
  /** A marker per run that is not finished: the watchdog's sweep reads these, not every run ever. */
  activeRun: (id: string) => `runs/active/${id}`,
  activeRunsPrefix: 'runs/active/',
  /** A marker per standing run at the head of its chain (the one a data change re-runs). */
  standingRun: (id: string) => `runs/standing/${id}`,
  standingRunsPrefix: 'runs/standing/',
  work: (id: string, stepId: string) => `work/${id}/${stepId}`,
  result: (id: string) => `results/${id}`,
  resultArrow: (id: string) => `results/${id}.arrow`,
  resultMeta: (id: string) => `results/${id}.json`,
  resultParquet: (id: string) => `results/${id}.parquet`,
  lakePrefix: (dataset: string) => `lake/${dataset}/`,
  lakePart: (dataset: string, recordedAt: string, id: string) => `lake/${dataset}/part-${recordedAt}-${id}.parquet`,
};

/** `2026-11-28T12:13:39.123Z` → `20261128T121339123Z`: sortable and safe in a key. */
export function compactInstant(iso: string): string {
  return iso.replace(/[-:.]/g, '');
}

/** The inverse of `compactInstant`, for reading the recorded time back out of a part key. */
export function parseCompactInstant(s: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(s);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : undefined;
}
