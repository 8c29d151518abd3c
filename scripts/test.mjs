#!/usr/bin/env node
// The test command (`npm test`, and what .ci/run calls): type-check, run every uvu test file
// in its own process, then print one plain line `N passed, N failed, N skipped` with the real
// totals and exit non-zero on any failure. uvu's own summary is per file; CI needs the total.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const skipTypecheck = args.includes('--no-typecheck');
const concurrency = Number(process.env.HIPPO_TEST_JOBS ?? 2);

async function findTests(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (['node_modules', '.git', '.hippo', '.cache', 'dist', 'scratch'].includes(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await findTests(p)));
    else if (e.name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

function run(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, NODE_DISABLE_COLORS: '1', ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code, signal) => resolve({ code: code ?? 1, signal, output }));
  });
}

const started = Date.now();
let passed = 0, failed = 0, skipped = 0;

if (!skipTypecheck) {
  const tsc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json']);
  process.stdout.write(`# typecheck: ${tsc.code === 0 ? 'ok' : 'FAILED'}\n${tsc.output}`);
  if (tsc.code !== 0) failed++; // a type error counts as one failure; a clean typecheck is not a test
}

const files = (await findTests(root)).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const queue = [...files];
async function worker() {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const t0 = Date.now();
    const r = await run(process.execPath, ['--import', 'tsx', file]);
    const num = (label) => Number(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(r.output)?.[1] ?? NaN);
    const total = num('Total'), ok = num('Passed'), skip = num('Skipped');
    let p = 0, f = 0, s = 0;
    if (Number.isNaN(total)) f = 1; // the file crashed before uvu could report: count it as a failure
    else {
      p = ok;
      s = skip;
      f = total - ok - skip;
      if (r.code !== 0 && f === 0) f = 1; // non-zero exit with no failing test: something else broke
    }
    passed += p;
    failed += f;
    skipped += s;
    const head = `# ${file}: ${p} passed, ${f} failed${s ? `, ${s} skipped` : ''} (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
    process.stdout.write(`${head}\n${f > 0 || process.env.HIPPO_TEST_VERBOSE ? r.output : ''}`);
  }
}
await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));

process.stdout.write(`# ${files.length} test files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 || (files.length === 0 && only.length === 0) ? 1 : 0);
