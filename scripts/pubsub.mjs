#!/usr/bin/env node
// Google's Pub/Sub emulator for development and integration tests (shared/reference/services.md):
// the `cloud-pubsub-emulator` of the Google Cloud CLI (Debian package
// google-cloud-cli-pubsub-emulator), detached from the script that started it.
//
//   node scripts/pubsub.mjs up | down | status                    (npm run pubsub:up / pubsub:down)
//   node scripts/pubsub.mjs setup TOPIC SUBSCRIPTION [MAX_ATTEMPTS]
//   PUBSUB_PORT=8086 node scripts/pubsub.mjs up
//
// Then: PUBSUB_EMULATOR_HOST=127.0.0.1:8085 PUBSUB_PROJECT_ID=hippo-local HIPPO_PUBSUB_SUBSCRIPTION=vendor npm start
// The emulator keeps everything in memory: `down` forgets every topic and message.
//
// `setup` creates TOPIC, the dead-letter topic SUBSCRIPTION-dead-letter (with a subscription of
// the same name, so dead letters are kept), and SUBSCRIPTION on TOPIC with a dead-letter policy
// (MAX_ATTEMPTS deliveries, default 10, as the bridge's HIPPO_PUBSUB_MAX_ATTEMPTS), through the
// emulator's REST API; existing ones are kept.
//
// One emulator a port: its pid file and log are .cache/pubsub-<port>.pid and .log (or in
// another folder: `pubsubUp({ port, dir })`, as the tests do).
import { existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portFromEnv, readPidFile, runsCommand, seconds, spawnDetached, withLock, stopGroup, stopServer, waitUntilReady, portTaken } from './processes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const pubsubCacheDir = join(root, '.cache');

/** Defaults for every function below; the port is read once from PUBSUB_PORT. */
export const pubsubDefaults = Object.freeze({
  port: portFromEnv('PUBSUB_PORT', 8085),
  /** Project of `setup` (any name works on the emulator; ≥ 3 characters, like every resource name). */
  project: process.env.PUBSUB_PROJECT_ID || 'hippo-local',
  /** The emulator's start-up, spawn → answering: ~2 s warm, more on a cold JVM. */
  readyTimeoutMs: 60_000,
  /** SIGTERM → exit, after which `pubsubDown` sends SIGKILL. */
  stopTimeoutMs: 5_000,
});

/** Where the Google Cloud CLI's Debian package (and its tarball install) put the emulator. */
const EMULATOR_PATH = join('platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator');
const SDK_ROOTS = ['/usr/lib/google-cloud-sdk', '/usr/share/google-cloud-sdk', '/opt/google-cloud-sdk', '/google-cloud-sdk'];

function options(opts = {}) {
  const port = opts.port ?? pubsubDefaults.port;
  const dir = resolve(opts.dir ?? pubsubCacheDir);
  return {
    port,
    dir,
    readyTimeoutMs: opts.readyTimeoutMs ?? pubsubDefaults.readyTimeoutMs,
    stopTimeoutMs: opts.stopTimeoutMs ?? pubsubDefaults.stopTimeoutMs,
    quiet: opts.quiet ?? false,
    host: `127.0.0.1:${port}`,
    pidFile: join(dir, `pubsub-${port}.pid`),
    log: join(dir, `pubsub-${port}.log`),
    lock: join(dir, `pubsub-${port}.lock`),
  };
}

const say = (o, msg) => { if (!o.quiet) process.stderr.write(`pubsub: ${msg}\n`); };

/**
 * The emulator's launcher: HIPPO_PUBSUB_EMULATOR when set, else the one beside `gcloud` on
 * PATH, else the usual install folders. Throws, saying how to install it, when there is none.
 * @example emulatorCommand(); // '/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator'
 */
