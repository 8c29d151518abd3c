import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { ulid } from 'ulid';
import { z } from 'zod';
import { ConflictError, HippoError, NotFoundError, PreconditionFailedError, ValidationError, toHippoError, type ErrorDetail } from './errors.ts';
import { compactInstant, type ObjectInfo, type ObjectStore } from './object-store.ts';

/**
 * Backups of a Hippo store (DESIGN §4 keys) into another store, and their restore.
 *
 * What is copied: the ledger (`runs/`: every run, the `runs/active/` and `runs/standing/`
 * markers), the results (`results/`) and the lake (`lake/`). Not `work/`: step outputs are
 * intermediate, re-made from the lake by re-running a step (deterministic keys), and a
 * finished run's answer is in `results/`; copying them would double the backup for nothing a
 * user asked for. An unfinished run restored without its `work/` re-runs or fails its step
 * with a reason, as after any lost step output.
 *
 * Layout in the backup store:
 * - `backups/<id>/objects/<key>` — the bytes of `<key>` as this backup found them;
 * - `backups/<id>/manifest.json` — written LAST: `{id, createdAt, source, objects:
 *   [{key, bytes, sha256, etag, stored}], …}`. A backup without one (in progress, or its
 *   process died) is neither listed nor restored;
 * - `backups/lease.json` — one backup (and its pruning) at a time, across processes.
 *
 * Incremental: an object whose key, size and ETag equal the previous backup's entry (same
 * source store) is not read or copied again; its entry points (`stored`) at the earlier copy.
 * That the ETag changes on every write is what the ledger's compare-and-swap already rests
 * on (DESIGN §4), and lake parts and results are immutable, so hourly backups copy only what
 * changed. Pruning deletes an old backup's manifest first, then only the objects no kept
 * manifest points at.
 *
 * Restore verifies the sha256 of every object of the backup before it writes anything.
 */

/** What a backup copies, in copy order: the ledger first, so a run it holds never points at data it lacks (results and lake parts are only ever added). */
export const BACKUP_PREFIXES: readonly string[] = ['runs/', 'results/', 'lake/'];

export const MANIFEST_FORMAT = 'hippo-backup/1';

export interface BackupOptions {
  /** Key prefixes to copy (default BACKUP_PREFIXES). */
  prefixes?: readonly string[];
  /** Keep this many complete backups: older ones are deleted once this one is complete. Default: keep all. */
  keep?: number;
  /** Reference unchanged objects of the previous backup instead of copying them (default true). */
  incremental?: boolean;
  /** Objects copied at once. */
  concurrency?: number;
  /** Objects up to this size are copied through memory; bigger ones are streamed through a temp file. */
  smallObjectBytes?: number;
  /** Where big objects pass through (default: the OS temp folder). */
  tempDir?: string;
  /** A backup's lease lasts this long; it is renewed while the backup runs, and taken over when its holder died. */
  leaseMs?: number;
  now?: () => Date;
}

/** backup()'s defaults, merged once: `{ ...backupDefaults, ...options }`. */
export const backupDefaults = {
  prefixes: BACKUP_PREFIXES,
  incremental: true,
  concurrency: 8,
  smallObjectBytes: 8 * 1024 ** 2,
  leaseMs: 60 * 60_000,
};

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

const entrySchema = z.object({
  key: z.string().min(1),
  bytes: z.number().int().min(0),
  sha256: sha256Hex,
  /** The source object's ETag when it was read: the next backup copies it again only if it changed. */
  etag: z.string(),
  /** Where its bytes are in the backup store: this backup's `objects/`, or an earlier backup's. */
  stored: z.string().min(1),
});

const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: z.string(),
  createdAt: z.string(),
  completedAt: z.string(),
  /** The store backed up (its URL). */
  source: z.string(),
  prefixes: z.array(z.string()),
  objects: z.array(entrySchema),
  totals: z.object({
    objects: z.number().int(),
    bytes: z.number().int(),
    /** Objects (and their bytes) this backup copied; the rest are its predecessors' copies. */
    copiedObjects: z.number().int(),
    copiedBytes: z.number().int(),
  }),
});

export type BackupEntry = z.infer<typeof entrySchema>;
export type BackupManifest = z.infer<typeof manifestSchema>;

export interface BackupResult {
  manifest: BackupManifest;
  /** Backups deleted by `keep` (when given), and how many objects went with them. */
  pruned?: { backups: string[]; objects: number };
  /** Why pruning failed (the backup itself is complete; the next one prunes again). */
  pruneError?: HippoError;
}

