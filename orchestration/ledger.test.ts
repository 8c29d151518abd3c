// The ledger's compare-and-swap under contention (DESIGN §4): many writers on one run, each
// losing races and re-applying, never lose an update; one process groups its own updates. Run against every store backend the
// environment provides.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { FileStore } from '../shared/file-store.ts';
import { S3Store } from '../shared/s3-store.ts';
import { s3Endpoint } from '../local/helpers.test-support.ts';
import { keys, type ObjectStore } from '../shared/object-store.ts';
import { Ledger } from './ledger.ts';
import type { Run } from './run.ts';

const stores: { name: string; open: () => Promise<{ store: ObjectStore; close: () => Promise<void> }> }[] = [
  {
    name: 'file',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hippo-ledger-'));
      return { store: new FileStore(dir), close: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 's3 (moto)',
    open: async () => {
      const store = new S3Store(`s3://hippo-ledger/${randomUUID()}`, { endpoint: await s3Endpoint() });
      return { store, close: async () => store.destroy() };
    },
  },
];

function newRun(id: string): Run {
  const now = new Date().toISOString();
  return { id, pipeline: 'equity-panel', params: {}, asOf: now, status: 'running', steps: {}, createdAt: now, updatedAt: now };
}

for (const backend of stores) {
  test(`${backend.name}: 40 concurrent updates of one run from 4 processes all land, each process committing its updates in groups`, async () => {
    const { store, close } = await backend.open();
    try {
      // Count the run's successful writes: a group commit writes once for many updates.
      let writes = 0;
      const counting: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
        put: async (...args: Parameters<ObjectStore['put']>) => {
          const r = await store.put(...args);
          if (args[0] === keys.run('r1') && args[2]?.ifMatch) writes++;
          return r;
        },
      });
      const ledgers = Array.from({ length: 4 }, () => new Ledger(counting));
      assert.ok(await ledgers[0]!.create(newRun('r1')));
      assert.not.ok(await ledgers[1]!.create(newRun('r1')), 'create is if-none-match');
      const writers = Array.from({ length: 40 }, (_, i) =>
        ledgers[i % 4]!.update('r1', (run) => {
          const seen = ((run.params.seen as number[] | undefined) ?? []);
          if (seen.includes(i)) return false;
          run.params.seen = [...seen, i];
          return true;
        }),
      );
      const results = await Promise.all(writers);
      assert.ok(results.every((r) => r.changed));
      const final = await ledgers[2]!.mustGet('r1');
      assert.equal([...(final.params.seen as number[])].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
      assert.ok(writes <= 20, `${writes} writes for 40 updates: each process groups its queued updates`);
      // A duplicate delivery changes nothing.
      const again = await ledgers[3]!.update('r1', (run) => !(run.params.seen as number[]).includes(7));
      assert.not.ok(again.changed);
    } finally {
      await close();
    }
  });

  test(`${backend.name}: a mutation that throws fails only its own update; the rest of its group lands`, async () => {
    const { store, close } = await backend.open();
    try {
      const ledger = new Ledger(store);
      assert.ok(await ledger.create(newRun('r2')));
      const add = (n: number) => ledger.update('r2', (run) => ((run.params.seen = [...((run.params.seen as number[] | undefined) ?? []), n]), true));
      const [a, bad, b] = await Promise.allSettled([
        add(1),
        ledger.update('r2', (run) => {
          run.params.seen = ['spoiled'];
          throw new TypeError('a bug in one transition');
        }),
        add(2),
      ]);
      assert.is(a.status, 'fulfilled');
      assert.is(b.status, 'fulfilled');
      assert.is(bad.status, 'rejected');
      assert.match(String((bad as PromiseRejectedResult).reason), /a bug in one transition/);
      assert.equal((await ledger.mustGet('r2')).params.seen, [1, 2], 'the thrower\'s half-made change is not written');
    } finally {
      await close();
    }
  });

  test(`${backend.name}: a repeated list() reads only the runs written since, and sees every change`, async () => {
    const { store, close } = await backend.open();
    try {
      let gets = 0;
      const counted: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
        get: (key: string) => ((gets += 1), store.get(key)),
      });
      const ledger = new Ledger(counted);
      for (const id of ['a', 'b', 'c']) await ledger.create(newRun(id));
      gets = 0;
      assert.equal((await ledger.list()).map((r) => r.status), ['running', 'running', 'running']);
      assert.is(gets, 3, 'the first list reads every run');
      gets = 0;
      await ledger.list();
      assert.is(gets, 0, 'nothing changed: nothing read');
      await ledger.update('b', (run) => ((run.status = 'failed'), true));
      await store.delete(keys.run('c'));
      gets = 0;
      const after = await ledger.list();
      assert.equal(after.map((r) => [r.id, r.status]).sort(), [['a', 'running'], ['b', 'failed']]);
      assert.is(gets, 1, 'only the changed run is read again');
    } finally {
      await close();
    }
  });

  test(`${backend.name}: active() reads only unfinished runs, through their markers; finished and orphaned markers go`, async () => {
    const { store, close } = await backend.open();
    try {
      const ledger = new Ledger(store);
      for (const id of ['a', 'b', 'c']) await ledger.create(newRun(id));
      await ledger.create({ ...newRun('done'), status: 'succeeded' });
      assert.equal((await ledger.active()).map((r) => r.id), ['a', 'b', 'c']);
      assert.equal((await ledger.list({ limit: 10 })).length, 4, 'the markers are not runs');
      await ledger.update('b', (run) => ((run.status = 'failed'), true));
      assert.not.ok(await store.head(keys.activeRun('b')), 'a finished run leaves the active list');
      assert.equal((await ledger.active()).map((r) => r.id), ['a', 'c']);
      // A marker whose delete was lost: the run is finished, the next read drops it.
      await ledger.update('c', (run) => ((run.status = 'cancelled'), true));
      await store.put(keys.activeRun('c'), JSON.stringify({ createdAt: new Date().toISOString() }));
      assert.equal((await ledger.active()).map((r) => r.id), ['a']);
      assert.not.ok(await store.head(keys.activeRun('c')));
      // A marker without a run: kept while its creator may still be writing, dropped once old.
      await store.put(keys.activeRun('young'), JSON.stringify({ createdAt: new Date().toISOString() }));
      await store.put(keys.activeRun('old'), JSON.stringify({ createdAt: '2020-01-01T00:00:00Z' }));
      assert.equal((await ledger.active()).map((r) => r.id), ['a']);
      assert.ok(await store.head(keys.activeRun('young')));
      assert.not.ok(await store.head(keys.activeRun('old')));
    } finally {
      await close();
    }
  });
}

test.run();
