import { spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../shared/config.ts';
import type { FileStore } from '../shared/file-store.ts';
import { Hippo } from '../sdk/index.ts';
import { AS_OF, calmSha } from './drills.test-support.ts';
import { freePort, startLocalPlatform } from './dev.ts';
import { demoStore } from './demo.ts';

interface Ctx { dir: string; store: FileStore }
/**
 * The functions as the container image runs them: `npm run build` bundles each into
 * dist/functions/<name>/main.js, and the local platform runs those files with plain `node`
 * (no tsx). Both pipelines give the same bytes as the TypeScript run in process — so the
 * bundle loads DuckDB's and zstd's native addons, the AWS SDK and the rest correctly.
 */
const test = suite<Ctx>('the built functions (dist/, plain node)');
const ROOT = new URL('..', import.meta.url).pathname;

test.before(async (ctx) => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.is(build.status, 0, build.stderr);
  Object.assign(ctx, await demoStore({ scale: 0.1, recordedAt: '2025-06-01T00:00:00Z' }));
});
test.after(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

test('equity-panel and transcripts on the built functions: succeeded, the same bytes', async (ctx) => {
  const platform = await startLocalPlatform({
    config: loadConfig({ HIPPO_STORE: ctx.store.url, HIPPO_LOG_LEVEL: 'error' }),
    store: ctx.store, root: ROOT, port: await freePort(), brokerPort: 0, idleMs: 60_000, built: true,
  });
  try {
    const hippo = new Hippo({ url: platform.runsUrl });
    const jobs = [
      { pipeline: 'equity-panel', params: { start: '2014-01-02', end: '2014-12-31', fields: ['eps', 'revenue'], macro: ['GDP'] } },
      { pipeline: 'transcripts', params: { start: '2020-01-01', end: '2020-12-31' } },
    ];
    for (const job of jobs) {
      const { id } = await hippo.submit(job.pipeline, job.params, { asOf: AS_OF });
      const run = await hippo.wait(id, { timeoutMs: 120_000 });
      assert.is(run.result!.sha256, await calmSha(ctx.store, job.params, job.pipeline), job.pipeline);
    }
    const pid = platform.runner.pid('export-t0')!;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    assert.ok(cmdline.includes('dist/functions/export/main.js'), cmdline.join(' '));
    assert.not.ok(cmdline.includes('tsx'), 'plain node, no TypeScript loader');
  } finally {
    await platform.stop();
  }
});

test.run();
