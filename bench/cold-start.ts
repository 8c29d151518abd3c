import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { services, type ServiceSpec } from '../functions/specs.ts';
import { entryOf, serviceEnv } from '../knative/generate.ts';
import { settings } from '../knative/settings.ts';

export interface ColdStartResult {
  /** Median ms from process start to ready, per function. */
  cold_start_ms: Record<string, number>;
  /** Every timed sample, ms. */
  cold_start_samples_ms: Record<string, number[]>;
}

export interface ColdStartOptions {
  root: string;
  /** Timed starts per function, after one untimed warm-up (the OS file cache). */
  samples?: number;
  log?: (line: string) => void;
}

export const COLD_START_TARGET_MS = 300;

/**
 * Cold start of every function (DESIGN §11: target < 300 ms to ready): `node
 * dist/functions/<name>/main.js` started as a Knative pod starts it — plain Node on the built
 * JavaScript, its Service's environment from the generated manifests — timed from the spawn
 * to the function's "ready" (its server listens; serveFunction reports it over IPC). The
 * store is a local folder and the broker address a closed port: a function that needed the
 * network to start would fail here. Tiered steps run the same code at every tier: measured
 * once, at tier 0.
 */
export async function benchColdStart(options: ColdStartOptions): Promise<ColdStartResult> {
  const { root, samples = 5, log = () => {} } = options;
  await ensureBuild(root, log);
  const functions = services(settings.tiers.length).filter((s) => s.tier === undefined || s.tier === 0);
  const store = await mkdtemp(join(tmpdir(), 'hippo-bench-cold-'));
  const result: ColdStartResult = { cold_start_ms: {}, cold_start_samples_ms: {} };
  try {
    for (const svc of functions) {
      const env = startEnv(svc, store);
      await startOnce(root, svc, env); // warm-up
      const times: number[] = [];
      for (let i = 0; i < samples; i++) times.push(await startOnce(root, svc, env));
      result.cold_start_samples_ms[svc.fn.name] = times;
      result.cold_start_ms[svc.fn.name] = median(times);
      log(`cold start ${svc.fn.name}: ${result.cold_start_ms[svc.fn.name]} ms (median of ${samples}: ${times.join(', ')})`);
    }
  } finally {
    await rm(store, { recursive: true, force: true });
  }
  return result;
}

/** The Service's environment from the manifests, with a local store, any free port and an unreachable broker. */
function startEnv(svc: ServiceSpec, store: string): Record<string, string> {
  const env: Record<string, string> = { ...serviceEnv(svc, settings), HIPPO_STORE: `file://${store}`, HIPPO_HOST: '127.0.0.1', PORT: '0', K_SINK: 'http://127.0.0.1:9/' };
  if (process.env.PATH) env.PATH = process.env.PATH;
  return env;
}

/** One start: ms from spawn to the function's ready message, then SIGTERM and wait for the exit. */
function startOnce(root: string, svc: ServiceSpec, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [entryOf(svc.fn)], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let readyMs: number | undefined;
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('message', (m: { ready?: boolean }) => {
      if (!m?.ready || readyMs !== undefined) return;
      readyMs = performance.now() - started;
      child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (readyMs !== undefined) resolve(Math.round(readyMs));
      else reject(new Error(`${svc.fn.name} exited (${signal ?? code}) before it was ready:\n${stderr}`));
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

/** Runs `npm run build` when dist/ lacks an entry point or is older than a file it is built from. */
export async function ensureBuild(root: string, log: (line: string) => void = () => {}): Promise<void> {
  const entries = services(1).map((s) => join(root, entryOf(s.fn)));
  const built = await Promise.all(entries.map((e) => stat(e).then((s) => s.mtimeMs, () => undefined)));
  const oldest = built.some((t) => t === undefined) ? undefined : Math.min(...(built as number[]));
  const newestSource = await newestMtime(root, ['shared', 'eventing', 'functions', 'scripts/build.mjs', 'package-lock.json']);
  if (oldest !== undefined && oldest >= newestSource) return;
  log(oldest === undefined ? 'building dist/ (npm run build)…' : 'dist/ is older than its sources: rebuilding (npm run build)…');
  const bundled = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
  if (bundled.status !== 0) throw new Error(`npm run build failed:\n${bundled.stdout}${bundled.stderr}`);
}

async function newestMtime(root: string, paths: string[]): Promise<number> {
  let newest = 0;
  for (const p of paths) {
    const full = join(root, p);
    const s = await stat(full).catch(() => undefined);
    if (!s) continue;
    if (s.isFile()) newest = Math.max(newest, s.mtimeMs);
    else {
      for (const e of await readdir(full, { recursive: true, withFileTypes: true })) {
        if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, (await stat(join(e.parentPath, e.name))).mtimeMs);
      }
    }
  }
  return newest;
}

// `npx tsx bench/cold-start.ts [samples]`: this measurement alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = await benchColdStart({ root, samples: Number(process.argv[2] ?? 5), log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${JSON.stringify(r.cold_start_ms, null, 2)}\n`);
}
