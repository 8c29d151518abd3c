#!/usr/bin/env node
// An S3-compatible store for development and integration tests: moto's server (Python moto,
// preinstalled; shared/reference/services.md), detached from the script that started it.
//
//   node scripts/s3.mjs up | down | status          (npm run s3:up / s3:down)
//   S3_PORT=5001 node scripts/s3.mjs up
//
// Then: S3_ENDPOINT=http://127.0.0.1:5000 HIPPO_STORE=s3://hippo/dev npm start
// moto keeps everything in memory: `down` forgets every bucket.
//
// One server a port: its pid file and log are .cache/moto.pid and .cache/moto.log on the
// default port 5000, .cache/moto-<port>.pid and .cache/moto-<port>.log on any other (or in
// another folder: `s3Up({ port, dir })`, as the tests do).
import { accessSync, constants, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDetached, portFromEnv, readPidFile, runsCommand, seconds, withLock, stopGroup, stopServer, waitUntilReady, portTaken } from './processes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const s3CacheDir = join(root, '.cache');

const DEFAULT_PORT = 5000;

/** Defaults for every function below; the port is read once from S3_PORT. */
export const s3Defaults = Object.freeze({
  port: portFromEnv('S3_PORT', DEFAULT_PORT),
  /** moto's start-up, spawn → answering. A cold start takes ~1–2 s. */
  readyTimeoutMs: 30_000,
  /** SIGTERM → exit, after which `s3Down` sends SIGKILL. */
  stopTimeoutMs: 5_000,
});

function options(opts = {}) {
  const port = opts.port ?? s3Defaults.port;
  const name = port === DEFAULT_PORT ? 'moto' : `moto-${port}`;
  const dir = resolve(opts.dir ?? s3CacheDir);
  return {
    port,
    dir,
    readyTimeoutMs: opts.readyTimeoutMs ?? s3Defaults.readyTimeoutMs,
    stopTimeoutMs: opts.stopTimeoutMs ?? s3Defaults.stopTimeoutMs,
    quiet: opts.quiet ?? false,
    endpoint: `http://127.0.0.1:${port}`,
    pidFile: join(dir, `${name}.pid`),
    log: join(dir, `${name}.log`),
    lock: join(dir, `${name}.lock`),
  };
}

const say = (o, msg) => { if (!o.quiet) process.stderr.write(`s3: ${msg}\n`); };

/** Whether pid is alive and is a moto server on this port, not a recycled pid. */
function isOurServer(pid, o) {
  return runsCommand(pid, (argv) => argv.some((a) => /moto_server$|moto\.server$/.test(a)) && argv.includes(String(o.port)));
}

/** `moto_server` from PATH, else `python3 -m moto.server` (same flags). */
function motoCommand() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'moto_server');
    try {
      accessSync(candidate, constants.X_OK);
      return { cmd: candidate, args: [] };
    } catch { /* not here */ }
  }
  return { cmd: 'python3', args: ['-m', 'moto.server'] };
}

/**
 * Whether an S3 API answers at the endpoint: moto answers an unsigned ListBuckets with its
 * XML (it checks no signatures), which no other program on the port would.
 */
export async function probeS3(endpoint, timeoutMs = 1_000) {
  try {
    const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(timeoutMs) });
    return (await res.text()).includes('ListAllMyBucketsResult');
  } catch {
    return false;
  }
}

/**
 * Whether moto runs on the port (per its pid file), and whether it answers.
 * @example const { running, endpoint } = await s3Status();
 */
export async function s3Status(opts = {}) {
  const o = options(opts);
  const info = readPidFile(o.pidFile);
  const running = info !== null && isOurServer(info.pid, o);
  return { running, serving: running && (await probeS3(o.endpoint)), pid: running ? info.pid : null, endpoint: o.endpoint, log: o.log };
}

/**
 * Starts moto on 127.0.0.1:port unless it already runs there, and waits until it answers.
 * @example
 * const { endpoint } = await s3Up({ port: 5001 }); // 'http://127.0.0.1:5001'
 */
