import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FileStore } from '../shared/file-store.ts';
import { listBackups } from '../functions/backup/manifest.ts';
import { restore } from '../functions/backup/restore.ts';
import { Ledger } from '../orchestration/ledger.ts';
import { AS_OF, PARAMS, platformWith } from './drills.test-support.ts';
import { demoStore } from './demo.ts';
import { eventually } from './helpers.test-support.ts';

interface Ctx { dir: string; store: FileStore; backups: string }
/**
 * Backups on a schedule under `hippo dev` (the local stand-in for the backup function's
 * PingSource): with HIPPO_BACKUP_STORE set, the platform backs the store up every
 * HIPPO_BACKUP_SECONDS; a backup restored into an empty store has the run and its result.
 */
const test = suite<Ctx>('scheduled backups on the local platform');

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.05, recordedAt: '2025-06-01T00:00:00Z' }));
  ctx.backups = await mkdtemp(join(tmpdir(), 'hippo-backups-'));
});
test.after(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
  await rm(ctx.backups, { recursive: true, force: true });
});

test('a run, then the timer backs the store up; restored into an empty store, the run and result are back', async (ctx) => {
  const { platform, hippo } = await platformWith({ store: ctx.store }, { HIPPO_BACKUP_STORE: `file://${ctx.backups}`, HIPPO_BACKUP_SECONDS: '2' });
  let runId: string;
  let sha: string;
  try {
    const { id } = await hippo.submit('equity-panel', PARAMS, { asOf: AS_OF });
    const run = await hippo.wait(id, { timeoutMs: 120_000 });
    runId = id;
    sha = run.result!.sha256;
    const target = new FileStore(ctx.backups);
    // A backup that started after the run ended holds it.
    await eventually(async () => {
      for (const b of await listBackups(target)) if (Date.parse(b.createdAt) > Date.parse(run.steps.export!.attempts.at(-1)!.finishedAt!)) return b;
      return undefined;
    }, 60_000, 'a backup after the run');
  } finally {
    await platform.stop();
  }
  const empty = await mkdtemp(join(tmpdir(), 'hippo-restored-'));
  try {
    const restored = new FileStore(empty);
    await restore(new FileStore(ctx.backups), restored, 'latest');
    const back = await new Ledger(restored).mustGet(runId);
    assert.is(back.status, 'succeeded');
    assert.is(back.result!.sha256, sha);
    assert.ok(await restored.head(back.result!.key), `the result object ${back.result!.key} is back`);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test.run();