export function emulatorCommand() {
  const explicit = process.env.HIPPO_PUBSUB_EMULATOR;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`HIPPO_PUBSUB_EMULATOR=${explicit}: no such file`);
    return explicit;
  }
  const roots = [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'gcloud'))) roots.push(dirname(dir)); // <sdk>/bin/gcloud
  }
  if (process.env.CLOUDSDK_ROOT_DIR) roots.push(process.env.CLOUDSDK_ROOT_DIR);
  for (const sdk of [...roots, ...SDK_ROOTS]) {
    const candidate = join(sdk, EMULATOR_PATH);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('the Google Cloud Pub/Sub emulator is not installed (looked beside gcloud on PATH and in ' +
    `${SDK_ROOTS.join(', ')}): apt-get install google-cloud-cli-pubsub-emulator (Google's apt repository), ` +
    '`gcloud components install pubsub-emulator`, or set HIPPO_PUBSUB_EMULATOR to its cloud-pubsub-emulator launcher');
}

/** Whether pid is alive and is an emulator on this port, not a recycled pid. */
function isOurEmulator(pid, o) {
  return runsCommand(pid, (argv) => argv.some((a) => a.includes('pubsub-emulator')) && argv.includes(`--port=${o.port}`));
}

/** Whether the emulator answers at host:port (its root path says `Ok`). */
export async function probePubSub(host, timeoutMs = 1_000) {
  try {
    const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok && (await res.text()).trim() === 'Ok';
  } catch {
    return false;
  }
}

/**
 * Whether the emulator runs on the port (per its pid file), and whether it answers.
 * @example const { running, host } = await pubsubStatus(); // host: '127.0.0.1:8085'
 */
export async function pubsubStatus(opts = {}) {
  const o = options(opts);
  const info = readPidFile(o.pidFile);
  const running = info !== null && isOurEmulator(info.pid, o);
  return { running, serving: running && (await probePubSub(o.host)), pid: running ? info.pid : null, host: o.host, log: o.log };
}

/**
 * Starts the emulator on 127.0.0.1:port unless it already runs there, and waits until it answers.
 * @example
 * const { host } = await pubsubUp({ port: 8086 }); // '127.0.0.1:8086': PUBSUB_EMULATOR_HOST
 */
