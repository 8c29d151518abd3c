import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { FileStore } from '../shared/file-store.ts';
import { Hippo, RunFailedError } from '../sdk/index.ts';
import { chromiumArgs, ensureChromium } from '../scripts/chromium.mjs';
import type { LocalPlatform } from './dev.ts';
import { platformWith } from './drills.test-support.ts';
import { demoStore } from './demo.ts';

interface Ctx {
  dir: string;
  store: FileStore;
  platform: LocalPlatform;
  hippo: Hippo;
  browser: Browser;
  context: BrowserContext;
  base: string;
}
/**
 * The runs dashboard in a real browser (Debian's headless Chromium, driven by playwright-core)
 * against the local platform (real processes) with HIPPO_TOKEN set: without the token it
 * refuses; `?token=` signs in and leaves the address; a run submitted through the form appears
 * on the list and turns `succeeded` while the list stays open (live updates, no reload); its
 * page shows every step and attempt; the Arrow download has the run's sha256; a failing run
 * shows its reason. Each page's screenshot goes to .artifacts/dashboard/ (not committed).
 */
const test = suite<Ctx>('runs dashboard in headless Chromium');

const TOKEN = `dashboard-${Date.now()}`;
const ARTIFACTS = join(new URL('..', import.meta.url).pathname, '.artifacts', 'dashboard');
const PARAMS = { start: '2015-01-02', end: '2015-06-30', fields: ['eps'] };
const AS_OF = '2025-06-02T00:00:00Z';
/** Recorded 2025-06-01: a run as of 2000 sees no data and fails, naming why. */
const FAILING = { pipeline: 'equity-panel', params: { start: '2015-01-02', end: '2015-01-30' }, asOf: '2000-01-01T00:00:00Z' };

async function screenshot(page: Page, name: string): Promise<void> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  process.stdout.write(`# screenshot: ${path}\n`);
}

/** Fills the New run form and submits it; returns the run id from the page it lands on. */
async function submitThroughForm(page: Page, base: string, req: { pipeline: string; params: object; asOf: string }, shot?: string): Promise<string> {
  await page.goto(`${base}/ui/new`);
  await page.selectOption('#pipeline', req.pipeline);
  await page.fill('#params', JSON.stringify(req.params));
  await page.fill('#asOf', req.asOf);
  if (shot) await screenshot(page, shot);
  await Promise.all([page.waitForURL(/\/ui\/runs\/[^/?]+$/), page.click('#submit-run')]);
  const id = await page.getAttribute('#live', 'data-run');
  assert.ok(id, 'the run page names its run');
  return id!;
}

test.before(async (ctx) => {
  const [store, executablePath] = await Promise.all([demoStore({ scale: 0.05, recordedAt: '2025-06-01T00:00:00Z' }), ensureChromium()]);
  Object.assign(ctx, store);
  const { platform } = await platformWith({ store: ctx.store }, { HIPPO_TOKEN: TOKEN });
  ctx.platform = platform;
  ctx.base = platform.runsUrl;
  ctx.hippo = new Hippo({ url: platform.runsUrl, token: TOKEN });
  await rm(ARTIFACTS, { recursive: true, force: true });
  await mkdir(ARTIFACTS, { recursive: true });
  ctx.browser = await chromium.launch({ executablePath, args: [...chromiumArgs] });
  ctx.context = await ctx.browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
});

test.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.platform?.stop();
  await rm(ctx.dir, { recursive: true, force: true });
});

test('HIPPO_TOKEN: refused without the token or with a wrong one; ?token= signs in and leaves the address', async ({ context, base }) => {
  const page = await context.newPage();
  const refused = await page.goto(`${base}/`);
  assert.is(refused!.status(), 401);
  assert.is(await page.locator('#runs').count(), 0, 'no runs without the token');
  assert.ok(await page.locator('#token').isVisible(), 'the sign-in form');
  await screenshot(page, '01-sign-in');

  const wrong = await page.goto(`${base}/?token=not-${TOKEN}`);
  assert.is(wrong!.status(), 401);
  assert.ok(await page.locator('#signin-error').isVisible());
  assert.equal(await context.cookies(), [], 'a wrong token sets no cookie');

  const ok = await page.goto(`${base}/?token=${encodeURIComponent(TOKEN)}`);
  assert.is(ok!.status(), 200);
  assert.is(page.url(), `${base}/`, 'the token is gone from the address');
  assert.not.match(await page.content(), TOKEN, 'nor anywhere in the page');
  const [cookie] = await context.cookies();
  assert.is(cookie!.httpOnly, true);
  assert.is(cookie!.sameSite, 'Strict');
  assert.is.not(cookie!.value, TOKEN, 'the cookie is not the token');
  // The session opens the dashboard only: the JSON API still wants the bearer token.
  assert.is((await context.request.get(`${base}/runs`)).status(), 401);
  await page.close();
});

