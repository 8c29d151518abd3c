import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { quotedString } from '@duckdb/node-api';
import { withDuckDB } from '../shared/duckdb.ts';
import type { FileStore } from '../shared/file-store.ts';
import { SAMPLE_CALLS } from '../demo/demo-transcripts.ts';
import { runToEnd, startEmbedded, type Embedded } from './embedded.ts';
import { demoStore } from './demo.ts';

interface Ctx { dir: string; store: FileStore; hippo: Embedded }
/** The `transcripts` pipeline end to end on the demo data: ingest → transcript-split → export. */
const test = suite<Ctx>('transcripts pipeline (embedded)');
const config = { HIPPO_TIERS: [1 << 30, 4 << 30, 16 << 30], HIPPO_STEP_TIMEOUT: 600 };

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.1 }));
  ctx.hippo = await startEmbedded({ store: ctx.store, config });
});
test.after(async (ctx) => {
  await ctx.hippo.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

type Row = Record<string, unknown>;

async function turns(ctx: Ctx, params: Record<string, unknown>): Promise<Row[]> {
  const run = await runToEnd(ctx.hippo, { pipeline: 'transcripts', params });
  assert.is(run.status, 'succeeded', JSON.stringify(run.error));
  const res = await ctx.hippo.runs.request(`/runs/${run.id}/result?format=parquet`);
  const path = join(ctx.dir, `${run.id}.parquet`);
  await writeFile(path, new Uint8Array(await res.arrayBuffer()));
  return withDuckDB({}, async (c) =>
    (await c.runAndReadAll(`SELECT *, strftime(call_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS call_utc FROM read_parquet(${quotedString(path)})`)).getRowObjectsJS() as Row[],
  );
}

test('a year of calls: sorted by transcript_id, turn; each sample call exactly as derived by hand', async (ctx) => {
  const rows = await turns(ctx, { start: '2020-01-01', end: '2020-12-31' });
  const order = rows.map((r) => `${r.transcript_id}\u0000${String(r.turn).padStart(6, '0')}`);
  assert.equal(order, [...order].sort(), 'sorted by transcript_id, turn');
  assert.equal(Object.keys(rows[0]!).slice(0, 12), ['transcript_id', 'sid', 'call_start', 'published_at', 'section', 'turn', 'speaker', 'role', 'title', 'firm', 'text', 'words']);
  for (const call of SAMPLE_CALLS) {
    const mine = rows.filter((r) => r.transcript_id === call.transcriptId);
    assert.equal(mine.map(({ section, turn, speaker, role, title, firm }) => ({ section, turn, speaker, role, title, firm })), call.turns.map((t) => ({ ...t })), call.transcriptId);
    assert.ok(mine.every((r) => r.sid === call.sid && r.call_utc === new Date(call.callStart).toISOString().replace('.000', '')));
    for (const { turn, text } of call.expectedTexts) assert.is(mine[turn]!.text, text);
  }
  const years = new Set(rows.map((r) => String(r.call_utc).slice(0, 4)));
  assert.equal([...years], ['2020']);
});

test('sids narrows the calls; a window with no calls is an empty result, not an error', async (ctx) => {
  const rows = await turns(ctx, { start: '2019-01-01', end: '2020-12-31', sids: ['S00003'] });
  assert.ok(rows.length > 0);
  assert.equal([...new Set(rows.map((r) => r.sid))], ['S00003']);
  assert.equal(await turns(ctx, { start: '1990-01-01', end: '1990-12-31' }), []);
});

test('bad params are a 400 naming the field', async (ctx) => {
  const res = await ctx.hippo.runs.request('/runs', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pipeline: 'transcripts', params: { start: '2020-02-30', end: '2020-01-01', timezone: 'Mars/Olympus' } }),
  });
  assert.is(res.status, 400);
  const body = (await res.json()) as { error: { details: { field: string }[] } };
  assert.equal([...new Set(body.error.details.map((d) => d.field))].sort(), ['params.start', 'params.timezone']);
});

test.run();