export async function pubsubUp(opts = {}) {
  const o = options(opts);
  mkdirSync(o.dir, { recursive: true });
  return withLock(o.lock, o.readyTimeoutMs + 10_000, async () => {
    const info = readPidFile(o.pidFile);
    if (info && isOurEmulator(info.pid, o)) {
      const ready = await waitReady(info.pid, o, 0, null);
      say(o, `already running at ${o.host} (pid ${info.pid})`);
      return { host: o.host, pid: info.pid, log: o.log, alreadyRunning: true, readyMs: ready.ms };
    }
    rmSync(o.pidFile, { force: true });
    const cmd = emulatorCommand();
    if (await portTaken(o.port)) {
      throw new Error(`127.0.0.1:${o.port} is taken by another process (an emulator not started by this script?): ` +
        'stop it, or pick another port (PUBSUB_PORT, or pubsubUp({ port }))');
    }
    const out = openSync(o.log, 'a');
    writeFileSync(out, `--- ${new Date().toISOString()} pubsub.mjs: starting ${cmd} on 127.0.0.1:${o.port} ---\n`);
    const logOffset = statSync(o.log).size;
    const t0 = Date.now();
    // The launcher is a shell script that `exec`s java; detached, so it outlives this script.
    const child = await spawnDetached(cmd, ['--host=127.0.0.1', `--port=${o.port}`], {
      cwd: o.dir, out, hint: ' (the emulator needs Java on PATH)',
      env: { ...process.env, JAVA_OPTS: process.env.JAVA_OPTS || '-Xmx256m' },
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
    say(o, `running at ${o.host} (pid ${child.pid}; ready in ${seconds(startMs)}; log ${o.log})`);
    return { host: o.host, pid: child.pid, log: o.log, alreadyRunning: false, startMs };
  });
}

function waitReady(pid, o, logOffset, exited) {
  return waitUntilReady({ pid, what: 'the Pub/Sub emulator', probe: () => probePubSub(o.host), timeoutMs: o.readyTimeoutMs, log: o.log, logOffset, exited });
}

/**
 * Stops the emulator on the port: SIGTERM, up to stopTimeoutMs, then SIGKILL. A no-op when it does not run.
 * @example await pubsubDown({ port: 8086 });
 */
export async function pubsubDown(opts = {}) {
  const o = options(opts);
  if (!existsSync(o.dir)) return { stopped: false, killed: false, stopMs: 0 };
  return withLock(o.lock, o.readyTimeoutMs + 10_000, async () => {
    const info = readPidFile(o.pidFile);
    if (!info || !isOurEmulator(info.pid, o)) {
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

/** PUT of an emulator REST resource; an existing one (409) is fine. */
async function putResource(host, path, body) {
  const res = await fetch(`http://${host}/v1/${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok && res.status !== 409) throw new Error(`PUT ${path} on the emulator at ${host}: ${res.status} ${await res.text()}`);
}

/**
 * Creates a topic, a subscription on it with a dead-letter policy, and the dead-letter topic
 * (`<subscription>-dead-letter`, what the bridge publishes to by default) with a subscription of
 * its own name, so dead letters are kept. Existing resources are left as they are.
 * @example await pubsubSetup({ host: '127.0.0.1:8085', project: 'hippo-local', topic: 'vendor', subscription: 'vendor' });
 */
export async function pubsubSetup({ host, project = pubsubDefaults.project, topic, subscription, maxDeliveryAttempts = 10 }) {
  const deadLetter = `${subscription}-dead-letter`;
  await putResource(host, `projects/${project}/topics/${topic}`);
  await putResource(host, `projects/${project}/topics/${deadLetter}`);
  await putResource(host, `projects/${project}/subscriptions/${deadLetter}`, { topic: `projects/${project}/topics/${deadLetter}` });
  await putResource(host, `projects/${project}/subscriptions/${subscription}`, {
    topic: `projects/${project}/topics/${topic}`,
    ackDeadlineSeconds: 30,
    deadLetterPolicy: { deadLetterTopic: `projects/${project}/topics/${deadLetter}`, maxDeliveryAttempts },
  });
  return { topic, subscription, deadLetterTopic: deadLetter };
}

async function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const { host } = await pubsubUp();
      process.stdout.write(`PUBSUB_EMULATOR_HOST=${host}\n`);
      return 0;
    }
    case 'down':
      await pubsubDown();
      return 0;
    case 'status': {
      const s = await pubsubStatus();
      if (!s.running) process.stdout.write(`pubsub: not running on ${s.host}\n`);
      else process.stdout.write(`pubsub: running at ${s.host} (pid ${s.pid}${s.serving ? '' : ', not answering'}; log ${s.log})\n`);
      return s.running ? 0 : 3; // 3: "not running", as LSB init scripts say it
    }
    case 'setup': {
      const [topic, subscription, attempts = '10'] = rest;
      if (!topic || !subscription || !/^\d+$/.test(attempts)) break;
      const host = process.env.PUBSUB_EMULATOR_HOST || `127.0.0.1:${pubsubDefaults.port}`;
      const r = await pubsubSetup({ host, topic, subscription, maxDeliveryAttempts: Number(attempts) });
      process.stdout.write(`pubsub: project ${pubsubDefaults.project} at ${host}: topic ${r.topic}, subscription ${r.subscription}, dead letters on ${r.deadLetterTopic}\n`);
      return 0;
    }
  }
  process.stderr.write('usage: node scripts/pubsub.mjs up | down | status | setup TOPIC SUBSCRIPTION [MAX_ATTEMPTS]\n' +
    '  env: PUBSUB_PORT (default 8085), PUBSUB_PROJECT_ID (setup; default hippo-local), HIPPO_PUBSUB_EMULATOR (the launcher)\n');
  return 2;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`pubsub: ${e instanceof Error ? e.message : e}\n`);
    process.exitCode = 1;
  });
}
