import type { Hono } from 'hono';
import { backup } from './backup.ts';
import { listBackups } from './manifest.ts';
import { readEvent } from '../../shared/cloudevents.ts';
import { functionApp } from '../../shared/http.ts';
import type { Logger } from '../../shared/log.ts';
import type { ObjectStore } from '../../shared/object-store.ts';

export interface BackupDeps {
  /** The store backed up (HIPPO_STORE). */
  store: ObjectStore;
  /** Where backups go (HIPPO_BACKUP_STORE). */
  backups: ObjectStore;
  /** Complete backups kept (HIPPO_BACKUP_KEEP). */
  keep: number;
  /** Where big objects pass through on their way (default: the OS temp folder). */
  tempDir?: string;
  log?: Logger;
  now?: () => Date;
}

/**
 * `backup` (DESIGN §11): woken by a tick — a PingSource in a cluster, a timer under the
 * local runner, any CloudEvent — it backs the ledger, the results and the lake of the store
 * up into the backup store (backup.ts), then keeps the newest `keep` backups. The
 * answer is the backup's summary; a tick while another backup holds the lease is a 409
 * `backup_in_progress`. `GET /backups` lists the complete backups.
 */
export function createApp(deps: BackupDeps): Hono {
  const { app, log } = functionApp('backup', deps.log);

  app.post('/', async (c) => {
    const tick = await readEvent(c.req.raw);
    const { manifest, pruned, pruneError } = await backup(deps.store, deps.backups, { keep: deps.keep, tempDir: deps.tempDir, now: deps.now });
    const summary = { id: manifest.id, source: manifest.source, to: deps.backups.url, ...manifest.totals };
    log.info('backup complete', { tick: tick.id, ...summary, pruned: pruned?.backups.length });
    if (pruneError) log.warn('could not prune old backups', { err: pruneError, code: pruneError.code });
    return c.json({ ...summary, pruned, ...(pruneError ? { pruneError: pruneError.toBody().error } : {}) });
  });

  app.get('/backups', async (c) => c.json({ backups: await listBackups(deps.backups) }));
  return app;
}
