#!/usr/bin/env node
// Headless Chromium for the browser tests: Debian's `chromium` package (/usr/bin/chromium),
// driven by playwright-core, which downloads no browser of its own. On a clean machine, as root,
// it is installed with apt-get (`apt-get update` first when the package lists do not know it);
// otherwise the error says what to install. HIPPO_CHROMIUM points at another Chromium binary.
//
//   node scripts/chromium.mjs        prints the path of a runnable chromium
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seconds, withLock } from './processes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const debianChromium = '/usr/bin/chromium';

/**
 * The flags every headless launch here uses. The machine has no network but loopback: without
 * the background-networking flags Chromium keeps trying Google's hosts (refused, many at a
 * time). `--no-sandbox` because tests run as root, where Chromium's sandbox refuses to start.
 */
export const chromiumArgs = Object.freeze([
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
]);

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) return { code: 127, output: String(r.error.message) };
  return { code: r.status ?? 1, stdout: r.stdout ?? '', output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function version(binary) {
  if (!existsSync(binary)) return null;
  const r = sh(binary, ['--version']);
  // stdout alone: Debian's launcher script may warn on stderr (its memory check).
  return r.code === 0 ? r.stdout.trim() : null;
}

function aptKnowsChromium() {
  const r = sh('apt-cache', ['policy', 'chromium']);
  return r.code === 0 && /Candidate: (?!\(none\))/.test(r.output);
}

/**
 * The absolute path of a runnable Chromium: HIPPO_CHROMIUM, else Debian's /usr/bin/chromium,
 * installed with apt-get the first time (as root; under a lock, so parallel tests install once).
 * @example
 * const browser = await chromium.launch({ executablePath: await ensureChromium(), args: [...chromiumArgs] });
 */
export async function ensureChromium(opts = {}) {
  const explicit = process.env.HIPPO_CHROMIUM;
  if (explicit) {
    if (!version(explicit)) throw new Error(`HIPPO_CHROMIUM=${explicit}: not a runnable chromium (--version failed)`);
    return explicit;
  }
  if (version(debianChromium)) return debianChromium;
  if (process.getuid?.() !== 0) {
    throw new Error(`${debianChromium} is missing: install Debian's chromium (sudo apt-get install chromium) or set HIPPO_CHROMIUM`);
  }
  mkdirSync(join(root, '.cache'), { recursive: true });
  return withLock(join(root, '.cache', 'chromium.lock'), 15 * 60_000, async () => {
    if (version(debianChromium)) return debianChromium;
    const say = (m) => { if (!opts.quiet) process.stderr.write(`chromium: ${m}\n`); };
    const t0 = Date.now();
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptKnowsChromium()) {
      say('apt-get update…');
      const update = sh('apt-get', ['update'], { env });
      if (update.code !== 0 || !aptKnowsChromium()) throw new Error(`apt knows no package chromium, even after apt-get update:\n${update.output.trim()}`);
    }
    say('installing Debian\'s chromium (apt-get install)…');
    // Another apt (a second test process, unattended upgrades) may hold the lock for a while.
    const install = sh('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', 'chromium'], { env });
    const v = version(debianChromium);
    if (install.code !== 0 || !v) throw new Error(`apt-get install chromium failed (exit ${install.code}):\n${install.output.trim().split('\n').slice(-20).join('\n')}`);
    say(`${v} installed in ${seconds(Date.now() - t0)}`);
    return debianChromium;
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureChromium().then((path) => process.stdout.write(`${path}\n`), (e) => {
    process.stderr.write(`chromium: ${e instanceof Error ? e.message : e}\n`);
    process.exitCode = 1;
  });
}
