#!/usr/bin/env node
// The test command (`npm test`, and what .ci/run calls): type-check, run every uvu test file
// in its own process, then print one plain line `N passed, N failed, N skipped` with the real
// totals and exit non-zero on any failure. uvu's own summary is per file; CI needs the total.
// The S3 tests need a real S3 API: a moto server is started on a free port for the run (its
// address goes to every test process as S3_ENDPOINT) and stopped after it, whatever happened.
// With S3_ENDPOINT already set, that server is used instead. Kafka and Google's Pub/Sub emulator
// are started the same way (HIPPO_TEST_KAFKA_BROKERS, HIPPO_TEST_PUBSUB_EMULATOR_HOST).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { s3Down, s3Up } from './s3.mjs';
import { kafkaDown, kafkaUp } from './kafka.mjs';
import { pubsubDown, pubsubUp } from './pubsub.mjs';
import { freePort } from './processes.mjs';

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

/** Running test processes, stopped with this one on a signal. */
const children = new Set();

/** A test file that runs longer than this is killed and counts as failed: CI never hangs. */
const FILE_TIMEOUT_MS = Number(process.env.HIPPO_TEST_FILE_TIMEOUT ?? 600) * 1000;
/**
 * The long files, started first so they do not end the run alone, and the time each may
 * take (a multiple of the default, so HIPPO_TEST_FILE_TIMEOUT still scales them).
 */
const LONG_FILES = { 'local/soak.test.ts': 2, 'local/kafka-drills.test.ts': 1, 'local/faults.test.ts': 1, 'local/kafka-faults.test.ts': 1 };