export async function s3Up(opts = {}) {
  const o = options(opts);
  mkdirSync(o.dir, { recursive: true });
  return withLock(o.lock, o.readyTimeoutMs + 10_000, async () => {
    const info = readPidFile(o.pidFile);
    if (info && isOurServer(info.pid, o)) {
      const ready = await waitReady(info.pid, o, 0, null);
      say(o, `already running at ${o.endpoint} (pid ${info.pid})`);
      return { endpoint: o.endpoint, pid: info.pid, log: o.log, alreadyRunning: true, readyMs: ready.ms };
    }
    rmSync(o.pidFile, { force: true });
    if (await portTaken(o.port)) {
      throw new Error(`127.0.0.1:${o.port} is taken by another process (a moto not started by this script?): ` +
        'stop it, or pick another port (S3_PORT, or s3Up({ port }))');
    }
    const { cmd, args } = motoCommand();
    const out = openSync(o.log, 'a');
    writeFileSync(out, `--- ${new Date().toISOString()} s3.mjs: starting ${[cmd, ...args].join(' ')} on 127.0.0.1:${o.port} ---\n`);
    const logOffset = statSync(o.log).size;
    const t0 = Date.now();
    // Detached: its own process group, so it outlives this script and `down` stops the group.
    const child = await spawnDetached(cmd, [...args, '-H', '127.0.0.1', '-p', String(o.port)], {
      cwd: o.dir, out, hint: " (moto_server comes with Python moto: pip install 'moto[server]')",
    });
    const { exited } = child;
    writeFileSync(o.pidFile, JSON.stringify({ pid: child.pid, port: o.port, startedAt: new Date().toISOString() }) + '\n');
    try {
      await waitReady(child.pid, o, logOffset, exited);
    } catch (e) {
      stopGroup(child.pid, 'SIGKILL'); // leave nothing half-started behind
      rmSync(o.pidFile, { force: true });
      throw e;
    }
    const startMs = Date.now() - t0;
    say(o, `running at ${o.endpoint} (pid ${child.pid}; ready in ${seconds(startMs)}; log ${o.log})`);
    return { endpoint: o.endpoint, pid: child.pid, log: o.log, alreadyRunning: false, startMs };
  });
}

function waitReady(pid, o, logOffset, exited) {
  return waitUntilReady({ pid, what: 'moto', probe: () => probeS3(o.endpoint), timeoutMs: o.readyTimeoutMs, log: o.log, logOffset, exited });
}

/**
 * Stops moto on the port: SIGTERM, up to stopTimeoutMs, then SIGKILL. A no-op when it does not run.
 * @example await s3Down({ port: 5001 });
 */
export async function s3Down(opts = {}) {
  const o = options(opts);
  if (!existsSync(o.dir)) return { stopped: false, killed: false, stopMs: 0 };
  return withLock(o.lock, o.readyTimeoutMs + 10_000, async () => {
    const info = readPidFile(o.pidFile);
    if (!info || !isOurServer(info.pid, o)) {
      rmSync(o.pidFile, { force: true });
      say(o, `not running on port ${o.port}`);
      return { stopped: false, killed: false, stopMs: 0 };
    }
    const { killed, stopMs } = await stopServer(info.pid, { stopTimeoutMs: o.stopTimeoutMs, say: (line) => say(o, line) });
    rmSync(o.pidFile, { force: true });
    say(o, `stopped pid ${info.pid} in ${seconds(stopMs)}${killed ? ' (killed)' : ''}`);
    return { stopped: true, killed, stopMs };
  });
}

async function main(argv) {
  const [command] = argv;
  switch (command) {
    case 'up': {
      const { endpoint } = await s3Up();
      process.stdout.write(`S3_ENDPOINT=${endpoint}\n`);
      return 0;
    }
    case 'down':
      await s3Down();
      return 0;
    case 'status': {
      const s = await s3Status();
      if (!s.running) process.stdout.write(`s3: not running on ${s.endpoint}\n`);
      else process.stdout.write(`s3: running at ${s.endpoint} (pid ${s.pid}${s.serving ? '' : ', not answering'}; log ${s.log})\n`);
      return s.running ? 0 : 3; // 3: "not running", as LSB init scripts say it
    }
  }
  process.stderr.write('usage: node scripts/s3.mjs up | down | status\n  env: S3_PORT (default 5000)\n');
  return 2;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`s3: ${e instanceof Error ? e.message : e}\n`);
    process.exitCode = 1;
  });
}
