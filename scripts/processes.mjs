// Process plumbing shared by the scripts that run local services (kafka.mjs, s3.mjs) and
// fetch tools (kcat.mjs): plain Node ESM, no dependencies, so the scripts run without a build.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** `12.3 s` */
export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** A TCP port from the environment variable `name`, or `fallback` when unset. */
export function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a TCP port (1–65535), got ${JSON.stringify(raw)}`);
  return n;
}

/** Whether `pid` runs (a zombie — exited, not yet reaped — does not). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Whether `pid` runs and its command line passes `test` (so a recycled pid is not mistaken
 * for the service). Without /proc (macOS) the pid file is trusted.
 */
export function runsCommand(pid, test) {
  if (!isAlive(pid)) return false;
  try {
    return test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  } catch {
    return true;
  }
}

/** A pid file's JSON (`{ pid, … }`), or null when missing or unreadable. */
export function readPidFile(file) {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8'));
    return Number.isInteger(info.pid) ? info : null;
  } catch {
    return null;
  }
}

/**
 * Runs `fn` holding a lock: a directory made with mkdir (atomic) holding the owner's pid. A
 * lock whose owner died is taken over; waiting longer than `timeoutMs` is an error.
 */
export async function withLock(lockDir, timeoutMs, fn) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'owner'), String(process.pid));
      break;
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EEXIST') throw e;
      let owner = NaN;
      try { owner = Number(readFileSync(join(lockDir, 'owner'), 'utf8')); } catch { /* not written yet */ }
      const young = (() => { try { return Date.now() - statSync(lockDir).mtimeMs < 5_000; } catch { return true; } })();
      if ((Number.isInteger(owner) && owner > 0 && !isAlive(owner)) || (Number.isNaN(owner) && !young)) {
        rmSync(lockDir, { recursive: true, force: true }); // its owner died holding it
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${seconds(timeoutMs)} waiting for lock ${lockDir} (held by pid ${owner})`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Whether something listens on 127.0.0.1:port already. */
export function portTaken(port) {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(false)));
  });
}

/**
 * A TCP port that was free a moment ago (the OS picks it); for tests and benchmarks that
 * must not touch a developer's services on their usual ports.
 * @example await kafkaUp({ port: await freePort(), controllerPort: await freePort(), dir });
 */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** The last `lines` lines of a log from byte `from` on (this start's part of an appended log). */
export function logTail(file, { from = 0, lines = 30 } = {}) {
  try {
    return readFileSync(file).subarray(from).toString('utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
  } catch {
    return '(no log)';
  }
}

/**
 * Starts a long-running service detached (its own process group: it outlives the script),
 * stdout and stderr to the open file descriptor `out` (closed here). Resolves once it has a
 * pid, with a promise of its exit; a command that cannot start at all is an error ending in `hint`.
 * `env` replaces the environment (default: this process's).
 */
export async function spawnDetached(cmd, args, { cwd, out, hint = '', env }) {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise((resolveExit) => {
    child.on('exit', (code, signal) => resolveExit({ code, signal }));
    child.on('error', (e) => resolveExit({ code: null, signal: null, error: e }));
  });
  child.unref();
  if (child.pid === undefined) {
    const { error } = /** @type {{ error?: Error }} */ (await exited);
    throw new Error(`could not start ${cmd}: ${error?.message}${hint}`, { cause: error });
  }
  return { pid: child.pid, exited };
}

/** Signals the process group `pid` leads (a server may run as a child of a launcher), else the process. */
export function stopGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}

/**
 * Waits until `probe()` is true for the server `what` (pid `pid`): fails at once if it exits
 * (`exited`: its exit promise, when this process started it), and after `timeoutMs`, both
 * with the tail of its log from `logOffset`.
 */
export async function waitUntilReady({ pid, what, probe, timeoutMs, log, logOffset = 0, exited = null }) {
  const t0 = Date.now();
  let exit = null;
  exited?.then((e) => (exit = e));
  const tail = () => `last lines of ${log}:\n${logTail(log, { from: logOffset, lines: 20 })}`;
  for (;;) {
    if (exit || !isAlive(pid)) {
      throw new Error(`${what} (pid ${pid}) exited during start-up${exit ? ` (code ${exit.code}, signal ${exit.signal})` : ''}; ${tail()}`);
    }
    if (await probe()) return { ms: Date.now() - t0 };
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} (pid ${pid}) did not answer within ${seconds(timeoutMs)}; ${tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Stops the server `pid` (its process group): SIGTERM, then SIGKILL after `stopTimeoutMs`;
 * resolves once it is gone. `say` reports a kill.
 */
export async function stopServer(pid, { stopTimeoutMs, say = () => {} }) {
  const t0 = Date.now();
  stopGroup(pid, 'SIGTERM');
  let killed = false;
  while (isAlive(pid)) {
    if (!killed && Date.now() - t0 > stopTimeoutMs) {
      say(`pid ${pid} still running ${seconds(stopTimeoutMs)} after SIGTERM: SIGKILL`);
      stopGroup(pid, 'SIGKILL');
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { killed, stopMs: Date.now() - t0 };
}
