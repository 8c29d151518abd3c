#!/usr/bin/env node
// A real single-node Kafka (KRaft) for development and integration tests, with nothing installed
// by hand: the broker's jars come from Maven Central (scripts/kafka/pom.xml) into .cache/kafka/,
// and the broker runs detached from the script that started it.
//
//   node scripts/kafka.mjs up | down | status | create-topic NAME [PARTITIONS]
//   KAFKA_PORT=19092 node scripts/kafka.mjs up      (controller on KAFKA_CONTROLLER_PORT, else port+1)
//
// A broker lives in one directory (default .cache/kafka/data-<port>/): server.properties,
// kraft/ (log.dirs, so topics survive a down/up), kafka.log, kafka.pid.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync,
  statSync, writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isAlive, logTail, spawnDetached, portFromEnv, readPidFile, runsCommand, seconds, withLock } from './processes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const here = join(root, 'scripts', 'kafka');
export const kafkaCacheDir = join(root, '.cache', 'kafka');

/** The line BrokerLifecycleManager logs once the broker is unfenced and serves clients. */
const READY_LINE = 'Transitioning from RECOVERY to RUNNING';

const envPort = portFromEnv('KAFKA_PORT', 9092);

/** Defaults for every function below, read once from KAFKA_PORT / KAFKA_CONTROLLER_PORT. */
export const kafkaDefaults = Object.freeze({
  port: envPort,
  controllerPort: portFromEnv('KAFKA_CONTROLLER_PORT', envPort + 1),
  /** Broker start-up, java start → ready. A cold start takes ~5–10 s on 2 cores. */
  readyTimeoutMs: 90_000,
  /** SIGTERM → exit, after which `kafkaDown` sends SIGKILL. */
  stopTimeoutMs: 30_000,
});

function options(opts = {}) {
  const port = opts.port ?? kafkaDefaults.port;
  const controllerPort = opts.controllerPort ?? (opts.port === undefined ? kafkaDefaults.controllerPort : port + 1);
  const dir = resolve(opts.dir ?? join(kafkaCacheDir, `data-${port}`));
  return {
    port, controllerPort, dir,
    readyTimeoutMs: opts.readyTimeoutMs ?? kafkaDefaults.readyTimeoutMs,
    stopTimeoutMs: opts.stopTimeoutMs ?? kafkaDefaults.stopTimeoutMs,
    quiet: opts.quiet ?? false,
    brokers: `127.0.0.1:${port}`,
    props: join(dir, 'server.properties'),
    logDirs: join(dir, 'kraft'),
    log: join(dir, 'kafka.log'),
    pidFile: join(dir, 'kafka.pid'),
  };
}

const say = (o, msg) => { if (!o.quiet) process.stderr.write(`kafka: ${msg}\n`); };

// ---------------------------------------------------------------------------------------------
// Jars

function javaBin() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/**
 * Fetches the broker's jars from Maven Central unless they are cached; returns the classpath
 * directory. The directory is named by a hash of pom.xml, so a version bump fetches again, and
 * is built aside and renamed into place, so a half-fetched directory is never used.
 * @example const { libDir } = await ensureKafkaJars(); // .cache/kafka/lib-1a2b3c4d5e6f
 */
