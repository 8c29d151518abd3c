#!/usr/bin/env node
// kcat (Debian's `kcat`, librdkafka's CLI) for interop tests, without root: the `kcat` on PATH if
// there is one, else Debian's package and the runtime libraries this system lacks, unpacked into
// .cache/kcat/ (apt-get download + dpkg -x) behind a wrapper that sets LD_LIBRARY_PATH.
//
//   node scripts/kcat.mjs        prints the path of a runnable kcat
import { spawnSync } from 'node:child_process';
import {
  accessSync, chmodSync, constants, existsSync, mkdirSync, readdirSync, renameSync,
  rmSync, statSync, writeFileSync,
} from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLock } from './processes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const kcatCacheDir = join(root, '.cache', 'kcat');

/** Runs a command synchronously; returns its exit code and stdout + stderr. */
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) return { code: 127, output: String(r.error.message) };
  return { code: r.status ?? 1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch { /* not here */ }
  }
  return null;
}

function works(kcat) {
  return sh(kcat, ['-V']).code === 0;
}

function isInstalled(pkg) {
  // "installed" only: a removed package can leave its status entry behind ("config-files").
  const r = sh('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg]);
  return r.code === 0 && r.output.trim() === 'installed';
}

function aptOptions(lists) {
  const opts = [];
  if (lists) {
    opts.push('-o', `Dir::State::Lists=${join(lists, 'lists')}`, '-o', `Dir::Cache=${join(lists, 'cache')}`,
      '-o', 'Debug::NoLocking=1');
  }
  // As root apt drops to the _apt user to download, which may not write into our cache.
  if (process.getuid?.() === 0) opts.push('-o', 'APT::Sandbox::User=root');
  return opts;
}

/**
 * kcat and, recursively, the packages it depends on that this system does not have installed.
 * apt-cache lists alternatives and virtual packages too; a name in <angle brackets> is virtual.
 */
function packagesToFetch(lists) {
  const r = sh('apt-cache', [...aptOptions(lists), 'depends', '--recurse', '--no-recommends', '--no-suggests',
    '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', 'kcat']);
  if (r.code !== 0) return null;
  const names = new Set(r.output.split('\n').filter((l) => /^[a-z0-9][a-z0-9+.-]*$/.test(l.trim()) && !l.startsWith(' ')).map((l) => l.trim()));
  if (!names.has('kcat')) return null;
  return [...names].filter((p) => p === 'kcat' || !isInstalled(p));
}

/** Directories under `top` that hold a shared library. */
function libraryDirs(top) {
  const out = [];
  const walk = (dir) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => !e.isDirectory() && /\.so(\.\d+)*$/.test(e.name))) out.push(dir);
    for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name));
  };
  walk(top);
  return out;
}

/**
 * The absolute path of a runnable kcat: the one on PATH, else .cache/kcat/kcat (unpacked from
 * Debian's packages the first time, under a lock, built aside and renamed into place).
 * @example
 * const kcat = await ensureKcat();
 * execFileSync(kcat, ['-L', '-b', '127.0.0.1:9092']);
 */
export async function ensureKcat(opts = {}) {
  const system = onPath('kcat');
  if (system && works(system)) return system;
  const wrapper = join(kcatCacheDir, 'kcat');
  if (existsSync(wrapper) && works(wrapper)) return wrapper;
  mkdirSync(join(root, '.cache'), { recursive: true });
  return withLock(`${kcatCacheDir}.lock`, 10 * 60_000, async () => {
    if (existsSync(wrapper) && works(wrapper)) return wrapper;
    const say = (m) => { if (!opts.quiet) process.stderr.write(`kcat: ${m}\n`); };
    const t0 = Date.now();
    const tmp = `${kcatCacheDir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(join(tmp, 'debs'), { recursive: true });
    try {
      // The system's package lists first; with none (a fresh machine) or no kcat in them, a
      // private copy of the lists, so nothing outside .cache/ changes and no root is needed.
      let lists = null;
      let packages = packagesToFetch(null);
      if (!packages) {
        lists = join(tmp, 'apt');
        mkdirSync(join(lists, 'lists', 'partial'), { recursive: true });
        mkdirSync(join(lists, 'cache', 'archives', 'partial'), { recursive: true });
        say('no kcat in the system package lists: fetching a private copy (apt-get update)…');
        const update = sh('apt-get', [...aptOptions(lists), 'update'], { cwd: tmp });
        packages = packagesToFetch(lists);
        if (!packages) throw new Error(`apt knows no package kcat, even after apt-get update:\n${update.output.trim()}`);
      }
      say(`downloading ${packages.join(', ')} (apt-get download)…`);
      const download = sh('apt-get', [...aptOptions(lists), 'download', ...packages], { cwd: join(tmp, 'debs') });
      if (download.code !== 0) throw new Error(`apt-get download ${packages.join(' ')} failed:\n${download.output.trim()}`);
      for (const deb of readdirSync(join(tmp, 'debs')).filter((f) => f.endsWith('.deb'))) {
        const x = sh('dpkg', ['-x', join(tmp, 'debs', deb), join(tmp, 'root')]);
        if (x.code !== 0) throw new Error(`dpkg -x ${deb} failed:\n${x.output.trim()}`);
      }
      rmSync(join(tmp, 'debs'), { recursive: true, force: true });
      rmSync(join(tmp, 'apt'), { recursive: true, force: true });
      const binary = join(tmp, 'root', 'usr', 'bin', 'kcat');
      if (!existsSync(binary)) throw new Error(`the kcat package has no usr/bin/kcat (in ${tmp}/root)`);
      const libs = libraryDirs(join(tmp, 'root'));
      const ldd = sh('ldd', [binary], { env: { ...process.env, LD_LIBRARY_PATH: libs.join(':') } });
      const missing = ldd.output.split('\n').filter((l) => l.includes('not found')).map((l) => l.trim());
      if (missing.length) throw new Error(`kcat still lacks libraries after unpacking ${packages.join(', ')}:\n${missing.join('\n')}`);
      // Paths relative to the wrapper, so the cache survives being moved (renamed into place).
      const rel = (p) => `"$here/${relative(tmp, p)}"`;
      writeFileSync(join(tmp, 'kcat'), [
        '#!/bin/sh',
        '# Written by scripts/kcat.mjs: Debian\'s kcat with the libraries unpacked beside it.',
        'here=$(cd "$(dirname "$0")" && pwd)',
        `LD_LIBRARY_PATH=${libs.map(rel).join(':')}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}`,
        'export LD_LIBRARY_PATH',
        `exec ${rel(binary)} "$@"`,
        '',
      ].join('\n'));
      chmodSync(join(tmp, 'kcat'), 0o755);
      rmSync(kcatCacheDir, { recursive: true, force: true }); // a broken earlier attempt
      renameSync(tmp, kcatCacheDir);
      say(`unpacked into ${kcatCacheDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const v = sh(wrapper, ['-V']);
    if (v.code !== 0) throw new Error(`${wrapper} -V failed (exit ${v.code}):\n${v.output.trim()}`);
    return wrapper;
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureKcat().then((path) => process.stdout.write(`${path}\n`), (e) => {
    process.stderr.write(`kcat: ${e instanceof Error ? e.message : e}\n`);
    process.exitCode = 1;
  });
}
