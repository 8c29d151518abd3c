import { rm } from 'node:fs/promises';
import { CloudEvent } from 'cloudevents';
import type { Table } from 'apache-arrow';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { FileStore } from '../shared/file-store.ts';
import { Hippo, type RunView } from '../sdk/index.ts';
import { randomUUID } from 'node:crypto';
import { PubSub } from '@google-cloud/pubsub';
import type { LocalPlatform } from './dev.ts';
import { platformWith } from './drills.test-support.ts';
import { demoStore } from './demo.ts';
import { pubsubEmulator } from './helpers.test-support.ts';

interface Ctx { dir: string; store: FileStore }
/**
 * Standing runs end to end on the local platform (real processes): a vendor restatement —
 * published to Pub/Sub (the real emulator; the bridge turns it into
 * `dev.hippo.vendor.delivered`), or sent to the broker directly as curl would — is ingested
 * into the lake → `dataset.changed` → the standing equity-panel run is re-run. The new result
 * differs exactly in the restated rows; the old run's result is unchanged; the old request
 * with the old asOf gives the old bytes again.
 */
const test = suite<Ctx>('standing runs, end to end');
const PARAMS = { start: '2015-01-02', end: '2015-06-30', fields: ['eps'], audit: true };

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.1, recordedAt: '2025-06-01T00:00:00Z' }));
});
test.after(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

type Row = Record<string, unknown>;
const rows = (t: Table): Row[] => t.toArray().map((r) => r.toJSON() as Row);
const day = (v: unknown) => new Date(Number(v)).toISOString().slice(0, 10);

/** A sid whose last panel row has an eps, and a date half-way through that eps period's rows. */
function pickRestatement(before: Row[]) {
  const withEps = before.filter((r) => r.eps !== null);
  const last = withEps.at(-1)!;
  const sid = last.sid as string;
  const period = last.eps__period_end;
  const sameperiod = before.filter((r) => r.sid === sid && r.eps__period_end === period);
  const mid = sameperiod[Math.floor(sameperiod.length / 2)]!;
  return { sid, periodEnd: day(period), publishedOn: day(mid.date), oldValue: last.eps as number };
}

type Restatement = { sid: string; field: string; period_end: string; value: number; published_at: string };

/** How the vendor's restatement arrives: a publish to Pub/Sub, or a CloudEvent at the broker. */
const deliveries = {
  async pubsub() {
    const host = await pubsubEmulator();
    const project = 'hippo-standing';
    const name = `vendor-${randomUUID().slice(0, 8)}`;
    process.env.METADATA_SERVER_DETECTION = 'none'; // an emulator: no Google metadata server to look for
    const client = new PubSub({ projectId: project, apiEndpoint: host, emulatorMode: true });
    const [topic] = await client.createTopic(name);
    await topic.createSubscription(name);
    await client.createTopic(`${name}-dead-letter`);
    return {
      env: { PUBSUB_EMULATOR_HOST: host, PUBSUB_PROJECT_ID: project, HIPPO_PUBSUB_SUBSCRIPTION: name },
      send: async (_platform: LocalPlatform, row: Restatement) => {
        await topic.publishMessage({ data: Buffer.from(JSON.stringify(row) + '\n'), attributes: { dataset: 'fundamentals', format: 'jsonl' } });
      },
      close: () => client.close(),
    };
  },
  async broker() {
    return {
      env: {},
      send: async (platform: LocalPlatform, row: Restatement) => {
        const vendor = new Hippo({ url: platform.runsUrl, ingressUrl: platform.brokerUrl });
        await vendor.emit(new CloudEvent({
          type: 'dev.hippo.vendor.delivered', source: '/vendor/test', datacontenttype: 'application/json',
          data: { dataset: 'fundamentals', records: [row] },
        }));
      },
      close: async () => {},
    };
  },
};

for (const [via, delivery] of Object.entries(deliveries)) test(`via ${via}: a restatement reaches the lake; the standing run re-runs; only the restated rows change; the old run stays reproducible`, async (ctx) => {
  const vendorSide = await delivery();
  const { platform, hippo } = await platformWith({ store: ctx.store }, { HIPPO_WATCH_DEBOUNCE_SECONDS: '1', HIPPO_WATCHDOG_SECONDS: '1', ...vendorSide.env });
  const stop = new AbortController();
  try {
    const { id } = await hippo.submit('equity-panel', PARAMS, { watch: true });
    const results: { table: Table; run: RunView }[] = [];
    const watching = hippo.watch(id, (table, run) => void results.push({ table, run }), { signal: stop.signal, pollMs: 200 });
    let watchError: unknown;
    watching.catch((err) => void (watchError = err)); // awaited below; a failure after the platform stopped is not this test's
    const until = async (n: number) => {
      // Generous: in CI this file shares two cores with the 1000-run soak.
      const deadline = Date.now() + 300_000;
      while (results.length < n) {
        if (Date.now() > deadline) {
          const head = await hippo.status(id);
          const parts = (await ctx.store.list('lake/fundamentals/')).length;
          const next = head.nextRunId ? await hippo.status(head.nextRunId) : undefined;
          const steps = next ? Object.entries(next.steps).map(([k, s]) => `${k} ${s.status}`).join(', ') : '';
          throw new Error(`only ${results.length} results of ${n} (head run ${head.status}, next run ${head.nextRunId ?? 'none'} ${next?.status ?? ''} ${next?.error?.message ?? ''} [${steps}], ${parts} fundamentals parts; the watch ${watchError ? `failed: ${String(watchError)}` : 'is still waiting'})`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until(1);
    const first = results[0]!;
    const before = rows(first.table);
    const r = pickRestatement(before);
    const newValue = r.oldValue + 1000;

    // The vendor restates one value.
    await vendorSide.send(platform, { sid: r.sid, field: 'eps', period_end: r.periodEnd, value: newValue, published_at: r.publishedOn });
    await until(2);
    stop.abort();
    await watching;

    const second = results[1]!;
    assert.is(second.run.previousRunId, id);
    assert.ok(Date.parse(second.run.asOf) > Date.parse(first.run.asOf));
    const after = rows(second.table);
    assert.is(after.length, before.length, 'the same panel rows');
    const differing: Row[] = [];
    for (const [i, a] of after.entries()) {
      const b = before[i]!;
      assert.equal([a.date, a.sid], [b.date, b.sid], 'the same order');
      const cols = Object.keys(a).filter((k) => String(a[k]) !== String(b[k]));
      if (cols.length === 0) continue;
      differing.push(a);
      assert.ok(cols.every((c) => c === 'eps' || c === 'eps__published_at'), `only eps and its publication change: ${cols}`);
    }
    // Exactly the rows of that sid after the restatement's publication day.
    const expected = before.filter((b) => b.sid === r.sid && day(b.date) > r.publishedOn && day(b.eps__period_end) === r.periodEnd);
    assert.ok(expected.length > 0);
    assert.equal(differing.map((d) => [d.sid, day(d.date)]), expected.map((e) => [e.sid, day(e.date)]));
    assert.ok(differing.every((d) => d.eps === newValue));

    // The old run did not change, and its request with its asOf gives the same bytes again.
    const old = await hippo.status(id);
    assert.is(old.result!.sha256, first.run.result!.sha256);
    assert.is(old.nextRunId, second.run.id);
    const again = await hippo.submit('equity-panel', PARAMS, { asOf: first.run.asOf });
    assert.is((await hippo.wait(again.id, { timeoutMs: 120_000 })).result!.sha256, first.run.result!.sha256);
  } finally {
    stop.abort();
    await platform.stop();
    await vendorSide.close();
  }
});

test.run();