/** One backup in a listing. */
export interface BackupSummary {
  id: string;
  createdAt: string;
  completedAt: string;
  source: string;
  objects: number;
  bytes: number;
  copiedObjects: number;
  copiedBytes: number;
}

const BACKUPS = 'backups/';
const LEASE_KEY = 'backups/lease.json';
/** `20261128T121339123Z-01KB…`: when it started, then a ULID; sorts by time. */
const ID_PATTERN = /^\d{8}T\d{9}Z-[0-9A-HJKMNP-TV-Z]{26}$/;

const manifestKey = (id: string) => `${BACKUPS}${id}/manifest.json`;
const storedKey = (id: string, key: string) => `${BACKUPS}${id}/objects/${key}`;

/** A backup whose objects do not match its manifest: nothing was restored (or, in `details`, what was). */
export class BackupCorruptError extends HippoError {
  constructor(message: string, details: ErrorDetail[]) {
    super(message, { code: 'backup_corrupt', status: 422, details });
  }
}

/**
 * Copies the ledger, the results and the lake of `source` into `target` as a new backup,
 * manifest last; with `keep`, then deletes all but the newest `keep` complete backups.
 * Fails with 409 `backup_in_progress` while another backup holds the target's lease.
 * @example const { manifest } = await backup(openStore(config), backupStore, { keep: 7 });
 */
export async function backup(source: ObjectStore, target: ObjectStore, options: BackupOptions = {}): Promise<BackupResult> {
  const o = { ...backupDefaults, ...stripUndefined(options) };
  if (options.keep !== undefined && !(Number.isInteger(options.keep) && options.keep >= 1)) {
    throw new RangeError(`keep must be a whole number ≥ 1, got ${options.keep}`);
  }
  if (source.url === target.url) {
    throw new ValidationError(`backups of ${source.url} must go to another store: a backup inside the store it backs up is lost with it`, [{ field: 'target', value: target.url, message: 'the store backed up' }]);
  }
  const now = options.now ?? (() => new Date());
  const createdAt = now().toISOString();
  const id = `${compactInstant(createdAt)}-${ulid()}`;
  const lease = await Lease.acquire(target, id, o.leaseMs, now);
  try {
    const reusable = o.incremental ? await previousCopies(source, target) : new Map<string, BackupEntry>();
    const tempDir = await mkdtemp(join(o.tempDir ?? tmpdir(), 'hippo-backup-'));
    const entries: BackupEntry[] = [];
    let copiedObjects = 0;
    let copiedBytes = 0;
    try {
      const limit = pLimit(o.concurrency);
      for (const prefix of o.prefixes) {
        const listed = await source.list(prefix);
        // The ledger's markers before the runs: a run is marked active before it is created and
        // unmarked after it finishes, so a run copied unfinished always has its marker copied.
        const marker = (info: ObjectInfo) => info.key.startsWith('runs/') && info.key.slice('runs/'.length).includes('/');
        for (const phase of [listed.filter(marker), listed.filter((info) => !marker(info))]) {
          await each(limit, phase, async (info) => {
            const earlier = reusable.get(info.key);
            if (earlier && earlier.etag === info.etag && earlier.bytes === info.size) {
              entries.push(earlier);
              return;
            }
            const stored = storedKey(id, info.key);
            const copied = await copyObject(source, info, target, stored, { tempDir, smallObjectBytes: o.smallObjectBytes });
            if (!copied) return; // deleted since it was listed (a finished run's active marker): not part of this backup
            entries.push({ key: info.key, bytes: copied.bytes, sha256: copied.sha256, etag: copied.etag, stored });
            copiedObjects++;
            copiedBytes += copied.bytes;
            await lease.renewIfDue();
          });
        }
      }
    } finally {
      await rm(tempDir, { recursive: true, force: true });
    }
    entries.sort((a, b) => compare(a.key, b.key));
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      id,
      createdAt,
      completedAt: now().toISOString(),
      source: source.url,
      prefixes: [...o.prefixes],
      objects: entries,
      totals: { objects: entries.length, bytes: entries.reduce((n, e) => n + e.bytes, 0), copiedObjects, copiedBytes },
    };
    // Still ours (a holder presumed dead may not publish over its successor), then the manifest: the backup exists from here on.
    await lease.check();
    await target.put(manifestKey(id), JSON.stringify(manifest), { ifNoneMatch: '*', contentType: 'application/json' });
    if (options.keep === undefined) return { manifest };
    // The backup is complete whatever happens next: a failed pruning is reported, and the next backup prunes again.
    try {
      return { manifest, pruned: await prune(target, options.keep) };
    } catch (err) {
      return { manifest, pruneError: toHippoError(err) };
    }
  } finally {
    await lease.release();
  }
}

