import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { ConflictError, type ErrorDetail } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/object-store.ts';
import { backupDefaults, withBackupDefaults } from './backup.ts';
import { copyObject, digest, mismatch } from './copy.ts';
import { each } from './each.ts';
import { BackupCorruptError, compareKeys, readManifest, type BackupManifest } from './manifest.ts';

export interface VerifyOptions {
  concurrency?: number;
}

/**
 * Reads every object of a complete backup and checks its size and sha256 against the
 * manifest; the problems found, by key (empty: the backup is whole).
 * @example const problems = await verifyBackup(backups, await readManifest(backups, 'latest'));
 */
export async function verifyBackup(backups: ObjectStore, manifest: BackupManifest, options: VerifyOptions = {}): Promise<ErrorDetail[]> {
  const limit = pLimit(options.concurrency ?? backupDefaults.concurrency);
  const problems: ErrorDetail[] = [];
  await each(limit, manifest.objects, async (e) => {
    const stream = await backups.getStream(e.stored);
    const problem = stream ? mismatch(e, await digest(stream)) : `missing from the backup store (${e.stored})`;
    if (problem) problems.push({ field: e.key, message: problem });
  });
  return problems.sort((a, b) => compareKeys(a.field!, b.field!));
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
  const o = withBackupDefaults(options);
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
