// Backups of a Hippo store (DESIGN §4 keys) into another store (layout: manifest.ts; restore:
// restore.ts).
//
// What is copied: the ledger (`runs/`: every run, the `runs/active/` and `runs/standing/`
// markers), the results (`results/`) and the lake (`lake/`). Not `work/`: step outputs are
// intermediate, re-made from the lake by re-running a step (deterministic keys), and a
// finished run's answer is in `results/`; copying them would double the backup for nothing a
// user asked for. An unfinished run restored without its `work/` re-runs or fails its step
// with a reason, as after any lost step output.
//
// Incremental: an object whose key, size and ETag equal the previous backup's entry (same
// source store) is not read or copied again; its entry points (`stored`) at the earlier copy.
// That the ETag changes on every write is what the ledger's compare-and-swap already rests
// on (DESIGN §4), and lake parts and results are immutable, so hourly backups copy only what
// changed. Pruning deletes an old backup's manifest first, then only the objects no kept
// manifest points at.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { ulid } from 'ulid';
import { HippoError, ValidationError, toHippoError } from '../../shared/errors.ts';
import { compactInstant, type ObjectInfo, type ObjectStore } from '../../shared/object-store.ts';
import { copyObject } from './copy.ts';
import { each } from './each.ts';
import { LEASE_KEY, Lease } from './lease.ts';
import { BACKUPS, ID_PATTERN, MANIFEST_FORMAT, backupIds, compareKeys, manifestKey, readManifest, storedKey, type BackupEntry, type BackupManifest } from './manifest.ts';

/** What a backup copies, in copy order: the ledger first, so a run it holds never points at data it lacks (results and lake parts are only ever added); then reuse's claims (a claim whose run a restore lacks is taken over by the next request). */
export const BACKUP_PREFIXES: readonly string[] = ['runs/', 'results/', 'lake/', 'reuse/'];

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

/** backup()'s defaults (restore's too), merged once: `withBackupDefaults(options)`. */
export const backupDefaults = {
  prefixes: BACKUP_PREFIXES,
  incremental: true,
  concurrency: 8,
  smallObjectBytes: 8 * 1024 ** 2,
  leaseMs: 60 * 60_000,
};

/**
 * `{ ...backupDefaults, ...options }`, an option given as undefined keeping its default.
 * @example const { concurrency } = withBackupDefaults({ concurrency: undefined }); // 8
 */
export function withBackupDefaults<T extends object>(options: T): typeof backupDefaults & Partial<T> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
  return { ...backupDefaults, ...given };
}

export interface BackupResult {
  manifest: BackupManifest;
  /** Backups deleted by `keep` (when given), and how many objects went with them. */
  pruned?: { backups: string[]; objects: number };
  /** Why pruning failed (the backup itself is complete; the next one prunes again). */
  pruneError?: HippoError;
}

/**
 * Copies the ledger, the results and the lake of `source` into `target` as a new backup,
 * manifest last; with `keep`, then deletes all but the newest `keep` complete backups.
 * Fails with 409 `backup_in_progress` while another backup holds the target's lease.
 * @example const { manifest } = await backup(openStore(config), backupStore, { keep: 7 });
 */
export async function backup(source: ObjectStore, target: ObjectStore, options: BackupOptions = {}): Promise<BackupResult> {
  const o = withBackupDefaults(options);
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
    entries.sort((a, b) => compareKeys(a.key, b.key));
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
