// The lifecycle every function gets from serveFunction (DESIGN §11): on SIGTERM it stops
// accepting, lets the request in flight finish, then exits 0. Run in a real child process, as
// the local runner and the kubelet run functions.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = new URL('..', import.meta.url).pathname;
const SCRIPT = `
import { Hono } from 'hono';
import { serveFunction } from './functions/serve.ts';
import { createLogger } from './shared/log.ts';
const app = new Hono();
app.get('/slow', async (c) => { await new Promise((r) => setTimeout(r, 1500)); return c.text('finished'); });
serveFunction(app, { port: 0, name: 'lifecycle', log: createLogger({ fn: 'lifecycle' }, { level: 'error' }) });
`;

test('SIGTERM: the request in flight completes, new connections are refused, the process exits 0', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [msg] = (await once(child, 'message')) as [{ port: number }];
  const base = `http://127.0.0.1:${msg.port}`;
  const inflight = fetch(`${base}/slow`).then((r) => r.text());
  await new Promise((r) => setTimeout(r, 300));
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  const refused = await fetch(`${base}/slow`, { headers: { connection: 'close' } }).then(() => false, () => true);
  assert.ok(refused, 'no new requests after SIGTERM');
  assert.is(await inflight, 'finished', 'the request in flight was answered');
  const answered = Date.now();
  const [code, signal] = (await exit) as [number | null, string | null];
  assert.equal([code, signal], [0, null]);
  assert.ok(Date.now() - answered < 1000, 'exits once the work is done, not after a keep-alive timeout');
});

test.run();