function run(cmd, argv, env = {}, timeoutMs = FILE_TIMEOUT_MS) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, NODE_DISABLE_COLORS: '1', ...env } });
    children.add(child);
    let output = '';
    const timer = setTimeout(() => {
      output += `\n# killed after ${timeoutMs / 1000} s (HIPPO_TEST_FILE_TIMEOUT)\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', () => clearTimeout(timer));
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code: code ?? 1, signal, output });
    });
  });
}

/** This run's own moto, its pid file and log in a temp folder: a developer's moto is untouched. */
let moto = null;

async function startMoto() {
  moto = { port: await freePort(), dir: await mkdtemp(join(tmpdir(), 'hippo-test-moto-')), pid: 0 };
  const up = await s3Up({ port: moto.port, dir: moto.dir, quiet: true });
  moto.pid = up.pid;
  return up;
}

async function stopMoto() {
  const server = moto;
  moto = null;
  if (!server) return;
  await s3Down({ port: server.port, dir: server.dir, quiet: true })
    .catch((e) => process.stdout.write(`# s3: stopping moto failed: ${e.message}\n`));
  await rm(server.dir, { recursive: true, force: true });
}

/**
 * This run's own Kafka broker (free ports, a temp folder), for the tests of the Kafka code
 * paths: its address goes to the test processes as HIPPO_TEST_KAFKA_BROKERS (not
 * KAFKA_BROKERS, which would switch every platform a test starts onto it). Each test uses
 * its own topic.
 */
let kafka = null;

async function startKafka() {
  kafka = { port: await freePort(), controllerPort: await freePort(), dir: await mkdtemp(join(tmpdir(), 'hippo-test-kafka-')), pid: 0 };
  const up = await kafkaUp({ ...kafka, quiet: true });
  kafka.pid = up.pid;
  return up;
}

async function stopKafka() {
  const broker = kafka;
  kafka = null;
  if (!broker) return;
  await kafkaDown({ port: broker.port, controllerPort: broker.controllerPort, dir: broker.dir, quiet: true })
    .catch((e) => process.stdout.write(`# kafka: stopping the broker failed: ${e.message}\n`));
  await rm(broker.dir, { recursive: true, force: true });
}

/**
 * This run's own Pub/Sub emulator (a free port, a temp folder) for the Pub/Sub bridge's tests:
 * its address goes to the test processes as HIPPO_TEST_PUBSUB_EMULATOR_HOST (not
 * PUBSUB_EMULATOR_HOST, which would point every client a test makes at it). Each test uses its
 * own project, topics and subscriptions.
 */
let pubsub = null;

async function startPubSub() {
  pubsub = { port: await freePort(), dir: await mkdtemp(join(tmpdir(), 'hippo-test-pubsub-')), pid: 0 };
  const up = await pubsubUp({ port: pubsub.port, dir: pubsub.dir, quiet: true });
  pubsub.pid = up.pid;
  return up;
}

async function stopPubSub() {
  const emulator = pubsub;
  pubsub = null;
  if (!emulator) return;
  await pubsubDown({ port: emulator.port, dir: emulator.dir, quiet: true })
    .catch((e) => process.stdout.write(`# pubsub: stopping the emulator failed: ${e.message}\n`));
  await rm(emulator.dir, { recursive: true, force: true });
}

// Ctrl-C, or a CI timeout: stop the test processes, and moto, which runs detached in its own
// process group, before going.
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15]]) {
  process.once(signal, () => {
    for (const child of children) child.kill(signal);
    if (moto?.pid) {
      try { process.kill(-moto.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (moto) rmSync(moto.dir, { recursive: true, force: true });
    if (kafka?.pid) {
      try { process.kill(kafka.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (kafka) rmSync(kafka.dir, { recursive: true, force: true });
    if (pubsub?.pid) {
      try { process.kill(-pubsub.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (pubsub) rmSync(pubsub.dir, { recursive: true, force: true });
    process.exit(128 + number);
  });
}

const started = Date.now();
let passed = 0, failed = 0, skipped = 0;
let fileCount = 0;

async function runAll() {
  // moto starts (~1 s) while tsc runs.
  const motoUp = process.env.S3_ENDPOINT ? null : startMoto().then((up) => ({ up }), (error) => ({ error }));
  // Kafka (~3 s, plus a first-time jar download) too.
  const kafkaStarted = process.env.HIPPO_TEST_KAFKA_BROKERS ? null : startKafka().then((up) => ({ up }), (error) => ({ error }));
  // The Pub/Sub emulator (~2 s).
  const pubsubStarted = process.env.HIPPO_TEST_PUBSUB_EMULATOR_HOST ? null : startPubSub().then((up) => ({ up }), (error) => ({ error }));
  const testEnv = {};

  if (!skipTypecheck) {
    const tsc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json']);
    process.stdout.write(`# typecheck: ${tsc.code === 0 ? 'ok' : 'FAILED'}\n${tsc.output}`);
    if (tsc.code !== 0) failed++; // a type error counts as one failure; a clean typecheck is not a test
  }

  if (!motoUp) process.stdout.write(`# s3: S3_ENDPOINT=${process.env.S3_ENDPOINT} (from the environment)\n`);
  else {
    const { up, error } = await motoUp;
    if (up) {
      testEnv.S3_ENDPOINT = up.endpoint;
      process.stdout.write(`# s3: moto at ${up.endpoint} (ready in ${(up.startMs / 1000).toFixed(1)} s)\n`);
    } else {
      failed++; // the S3 tests cannot run against a real S3 API: a failure, never a skip
      process.stdout.write(`# s3: FAILED to start moto: ${error?.message ?? error}\n`);
    }
  }

  if (!kafkaStarted) process.stdout.write(`# kafka: HIPPO_TEST_KAFKA_BROKERS=${process.env.HIPPO_TEST_KAFKA_BROKERS} (from the environment)\n`);
  else {
    const { up, error } = await kafkaStarted;
    if (up) {
      testEnv.HIPPO_TEST_KAFKA_BROKERS = up.brokers;
      process.stdout.write(`# kafka: broker at ${up.brokers} (ready in ${((up.startMs ?? 0) / 1000).toFixed(1)} s${up.fetchMs ? `, jars fetched in ${(up.fetchMs / 1000).toFixed(1)} s` : ''})\n`);
    } else {
      failed++; // the Kafka tests cannot run against a real broker: a failure, never a skip
      process.stdout.write(`# kafka: FAILED to start a broker: ${error?.message ?? error}\n`);
    }
  }

  if (!pubsubStarted) process.stdout.write(`# pubsub: HIPPO_TEST_PUBSUB_EMULATOR_HOST=${process.env.HIPPO_TEST_PUBSUB_EMULATOR_HOST} (from the environment)\n`);
  else {
    const { up, error } = await pubsubStarted;
    if (up) {
      testEnv.HIPPO_TEST_PUBSUB_EMULATOR_HOST = up.host;
      process.stdout.write(`# pubsub: emulator at ${up.host} (ready in ${((up.startMs ?? 0) / 1000).toFixed(1)} s)\n`);
    } else {
      failed++; // the Pub/Sub tests cannot run against the real emulator: a failure, never a skip
      process.stdout.write(`# pubsub: FAILED to start the emulator: ${error?.message ?? error}\n`);
    }
  }

  const files = (await findTests(root)).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
  fileCount = files.length;
  const queue = [...files].sort((a, b) => (LONG_FILES[b] ?? 0) - (LONG_FILES[a] ?? 0));
  async function worker() {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const t0 = Date.now();
      const r = await run(process.execPath, ['--import', 'tsx', file], testEnv, FILE_TIMEOUT_MS * (LONG_FILES[file] ?? 1));
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
      // A passing file's own reports (lines a test writes as `# …`: a tally, a measurement) are shown too.
      const reports = r.output.split('\n').filter((l) => /(^|\s)# /.test(l)).map((l) => `    ${l.slice(l.indexOf('# '))}`);
      process.stdout.write(`${head}\n${f > 0 || process.env.HIPPO_TEST_VERBOSE ? r.output : reports.map((l) => `${l}\n`).join('')}`);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

try {
  await runAll();
} catch (e) {
  failed++;
  process.stdout.write(`# test runner error: ${e?.stack ?? e}\n`);
} finally {
  await Promise.all([stopMoto(), stopKafka(), stopPubSub()]);
}

process.stdout.write(`# ${fileCount} test files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 || (fileCount === 0 && only.length === 0) ? 1 : 0);