export async function ensureKafkaJars(opts = {}) {
  const pom = join(here, 'pom.xml');
  const hash = createHash('sha256').update(readFileSync(pom)).digest('hex').slice(0, 12);
  const libDir = join(kafkaCacheDir, `lib-${hash}`);
  if (existsSync(libDir)) return { libDir, fetchMs: 0 };
  mkdirSync(kafkaCacheDir, { recursive: true });
  return withLock(join(kafkaCacheDir, 'fetch.lock'), 15 * 60_000, async () => {
    if (existsSync(libDir)) return { libDir, fetchMs: 0 }; // another process fetched meanwhile
    const tmp = `${libDir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    if (!opts.quiet) process.stderr.write('kafka: fetching the broker jars from Maven Central (mvn)…\n');
    const t0 = Date.now();
    const mvn = await run('mvn', [
      '-q', '-B', '-f', pom,
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
      '-DincludeScope=runtime', `-DoutputDirectory=${tmp}`,
    ]);
    if (mvn.code !== 0 || !existsSync(tmp)) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`fetching Kafka jars failed (mvn exit ${mvn.code}):\n${tail(mvn.output, 40)}`);
    }
    renameSync(tmp, libDir);
    const fetchMs = Date.now() - t0;
    if (!opts.quiet) process.stderr.write(`kafka: fetched ${readdirSync(libDir).length} jars in ${seconds(fetchMs)}\n`);
    return { libDir, fetchMs };
  });
}

/** Runs a command to completion, collecting stdout and stderr together. */
function run(cmd, args, opts = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { cwd: root, ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => reject(/** @type {NodeJS.ErrnoException} */ (e).code === 'ENOENT'
      ? new Error(`${cmd} not found on PATH${cmd.endsWith('java') ? ' (Kafka 4.x needs Java 17+)' : ''}`, { cause: e })
      : e));
    child.on('close', (code) => resolveRun({ code: code ?? 1, output }));
  });
}

/** JVM flags for the short-lived admin tools: start fast, log only warnings. */
function toolJvm(libDir) {
  return [
    '-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
    `-Dlog4j2.configurationFile=${join(here, 'log4j2.properties')}`, '-Dhippo.kafka.log.level=WARN',
    '-cp', join(libDir, '*'),
  ];
}

// ---------------------------------------------------------------------------------------------
// The Kafka wire protocol, just enough to ask a broker whether it serves metadata.

function kafkaRequest(port, apiKey, apiVersion, body, timeoutMs = 2_000) {
  return new Promise((resolveReq, reject) => {
    const clientId = Buffer.from('hippo-kafka-probe');
    const header = Buffer.alloc(10);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(apiVersion, 2);
    header.writeInt32BE(1, 4); // correlation id
    header.writeInt16BE(clientId.length, 8);
    const payload = Buffer.concat([header, clientId, body]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    const socket = connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    const done = (err, value) => { socket.destroy(); if (err) reject(err); else resolveReq(value); };
    socket.setTimeout(timeoutMs, () => done(new Error(`no answer from 127.0.0.1:${port} in ${timeoutMs} ms`)));
    socket.on('error', (e) => done(e));
    socket.on('connect', () => socket.write(Buffer.concat([size, payload])));
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) done(null, got.subarray(8, 4 + got.readInt32BE(0)));
    });
    socket.on('end', () => done(new Error(`127.0.0.1:${port} closed the connection`)));
  });
}

/**
 * Asks a broker for its API versions, then for metadata; resolves to the brokers it lists, which
 * are the unfenced ones: a non-empty list means the broker serves clients.
 * @example await probeKafka(9092); // [{ nodeId: 1, host: '127.0.0.1', port: 9092 }]
 */
export async function probeKafka(port, timeoutMs = 2_000) {
  // ApiVersions v0: every broker answers it, whatever else it supports.
  const versions = await kafkaRequest(port, 18, 0, Buffer.alloc(0), timeoutMs);
  const error = versions.readInt16BE(0);
  if (error !== 0) throw new Error(`ApiVersions error ${error}`);
  let metadata = null;
  for (let i = 0, n = versions.readInt32BE(2); i < n; i++) {
    const at = 6 + i * 6;
    if (versions.readInt16BE(at) === 3) metadata = { min: versions.readInt16BE(at + 2), max: versions.readInt16BE(at + 4) };
  }
  // Metadata v4–v8 share one non-flexible layout (Kafka 4 dropped v0–v3).
  const v = metadata ? Math.max(metadata.min, 4) : NaN;
  if (!metadata || v > Math.min(metadata.max, 8)) throw new Error(`broker supports no Metadata version in 4–8 (${JSON.stringify(metadata)})`);
  const request = Buffer.alloc(5);
  request.writeInt32BE(0, 0); // no topics: only the brokers
  request.writeInt8(0, 4); // allow_auto_topic_creation = false
  const res = await kafkaRequest(port, 3, v, request, timeoutMs);
  const brokers = [];
  const n = res.readInt32BE(4); // after throttle_time_ms
  let at = 8;
  for (let i = 0; i < n; i++) {
    const nodeId = res.readInt32BE(at);
    const hostLen = res.readInt16BE(at + 4);
    const host = res.toString('utf8', at + 6, at + 6 + hostLen);
    at += 6 + hostLen;
    const brokerPort = res.readInt32BE(at);
    const rackLen = res.readInt16BE(at + 4);
    at += 6 + Math.max(rackLen, 0);
    brokers.push({ nodeId, host, port: brokerPort });
  }
  return brokers;
}

function answers(port) {
  return new Promise((resolveAnswers) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000, () => { socket.destroy(); resolveAnswers(false); });
    socket.on('connect', () => { socket.destroy(); resolveAnswers(true); });
    socket.on('error', () => resolveAnswers(false));
  });
}

// ---------------------------------------------------------------------------------------------
// The broker process

/** Whether pid is alive and is the broker of this directory, not a recycled pid. */
function isOurBroker(pid, o) {
  return runsCommand(pid, (argv) => argv.includes('kafka.Kafka') && argv.includes(o.props));
}

/**
 * Whether the broker of `dir` (default .cache/kafka/data-<port>) runs, and whether it serves.
 * @example const { running, brokers } = await kafkaStatus({ port: 19092 });
 */
export async function kafkaStatus(opts = {}) {
  const o = options(opts);
  const info = readPidFile(o.pidFile);
  const running = info !== null && isOurBroker(info.pid, o);
  const port = running ? info.port : o.port;
  let serving = false;
  if (running) serving = await probeKafka(port).then((b) => b.length > 0, () => false);
  return { running, serving, pid: running ? info.pid : null, brokers: `127.0.0.1:${port}`, dir: o.dir, log: o.log };
}

function clusterId() {
  // Kafka's Uuid.randomUuid avoids ids starting with '-' (they read as a CLI flag).
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Starts the broker of `dir` unless it already runs, and waits until it serves clients. Its data
 * survive `kafkaDown` and the next `kafkaUp` of the same dir. Fetches the jars the first time.
 * @example
 * const { brokers, pid } = await kafkaUp({ port: 19092, controllerPort: 19093, dir: tmp });
 * // brokers === '127.0.0.1:19092'
 */
export async function kafkaUp(opts = {}) {
  const o = options(opts);
  mkdirSync(o.dir, { recursive: true });
  return withLock(join(o.dir, 'up.lock'), o.readyTimeoutMs + 16 * 60_000, async () => {
    const info = readPidFile(o.pidFile);
    if (info && isOurBroker(info.pid, o)) {
      // Running: either serving, or still starting after an `up` that was interrupted.
      const ready = await waitReady(info.pid, { ...o, port: info.port }, null, null);
      say(o, `already running at 127.0.0.1:${info.port} (pid ${info.pid})`);
      return { brokers: `127.0.0.1:${info.port}`, pid: info.pid, dir: o.dir, log: o.log, alreadyRunning: true, readyMs: ready.ms };
    }
    rmSync(o.pidFile, { force: true });
    for (const [what, port] of [['port', o.port], ['controller port', o.controllerPort]]) {
      if (await answers(port)) {
        throw new Error(`${what} 127.0.0.1:${port} is taken by another process (a Kafka not started from ${o.dir}?): ` +
          `stop it, or pick other ports (KAFKA_PORT / KAFKA_CONTROLLER_PORT, or kafkaUp({ port, controllerPort }))`);
      }
    }
    const { libDir, fetchMs } = await ensureKafkaJars(o);
    const template = readFileSync(join(here, 'server.properties'), 'utf8');
    writeFileSync(o.props, template
      .replaceAll('@PORT@', String(o.port))
      .replaceAll('@CONTROLLER_PORT@', String(o.controllerPort))
      .replaceAll('@LOG_DIRS@', o.logDirs));

    let formatMs = 0;
    if (!existsSync(join(o.logDirs, 'meta.properties'))) {
      const t0 = Date.now();
      // Static voters (controller.quorum.voters): no --standalone.
      const format = await run(javaBin(), [...toolJvm(libDir), 'kafka.tools.StorageTool', 'format',
        '-t', clusterId(), '-c', o.props, '--ignore-formatted']);
      if (format.code !== 0) throw new Error(`formatting ${o.logDirs} failed (exit ${format.code}):\n${tail(format.output, 30)}`);
      formatMs = Date.now() - t0;
    }

    const out = openSync(o.log, 'a');
    writeFileSync(out, `--- ${new Date().toISOString()} kafka.mjs: starting the broker on 127.0.0.1:${o.port} ---\n`);
    const logOffset = statSync(o.log).size;
    const t0 = Date.now();
    const child = await spawnDetached(javaBin(), [
      '-Xms256m', '-Xmx512m', '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(here, 'log4j2.properties')}`,
      '-cp', join(libDir, '*'), 'kafka.Kafka', o.props,
    ], { cwd: o.dir, out, hint: ' (Kafka 4.x needs Java 17+)' });
    const { exited } = child;
    writeFileSync(o.pidFile, JSON.stringify({ pid: child.pid, port: o.port, controllerPort: o.controllerPort, startedAt: new Date().toISOString() }) + '\n');
    try {
      await waitReady(child.pid, o, logOffset, exited);
    } catch (e) {
      // Leave nothing half-started behind.
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
      rmSync(o.pidFile, { force: true });
      throw e;
    }
    const startMs = Date.now() - t0;
    say(o, `running at ${o.brokers} (pid ${child.pid}; ready ${seconds(startMs)} after java started` +
      `${formatMs ? `, storage formatted in ${seconds(formatMs)}` : ''}; log ${o.log})`);
    return { brokers: o.brokers, pid: child.pid, dir: o.dir, log: o.log, alreadyRunning: false, fetchMs, formatMs, startMs };
  });
}

