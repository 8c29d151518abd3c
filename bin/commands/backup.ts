import { backup } from '../../functions/backup/backup.ts';
import { listBackups } from '../../functions/backup/manifest.ts';
import { restore } from '../../functions/backup/restore.ts';
import type { Config } from '../../shared/config.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/object-store.ts';
import { openStoreUrl } from '../../shared/store.ts';
import { context } from './context.ts';

/**
 * `hippo backup [--to <store-url>] [--keep <n>]`: backs the ledger, the results and the lake
 * of HIPPO_STORE up into the backup store (default HIPPO_BACKUP_STORE), then keeps the newest
 * `keep` backups (default HIPPO_BACKUP_KEEP). Prints the backup's id, objects and bytes.
 */
export async function backupCommand(opts: { to?: string; keep?: string }): Promise<void> {
  const { config, store } = context();
  const backups = backupStore(config, opts.to, '--to');
  const keep = opts.keep === undefined ? config.HIPPO_BACKUP_KEEP : Number(opts.keep);
  if (!Number.isInteger(keep) || keep < 1) {
    throw new ValidationError(`--keep "${opts.keep}" is not a whole number ≥ 1`, [{ field: 'keep', value: opts.keep, message: 'not a whole number ≥ 1' }]);
  }
  const { manifest: m, pruned, pruneError } = await backup(store, backups, { keep });
  const t = m.totals;
  process.stdout.write(`${m.id}: ${t.objects} objects, ${t.bytes} bytes (copied ${t.copiedObjects} objects, ${t.copiedBytes} bytes; the rest unchanged since the last backup) from ${m.source} to ${backups.url}\n`);
  if (pruned?.backups.length) process.stderr.write(`deleted ${pruned.backups.length} older backups (keeping ${keep}): ${pruned.backups.join(', ')}\n`);
  if (pruneError) process.stderr.write(`hippo: the backup is complete, but older backups could not be deleted: ${pruneError.message}\n`);
}

/**
 * `hippo restore [<backupId>|latest] [--from <store-url>] [--force]`: verifies every object of
 * the backup against its manifest's sha256, then restores it into HIPPO_STORE — which must be
 * empty unless `--force`.
 */
export async function restoreCommand(which: string | undefined, opts: { from?: string; force?: boolean }): Promise<void> {
  const { config, store } = context();
  const backups = backupStore(config, opts.from, '--from');
  process.stderr.write(`verifying backup ${which ?? 'latest'} in ${backups.url}…\n`);
  const r = await restore(backups, store, which ?? 'latest', { force: opts.force });
  const m = r.manifest;
  process.stdout.write(
    `${m.id} (made ${m.createdAt} of ${m.source}): verified ${r.objects} objects, ${r.bytes} bytes, every sha256 as in the manifest; ` +
      `restored ${r.runs} runs, ${r.results} results and ${r.lakeParts} lake parts into ${store.url}\n`,
  );
}

/** `hippo backups [--from <store-url>]`: the complete backups, oldest first. */
export async function backupsCommand(opts: { from?: string }): Promise<void> {
  const { config } = context();
  const backups = backupStore(config, opts.from, '--from');
  const list = await listBackups(backups);
  if (!list.length) process.stderr.write(`no complete backup in ${backups.url}\n`);
  for (const b of list) {
    process.stdout.write(`${b.id}  ${b.completedAt}  ${b.objects} objects  ${b.bytes} bytes  (copied ${b.copiedObjects})  of ${b.source}\n`);
  }
}

function backupStore(config: Config, url: string | undefined, option: string): ObjectStore {
  const chosen = url ?? config.HIPPO_BACKUP_STORE;
  if (!chosen) {
    throw new ValidationError(`no backup store: pass ${option} <store-url> (file://<dir> or s3://<bucket>[/<prefix>]) or set HIPPO_BACKUP_STORE`, [
      { field: option.slice(2), message: 'missing' },
    ]);
  }
  return openStoreUrl(chosen, { endpoint: config.S3_ENDPOINT, name: url ? option : 'HIPPO_BACKUP_STORE' });
}