test('submit through the form → it appears on the open list and turns succeeded live → its steps → the Arrow download has its sha256', async ({ context, base, hippo }) => {
  const list = await context.newPage();
  await list.goto(`${base}/`);
  // Set on the open list page: still there at the end only if the page was never reloaded.
  await list.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

  const form = await context.newPage();
  const id = await submitThroughForm(form, base, { pipeline: 'equity-panel', params: PARAMS, asOf: AS_OF }, '02-new-run');
  await form.close();

  const row = list.locator(`tr[data-run="${id}"]`);
  await row.waitFor({ timeout: 10_000 });
  await list.locator(`tr[data-run="${id}"][data-status="succeeded"]`).waitFor({ timeout: 60_000 });
  assert.is(await list.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'updated in place, not reloaded');
  assert.match(await row.textContent() ?? '', 'equity-panel');
  assert.ok((await list.locator('#workers-table tr[data-service]').count()) > 0, 'the workers panel lists the runner\'s services');
  await screenshot(list, '03-runs-list');

  const run = await hippo.status(id);
  assert.is(run.status, 'succeeded');
  await Promise.all([list.waitForURL(`${base}/ui/runs/${id}`), row.locator('a').first().click()]);
  const page = list;
  assert.is(await page.getAttribute('#live', 'data-status'), 'succeeded');
  const shown = await page.locator('section.step').evaluateAll((els) => els.map((e) => [e.getAttribute('data-step'), e.getAttribute('data-status')]));
  assert.equal(shown, Object.entries(run.steps).map(([stepId, s]) => [stepId, s.status]), 'every step, in order, with its status');
  for (const [stepId, s] of Object.entries(run.steps)) {
    const attempts = await page.locator(`section.step[data-step="${stepId}"] tr[data-attempt]`)
      .evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-attempt')), Number(e.getAttribute('data-tier')), e.getAttribute('data-status')]));
    assert.equal(attempts, s.attempts.map((a) => [a.attempt, a.tier, a.status]), `${stepId}: each attempt's tier and status`);
  }
  assert.is(await page.locator('.timeline .bar').count(), Object.values(run.steps).reduce((n, s) => n + s.attempts.length, 0), 'a bar per attempt');
  assert.is((await page.textContent('#result-sha256'))?.trim(), run.result!.sha256);
  await screenshot(page, '04-run-succeeded');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-arrow')]);
  const bytes = await readFile((await download.path())!);
  assert.is(createHash('sha256').update(bytes).digest('hex'), run.result!.sha256, 'the downloaded Arrow stream is the run\'s result');
  assert.is(download.suggestedFilename(), `${id}.arrow`);

  // The read-only pages are whole without JavaScript.
  const plain = await context.browser()!.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
  try {
    await plain.addCookies(await context.cookies());
    const noJs = await plain.newPage();
    await noJs.goto(`${base}/ui/runs/${id}`);
    assert.is(await noJs.locator('section.step').count(), Object.keys(run.steps).length);
    await noJs.goto(`${base}/?status=succeeded`);
    assert.ok(await noJs.locator(`tr[data-run="${id}"]`).isVisible());
  } finally {
    await plain.close();
  }
  await page.close();
});

test('a failing run shows its reason, on its page and in the failed filter', async ({ context, base, hippo }) => {
  const page = await context.newPage();
  const id = await submitThroughForm(page, base, FAILING);
  await page.locator('#live[data-status="failed"]').waitFor({ timeout: 30_000 });
  const err = await hippo.wait(id, { timeoutMs: 5_000 }).then(() => undefined, (e: unknown) => e);
  assert.instance(err, RunFailedError);
  const reason = (err as RunFailedError).reason;
  assert.ok(reason.length > 0);
  assert.match(await page.textContent('#run-error') ?? '', reason, 'the page says why, as the API does');
  assert.is(await page.getAttribute('#live', 'data-poll'), 'off', 'a finished run is not fetched again');
  await screenshot(page, '05-run-failed');

  await page.goto(`${base}/?status=failed`);
  const row = page.locator(`tr[data-run="${id}"]`);
  assert.match(await row.textContent() ?? '', reason);
  assert.is(await page.locator('tr[data-run]').count(), await page.locator('tr[data-run][data-status="failed"]').count(), 'only failed runs');
  await screenshot(page, '06-runs-failed-filter');
  await page.close();
});

test.run();
