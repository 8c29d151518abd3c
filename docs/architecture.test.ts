import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

/**
 * The import rules of docs/ARCHITECTURE.md ("Folders and who may import whom"), checked on
 * every import in the repository: a change that breaks them fails `npm test`.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', '.git', '.hippo', 'dist', '.artifacts', '.cache', 'scratch', 'reference']);

/** The zone a repository path belongs to: a top folder, one function's folder, or the functions' scaffolding. */
export function zone(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'functions') return parts.length > 2 ? `functions/${parts[1]}` : 'functions/*.ts';
  return parts.length > 1 ? parts[0]! : '(root)';
}

const isTest = (path: string) => /\.test\.tsx?$/.test(path) || /\.test-support\.tsx?$/.test(path);
const ORCHESTRATION_ENTRY = 'orchestration/index.ts';

/** Why `from` may not import `to` (repository paths), or undefined when it may. */
export function violation(from: string, to: string): string | undefined {
  const a = zone(from);
  const b = zone(to);
  if (a === b) return undefined;
  // Tests may also start the local platform and the services (local/, scripts/) and use demo data.
  if (isTest(from) && (/\.test-support\.tsx?$/.test(to) || b === 'demo' || b === 'local' || b === 'scripts')) return undefined;
  const allowed = (): boolean => {
    switch (a) {
      case 'shared':
        return false;
      case 'eventing':
      case 'sdk':
      case 'demo':
        return b === 'shared';
      case 'orchestration':
        return b === 'shared' || b === 'eventing' || /^functions\/[^/]+\/params\.ts$/.test(to);
      case 'knative':
        return b === 'shared' || b === 'eventing' || b === 'functions/*.ts';
      case 'functions/*.ts':
        return b === 'shared' || b === 'eventing' || to === ORCHESTRATION_ENTRY;
      case 'local':
      case 'bin':
      case 'bench':
      case 'scripts':
      case 'docs':
      case '(root)':
        return true;
      default:
        // functions/<name>/
        return b === 'shared' || b === 'eventing' || b === 'functions/*.ts' || to === ORCHESTRATION_ENTRY;
    }
  };
  if (allowed()) return undefined;
  if (a.startsWith('functions/') && b.startsWith('functions/') && b !== 'functions/*.ts') return `${a} imports another function's folder (${b})`;
  if (b === 'orchestration') return `${a} imports ${to}: outside orchestration/, import ${ORCHESTRATION_ENTRY}`;
  return `${a} may not import ${b}`;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.(ts|tsx|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.d.mts')) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

/** Relative imports of a file, static and dynamic, read by TypeScript's own scanner (not by a regex that would see imports in strings). */
function imports(path: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(root, path), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(root, resolve(root, dirname(path), s)).split(sep).join('/'));
}

test('the rules themselves: what they allow and refuse', () => {
  assert.is(violation('functions/watchdog/app.ts', 'orchestration/index.ts'), undefined);
  assert.match(violation('functions/watchdog/app.ts', 'functions/runs/app.ts')!, /another function's folder/);
  assert.match(violation('functions/watchdog/app.ts', 'orchestration/ledger.ts')!, /import orchestration\/index\.ts/);
  assert.is(violation('orchestration/pipelines.ts', 'functions/pit-join/params.ts'), undefined);
  assert.ok(violation('orchestration/pipelines.ts', 'functions/pit-join/pit-join.ts'));
  assert.ok(violation('shared/lake.ts', 'eventing/catalog.ts'));
  assert.ok(violation('eventing/bus.ts', 'orchestration/index.ts'));
  assert.ok(violation('sdk/client.ts', 'functions/runs/app.ts'));
  assert.is(violation('functions/pit-join/pit-join.test.ts', 'functions/pit-join/pit-join.test-support.ts'), undefined);
  assert.is(violation('local/dev.ts', 'functions/runs/app.ts'), undefined);
  assert.is(violation('functions/backup/backup.test.ts', 'local/embedded.ts'), undefined);
  assert.ok(violation('functions/backup/backup.ts', 'local/embedded.ts'), 'only tests may use the local platform');
  assert.ok(violation('functions/watchdog/app.test.ts', 'functions/runs/app.ts'), 'tests too: no other function');
});

test('npm test type-checks every folder that holds TypeScript', () => {
  const { include } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { include: string[] };
  const folders = new Set(sources(root).filter((f) => /\.tsx?$/.test(f) && f.includes('/')).map((f) => f.split('/')[0]!));
  assert.equal([...folders].filter((f) => !include.includes(f)).sort(), [], 'folders tsconfig.json leaves out');
});

test('every import in the repository follows docs/ARCHITECTURE.md', () => {
  const files = sources(root);
  assert.ok(files.length > 150, `scanned ${files.length} files`);
  let checked = 0;
  const broken: string[] = [];
  for (const from of files) {
    for (const to of imports(from)) {
      checked++;
      const why = violation(from, to);
      if (why) broken.push(`${from} → ${to}: ${why}`);
    }
  }
  assert.ok(checked > 500, `checked ${checked} imports`);
  assert.equal(broken, [], `imports that break docs/ARCHITECTURE.md:\n${broken.join('\n')}`);
});

test.run();