/**
 * The complete backups in `backups` (those with a manifest), oldest first.
 * @example const latest = (await listBackups(store)).at(-1);
 */
export async function listBackups(backups: ObjectStore): Promise<BackupSummary[]> {
  const out: BackupSummary[] = [];
  for (const id of await backupIds(backups)) {
    const m = await readManifest(backups, id);
    out.push({ id, createdAt: m.createdAt, completedAt: m.completedAt, source: m.source, ...m.totals });
  }
  return out;
}

/** The manifest of a complete backup; `latest` is the newest. NotFoundError when there is no such complete backup. */
export async function readManifest(backups: ObjectStore, which: string): Promise<BackupManifest> {
  const id = await resolveId(backups, which);
  const obj = await backups.get(manifestKey(id));
  if (!obj) {
    const started = (await backups.list(`${BACKUPS}${id}/`)).length > 0;
    throw new NotFoundError(
      started
        ? `backup ${id} in ${backups.url} has no manifest: it is in progress or did not finish, and cannot be restored`
        : `no backup ${id} in ${backups.url}`,
    );
  }
  let parsed;
  try {
    parsed = manifestSchema.safeParse(JSON.parse(new TextDecoder().decode(obj.body)));
  } catch (err) {
    throw new BackupCorruptError(`backup ${id}: ${manifestKey(id)} is not JSON: ${(err as Error).message}`, [{ field: manifestKey(id), message: 'not JSON' }]);
  }
  if (!parsed.success || parsed.data.id !== id) {
    const why = parsed.success ? `it names backup ${parsed.data.id}` : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ');
    throw new BackupCorruptError(`backup ${id}: ${manifestKey(id)} is not a valid manifest (${why})`, [{ field: manifestKey(id), message: why }]);
  }
  return parsed.data;
}

export interface VerifyOptions {
  concurrency?: number;
}

/**
 * Reads every object of a complete backup and checks its size and sha256 against the
 * manifest; the problems found, by key (empty: the backup is whole).
 */
export async function verifyBackup(backups: ObjectStore, manifest: BackupManifest, options: VerifyOptions = {}): Promise<ErrorDetail[]> {
  const limit = pLimit(options.concurrency ?? backupDefaults.concurrency);
  const problems: ErrorDetail[] = [];
  await each(limit, manifest.objects, async (e) => {
    const stream = await backups.getStream(e.stored);
    const problem = stream ? mismatch(e, await digest(stream)) : `missing from the backup store (${e.stored})`;
    if (problem) problems.push({ field: e.key, message: problem });
  });
  return problems.sort((a, b) => compare(a.field!, b.field!));
}

export interface RestoreOptions {
  /** Write over a store that already has objects under the backup's prefixes (they are overwritten, others left). */
  force?: boolean;
  concurrency?: number;
  smallObjectBytes?: number;
  tempDir?: string;
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** Objects and bytes verified, then written. */
  objects: number;
  bytes: number;
  /** Run records (`runs/<id>.json`), results (`results/<id>.arrow`) and lake parts restored. */
  runs: number;
  results: number;
  lakeParts: number;
}

/**
 * Restores backup `which` (an id, or `latest`) from `backups` into `store`: first reads every
 * object of the backup and checks its sha256 against the manifest — one mismatch and nothing
 * is written (BackupCorruptError naming the keys) — then copies them, the lake and results
 * before the ledger (a restored run never points at a result not there yet), checking each
 * again as it is copied. Refuses (409 `store_not_empty`) a store that has objects under the
 * backup's prefixes unless `force`.
 * @example await restore(backupStore, openStore(config), 'latest');
 */
