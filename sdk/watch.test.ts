import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Hippo } from './index.ts';

/**
 * `watch` follows a standing run's chain. The head names its next run a moment before that run
 * is submitted, so the next run can answer 404 for a while: the watch must wait it out, not
 * give up (it did, and a watcher saw one result where there were two).
 */
test('watch: a 404 for the next run of the chain means "not yet"; the watch follows it once it exists', async () => {
  let nextPolls = 0;
  const run = (id: string, extra: Record<string, unknown>) =>
    JSON.stringify({ id, pipeline: 'equity-panel', params: {}, asOf: '2025-01-01T00:00:00Z', steps: {}, status: 'failed', error: { code: 'invalid_input', message: `${id} failed` }, ...extra });
  const server: Server = createServer((req, res) => {
    if (req.url === '/runs/head') return void res.writeHead(200, { 'content-type': 'application/json' }).end(run('head', { watch: true, nextRunId: 'next' }));
    if (req.url === '/runs/next' && ++nextPolls <= 3) {
      return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'no run next' } }));
    }
    if (req.url === '/runs/next') return void res.writeHead(200, { 'content-type': 'application/json' }).end(run('next', { previousRunId: 'head' }));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const hippo = new Hippo({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const failures: string[] = [];
    const last = await hippo.watch('head', () => assert.unreachable('no run succeeded'), { pollMs: 10, onFailure: (err) => void failures.push(err.message) });
    assert.is(last, 'next');
    assert.equal(failures, ['run head failed: head failed', 'run next failed: next failed']);
    assert.is(nextPolls, 4, 'three 404s waited out, then the run');
    // The run asked for is different: a 404 for it is an error at once.
    await hippo.watch('missing', () => {}, { pollMs: 10 }).then(() => assert.unreachable('resolved'), (err: Error) => assert.match(err.message, /./));
  } finally {
    server.close();
  }
});

test.run();
