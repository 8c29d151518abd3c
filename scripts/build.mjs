#!/usr/bin/env node
// `npm run build`: every function (and event source) as one bundled ES module, dist/functions/<name>/main.js —
// what the container image runs (`node dist/functions/<name>/main.js`: plain Node, no
// TypeScript loader, no network). One file per function starts in ~200 ms where the same code
// as hundreds of separate modules (the AWS SDK alone is several hundred) took ~300–400 ms
// (DESIGN §11: ready in < 300 ms). Native addons (DuckDB's bindings, zstd) stay in
// node_modules. Type checking is `npm run typecheck`; esbuild only strips types.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Every entry point the image runs: functions/<name>/main.ts and the event sources'
 * eventing/sources/<name>/main.ts (the Pub/Sub bridge), each with its output name
 * (`functions/runs/main` → dist/functions/runs/main.js).
 */
export async function functionEntries() {
  const out = [];
  for (const folder of ['functions', 'eventing/sources']) {
    const entries = await readdir(join(root, folder), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const main = join(root, folder, e.name, 'main.ts');
      if (e.isDirectory() && (await stat(main).catch(() => null))) out.push({ name: e.name, out: `${folder}/${e.name}/main`, main });
    }
  }
  return out.sort((a, b) => a.out.localeCompare(b.out));
}

export async function buildFunctions({ quiet = false } = {}) {
  await rm(join(root, 'dist'), { recursive: true, force: true });
  const entries = await functionEntries();
  await build({
    entryPoints: Object.fromEntries(entries.map((e) => [e.out, e.main])),
    outdir: join(root, 'dist'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Native addons load from node_modules at run time, as npm installed them for the platform;
    // so does the Pub/Sub client (the bridge, always running: its start-up time does not matter),
    // whose gRPC layer reads its .proto files from beside its own modules; and the Kubernetes
    // client, which the watchdog imports only in a cluster, on its first tick, after it is ready
    // (bundled, its 4 MB were parsed at every start: the watchdog was the slowest to be ready).
    external: ['@duckdb/node-bindings', '@duckdb/node-bindings-*', 'zstd-napi', '@google-cloud/pubsub', '@kubernetes/client-node'],
    // Bundled CommonJS packages call require(); in an ES module it has to be made.
    banner: { js: "import { createRequire as __hippoRequire } from 'node:module'; const require = __hippoRequire(import.meta.url);" },
    sourcemap: true,
    legalComments: 'none',
    logLevel: quiet ? 'error' : 'warning',
  });
  if (!quiet) process.stdout.write(`built ${entries.length} entry points into dist/ (functions/<name>/main.js, eventing/sources/<name>/main.js)\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildFunctions();