/**
 * Ready = the log says RUNNING since logOffset (when given) and the broker lists itself in a
 * Metadata response. Fails fast if the process exits, and after readyTimeoutMs with the log's tail.
 */
async function waitReady(pid, o, logOffset, exited) {
  const t0 = Date.now();
  let exit = null;
  exited?.then((e) => (exit = e));
  let sawLine = logOffset === null;
  let lastError = null;
  for (;;) {
    if (exit || !isAlive(pid)) {
      throw new Error(`the Kafka broker (pid ${pid}) exited during start-up${exit ? ` (code ${exit.code}, signal ${exit.signal})` : ''}; ` +
        `last lines of ${o.log}:\n${logTail(o.log, { from: logOffset ?? 0 })}`);
    }
    if (!sawLine) {
      const fd = openSync(o.log, 'r');
      try {
        const size = statSync(o.log).size;
        const buf = Buffer.alloc(Math.max(size - logOffset, 0));
        readSync(fd, buf, 0, buf.length, logOffset);
        sawLine = buf.includes(READY_LINE);
      } finally {
        closeSync(fd);
      }
    }
    if (sawLine) {
      try {
        if ((await probeKafka(o.port)).length > 0) return { ms: Date.now() - t0 };
        lastError = new Error('Metadata lists no broker yet');
      } catch (e) {
        lastError = e;
      }
    }
    if (Date.now() - t0 > o.readyTimeoutMs) {
      throw new Error(`the Kafka broker (pid ${pid}) was not ready within ${seconds(o.readyTimeoutMs)} ` +
        `(${sawLine ? `log says RUNNING, but 127.0.0.1:${o.port}: ${lastError?.message}` : `no "${READY_LINE}" in the log`}); ` +
        `last lines of ${o.log}:\n${logTail(o.log, { from: logOffset ?? 0 })}`);
    }
    await sleep(200);
  }
}