export async function restore(backups: ObjectStore, store: ObjectStore, which: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const o = { ...backupDefaults, ...stripUndefined(options) };
  const manifest = await readManifest(backups, which);
  if (!options.force) {
    for (const prefix of manifest.prefixes) {
      const present = await store.list(prefix);
      if (present.length) {
        throw new ConflictError(
          `${store.url} is not empty (${present.length} objects under ${prefix}, e.g. ${present[0]!.key}): restore into an empty store, or force it to overwrite`,
          'store_not_empty',
        );
      }
    }
  }
  const problems = await verifyBackup(backups, manifest, o);
  if (problems.length) {
    const [first] = problems;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new BackupCorruptError(`backup ${manifest.id} failed verification, nothing was restored: ${first!.field}: ${first!.message}${more}`, problems);
  }
  const tempDir = await mkdtemp(join(o.tempDir ?? tmpdir(), 'hippo-restore-'));
  const written = new Set<string>();
  try {
    const limit = pLimit(o.concurrency);
    for (const prefix of [...manifest.prefixes].reverse()) {
      const group = manifest.objects.filter((e) => e.key.startsWith(prefix) && !written.has(e.key));
      await each(limit, group, async (e) => {
        const info = { key: e.stored, size: e.bytes, etag: '' };
        // Checked again on the way: the backup may have changed since it was verified.
        const copied = await copyObject(backups, info, store, e.key, { tempDir, smallObjectBytes: o.smallObjectBytes, expect: e });
        if (!copied) throw new BackupCorruptError(`backup ${manifest.id}: ${e.key} went missing from the backup store during the restore`, [{ field: e.key, message: 'missing' }]);
        written.add(e.key);
      });
    }
  } catch (err) {
    if (err instanceof BackupCorruptError && written.size) {
      throw new BackupCorruptError(`${err.message}; ${written.size} of ${manifest.objects.length} objects were restored before it`, err.problems ?? []);
    }
    throw err;
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
  const count = (re: RegExp) => manifest.objects.filter((e) => re.test(e.key)).length;
  return {
    manifest,
    objects: manifest.objects.length,
    bytes: manifest.totals.bytes,
    runs: count(/^runs\/[^/]+\.json$/),
    results: count(/^results\/[^/]+\.arrow$/),
    lakeParts: count(/^lake\//),
  };
}

// ---- copying --------------------------------------------------------------------------------

interface Copied { bytes: number; sha256: string; etag: string }

/**
 * Copies one object, hashing the bytes it reads; undefined when the object is gone. With
 * `expect`, a copy whose bytes differ from it is refused before anything is written.
 * Small objects go through memory; big ones stream to a temp file and are uploaded from
 * there (the stores take files, not streams: an S3 multipart upload needs to know the size).
 */
async function copyObject(
  from: ObjectStore,
  info: ObjectInfo,
  to: ObjectStore,
  toKey: string,
  o: { tempDir: string; smallObjectBytes: number; expect?: BackupEntry },
): Promise<Copied | undefined> {
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

function mismatch(expect: BackupEntry, got: { bytes: number; sha256: string }): string | undefined {
  if (got.sha256 === expect.sha256 && got.bytes === expect.bytes) return undefined;
  return `sha256 ${got.sha256} (${got.bytes} bytes) differs from the manifest's ${expect.sha256} (${expect.bytes} bytes)`;
}

/** Size and sha256 of a stream, read once; written to `file` on the way when given. */
async function digest(stream: ReadableStream<Uint8Array>, file?: string): Promise<{ bytes: number; sha256: string }> {
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
  if (key.endsWith('.arrow')) return 'application/vnd.apache.arrow.stream';
  return undefined;
}

// ---- backups in the target store --------------------------------------------------------------

/** Ids of the complete backups, oldest first. */
async function backupIds(backups: ObjectStore): Promise<string[]> {
  const ids: string[] = [];
  for (const o of await backups.list(BACKUPS)) {
    const m = /^backups\/([^/]+)\/manifest\.json$/.exec(o.key);
    if (m && ID_PATTERN.test(m[1]!)) ids.push(m[1]!);
  }
  return ids.sort(compare);
}

async function resolveId(backups: ObjectStore, which: string): Promise<string> {
  if (which === 'latest') {
    const id = (await backupIds(backups)).at(-1);
    if (!id) throw new NotFoundError(`no complete backup in ${backups.url}`);
    return id;
  }
  if (!ID_PATTERN.test(which)) {
    throw new ValidationError(`"${which}" is not a backup id (like 20260101T000000000Z-01KB…) or "latest"`, [{ field: 'backupId', value: which, message: 'not a backup id' }]);
  }
  return which;
}

/**
 * Entries of the newest complete backup of this source whose copies are still there (and
 * whole, by size): what the next backup may point at instead of copying.
 */
async function previousCopies(source: ObjectStore, target: ObjectStore): Promise<Map<string, BackupEntry>> {
  const ids = await backupIds(target);
  for (const id of ids.reverse()) {
    const m = await readManifest(target, id);
    if (m.source !== source.url) continue;
    const sizes = new Map((await target.list(BACKUPS)).map((o) => [o.key, o.size]));
    return new Map(m.objects.filter((e) => sizes.get(e.stored) === e.bytes).map((e) => [e.key, e]));
  }
  return new Map();
}

/**
 * Keeps the newest `keep` complete backups: deletes the older manifests (they are no longer
 * restorable from that moment), then every object under `backups/` no kept manifest points
 * at — the old backups' copies, and those of backups that never finished. Runs under the
 * lease, so no backup is writing meanwhile.
 */
async function prune(target: ObjectStore, keep: number): Promise<{ backups: string[]; objects: number }> {
  const ids = await backupIds(target);
  const dropped = ids.slice(0, Math.max(0, ids.length - keep));
  const kept = ids.slice(dropped.length);
  for (const id of dropped) await target.delete(manifestKey(id));
  const live = new Set<string>([LEASE_KEY]);
  for (const id of kept) {
    live.add(manifestKey(id));
    for (const e of (await readManifest(target, id)).objects) live.add(e.stored);
  }
  const garbage = (await target.list(BACKUPS)).filter((o) => !live.has(o.key) && ID_PATTERN.test(o.key.split('/')[1] ?? ''));
  const limit = pLimit(backupDefaults.concurrency);
  await each(limit, garbage, (o) => target.delete(o.key));
  return { backups: dropped, objects: garbage.length };
}

/**
 * One backup at a time per backup store: `backups/lease.json`, created if absent and
 * renewed by compare-and-swap while the backup runs; a lease past its expiry belonged to a
 * process that died and is taken over.
 */
class Lease {
  private renewing?: Promise<void>;

  private constructor(
    private readonly store: ObjectStore,
    private readonly id: string,
    private readonly ttlMs: number,
    private readonly now: () => Date,
    private etag: string,
    private renewAt: number,
  ) {}

  static async acquire(store: ObjectStore, id: string, ttlMs: number, now: () => Date): Promise<Lease> {
    const body = () => JSON.stringify({ id, expiresAt: new Date(now().getTime() + ttlMs).toISOString() });
    const lease = (etag: string) => new Lease(store, id, ttlMs, now, etag, now().getTime() + ttlMs / 2);
    try {
      return lease((await store.put(LEASE_KEY, body(), { ifNoneMatch: '*', contentType: 'application/json' })).etag);
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
    const current = await store.get(LEASE_KEY);
    if (current) {
      const held = parseLease(current.body);
      if (held && Date.parse(held.expiresAt) > now().getTime()) {
        throw new ConflictError(`backup ${held.id} is in progress in ${store.url} (its lease runs to ${held.expiresAt})`, 'backup_in_progress');
      }
    }
    try {
      const cas = current ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const };
      return lease((await store.put(LEASE_KEY, body(), { ...cas, contentType: 'application/json' })).etag);
    } catch (err) {
      if (err instanceof PreconditionFailedError) throw new ConflictError(`another backup took the lease of ${store.url} first`, 'backup_in_progress');
      throw err;
    }
  }

  /** Extends the lease once half of it has passed; fails if another backup took it over. */
  renewIfDue(): Promise<void> {
    if (this.now().getTime() < this.renewAt) return Promise.resolve();
    this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** Fails unless the lease is still this backup's. */
  async check(): Promise<void> {
    const current = await this.store.head(LEASE_KEY);
    if (current?.etag !== this.etag) throw this.lost();
  }

  async release(): Promise<void> {
    const current = await this.store.head(LEASE_KEY).catch(() => undefined);
    if (current?.etag === this.etag) await this.store.delete(LEASE_KEY);
  }

  private async renew(): Promise<void> {
    const body = JSON.stringify({ id: this.id, expiresAt: new Date(this.now().getTime() + this.ttlMs).toISOString() });
    try {
      this.etag = (await this.store.put(LEASE_KEY, body, { ifMatch: this.etag, contentType: 'application/json' })).etag;
      this.renewAt = this.now().getTime() + this.ttlMs / 2;
    } catch (err) {
      if (err instanceof PreconditionFailedError) throw this.lost();
      throw err;
    }
  }

  private lost(): ConflictError {
    return new ConflictError(`backup ${this.id} lost its lease of ${this.store.url} (it ran past it and another backup took over)`, 'backup_lease_lost');
  }
}

function parseLease(body: Uint8Array): { id: string; expiresAt: string } | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(body)) as { id?: unknown; expiresAt?: unknown };
    return typeof v.id === 'string' && typeof v.expiresAt === 'string' ? { id: v.id, expiresAt: v.expiresAt } : undefined;
  } catch {
    return undefined; // unreadable: treated as expired
  }
}

/** `fn` for every item, `limit` at a time; on the first failure nothing more is started (no writes after an error is reported). */
async function each<T>(limit: LimitFunction, items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  try {
    await Promise.all(items.map((item) => limit(() => fn(item))));
  } catch (err) {
    limit.clearQueue();
    throw err;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
