#!/usr/bin/env node
// `npm run build`: every function as one bundled ES module, dist/functions/<name>/main.js —
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

/** functions/<name>/main.ts, for every function folder that has one. */
export async function functionEntries() {
  const out = [];
  for (const e of await readdir(join(root, 'functions'), { withFileTypes: true })) {
    const main = join(root, 'functions', e.name, 'main.ts');
    if (e.isDirectory() && (await stat(main).catch(() => null))) out.push({ name: e.name, main });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function buildFunctions({ quiet = false } = {}) {
  await rm(join(root, 'dist'), { recursive: true, force: true });
  const entries = await functionEntries();
  await build({
    entryPoints: Object.fromEntries(entries.map((e) => [`functions/${e.name}/main`, e.main])),
    outdir: join(root, 'dist'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Native addons load from node_modules at run time, as npm installed them for the platform.
    external: ['@duckdb/node-bindings', '@duckdb/node-bindings-*', 'zstd-napi'],
    // Bundled CommonJS packages call require(); in an ES module it has to be made.
    banner: { js: "import { createRequire as __hippoRequire } from 'node:module'; const require = __hippoRequire(import.meta.url);" },
    sourcemap: true,
    legalComments: 'none',
    logLevel: quiet ? 'error' : 'warning',
  });
  if (!quiet) process.stdout.write(`built ${entries.length} functions into dist/functions/<name>/main.js\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildFunctions();