/**
 * Stops the broker of `dir`: SIGTERM, up to stopTimeoutMs for a clean exit, then SIGKILL.
 * A no-op when it does not run. The data stay for the next `kafkaUp`.
 * @example await kafkaDown({ port: 19092, dir: tmp });
 */
export async function kafkaDown(opts = {}) {
  const o = options(opts);
  if (!existsSync(o.dir)) return { stopped: false, killed: false, stopMs: 0 };
  return withLock(join(o.dir, 'up.lock'), o.readyTimeoutMs + 16 * 60_000, async () => {
    const info = readPidFile(o.pidFile);
    if (!info || !isOurBroker(info.pid, o)) {
      rmSync(o.pidFile, { force: true });
      say(o, `not running (${o.dir})`);
      return { stopped: false, killed: false, stopMs: 0 };
    }
    const t0 = Date.now();
    process.kill(info.pid, 'SIGTERM');
    let killed = false;
    while (isAlive(info.pid)) {
      if (!killed && Date.now() - t0 > o.stopTimeoutMs) {
        say(o, `pid ${info.pid} still running ${seconds(o.stopTimeoutMs)} after SIGTERM: SIGKILL`);
        try { process.kill(info.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
        killed = true;
      }
      await sleep(100);
    }
    rmSync(o.pidFile, { force: true });
    const stopMs = Date.now() - t0;
    say(o, `stopped pid ${info.pid} in ${seconds(stopMs)}${killed ? ' (killed)' : ''}`);
    return { stopped: true, killed, stopMs };
  });
}

/**
 * Creates a topic with Kafka's own admin tool (auto-creation is off on this broker); a no-op
 * when it exists.
 * @example await createTopic({ brokers: '127.0.0.1:19092', topic: 'hippo.events', partitions: 6 });
 */
export async function createTopic({ brokers, topic, partitions = 1 }) {
  const { libDir } = await ensureKafkaJars({ quiet: true });
  const r = await run(javaBin(), [...toolJvm(libDir), 'org.apache.kafka.tools.TopicCommand',
    '--bootstrap-server', brokers, '--create', '--if-not-exists', '--topic', topic,
    '--partitions', String(partitions), '--replication-factor', '1']);
  if (r.code !== 0) throw new Error(`creating topic ${topic} on ${brokers} failed (exit ${r.code}):\n${tail(r.output, 20)}`);
}

// ---------------------------------------------------------------------------------------------

async function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      await kafkaUp();
      return 0;
    }
    case 'down': {
      await kafkaDown();
      return 0;
    }
    case 'status': {
      const s = await kafkaStatus();
      if (!s.running) process.stdout.write(`kafka: not running (${s.dir})\n`);
      else process.stdout.write(`kafka: running at ${s.brokers} (pid ${s.pid}${s.serving ? '' : ', not serving yet'}; log ${s.log})\n`);
      return s.running ? 0 : 3; // 3: "not running", as LSB init scripts say it
    }
    case 'create-topic': {
      const [topic, partitions = '1'] = rest;
      if (!topic || !/^\d+$/.test(partitions)) break;
      await createTopic({ brokers: `127.0.0.1:${kafkaDefaults.port}`, topic, partitions: Number(partitions) });
      process.stdout.write(`kafka: topic ${topic} exists\n`);
      return 0;
    }
  }
  process.stderr.write('usage: node scripts/kafka.mjs up | down | status | create-topic NAME [PARTITIONS]\n' +
    '  env: KAFKA_PORT (default 9092), KAFKA_CONTROLLER_PORT (default KAFKA_PORT + 1)\n');
  return 2;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`kafka: ${e instanceof Error ? e.message : e}\n`);
    process.exitCode = 1;
  });
}
