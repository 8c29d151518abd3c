// The transcript-split step on lake parts that ingest wrote: two functions together, so the
// test lives with the other cross-function tests in local/ (docs/ARCHITECTURE.md).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { quotedString } from '@duckdb/node-api';
import { binaryMessage, eventFromResponse } from '../shared/cloudevents.ts';
import { withDuckDB } from '../shared/duckdb.ts';
import { FileStore } from '../shared/file-store.ts';
import { stepRequestedEvent, type StepCompleted } from '../eventing/catalog.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { createApp } from '../functions/transcript-split/app.ts';

interface Ctx { dir: string; store: FileStore }
/** The transcript-split step through its app: the call window, sids, corrections, the columns of DESIGN §6.2. */
const test = suite<Ctx>('transcript-split step');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-split-'));
  ctx.store = new FileStore(join(ctx.dir, 'store'));
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const call = (id: string, sid: string, callStart: string, text: string) =>
  JSON.stringify({ transcript_id: id, sid, call_start: callStart, published_at: '2020-11-01T12:00:00Z', text });

async function ingest(ctx: Ctx, lines: string[], recordedAt: string) {
  const path = join(ctx.dir, `t-${recordedAt.slice(0, 10)}.jsonl`);
  await writeFile(path, `${lines.join('\n')}\n`);
  await withDuckDB({}, (c) => ingestFiles(c, 'transcripts', [{ path }], { store: ctx.store, tempDir: ctx.dir, recordedAt }));
}

async function split(ctx: Ctx, params: Record<string, unknown>, asOf = '2021-06-01T00:00:00Z') {
  const app = createApp({ store: ctx.store });
  const m = binaryMessage(stepRequestedEvent('/test', {
    runId: 'r1', stepId: 'transcript-split', step: 'transcript-split', params, asOf, inputs: {}, output: 'work/r1/transcript-split', attempt: 1, tier: 0,
  }));
  const res = await app.request('/', { method: 'POST', headers: m.headers, body: m.body });
  if (res.status !== 200) return { status: res.status, body: await res.json() as { error: { code: string; message: string } } };
  const done = (await eventFromResponse(res))!.data as StepCompleted;
  const path = await ctx.store.localPath(done.outputs.turns!.key);
  const rows = await withDuckDB({}, async (c) => (await c.runAndReadAll(
    `SELECT transcript_id, sid, strftime(call_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%MZ') AS call_start, section, turn, speaker, role, title, firm, text, words
     FROM read_parquet(${quotedString(path)}) ORDER BY transcript_id, turn`)).getRowObjectsJS());
  const types = await withDuckDB({}, async (c) => (await c.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${quotedString(path)}))`)).getRowsJS());
  return { status: 200, done, rows, types };
}

const FOOL = 'Prepared Remarks:\nOperator\nWelcome. [Operator Instructions]\nAmy Chen -- Chief Executive Officer\nA good quarter.\nQuestions & Answers:\nOperator\nFirst question.\nBo Diaz -- Acme Securities -- Analyst\nMargins?\nDuration: 30 minutes\nCall participants:\nAmy Chen -- Chief Executive Officer\nBo Diaz -- Acme Securities -- Analyst';

test('turns of the calls in the window (New York dates), with the columns and types of DESIGN §6.2', async (ctx) => {
  await ingest(ctx, [
    call('t1', 'S1', '2020-10-27T17:00:00-04:00', FOOL),
    // 23:30 in New York on the 31st is November 1st in UTC: still an October call.
    call('t2', 'S2', '2020-10-31T23:30:00-04:00', 'Operator\nLate call.'),
    call('t3', 'S1', '2020-11-02T09:00:00-05:00', 'Operator\nNovember.'),
  ], '2021-01-01T00:00:00Z');
  const r = await split(ctx, { start: '2020-10-01', end: '2020-10-31' });
  assert.is(r.status, 200);
  assert.equal(r.rows!.map((t) => [t.transcript_id, t.turn, t.section, t.speaker, t.role, t.title, t.firm, t.words]), [
    ['t1', 0, 'prepared', 'Operator', 'operator', null, null, 3],
    ['t1', 1, 'prepared', 'Amy Chen', 'executive', 'Chief Executive Officer', null, 3],
    ['t1', 2, 'qa', 'Operator', 'operator', null, null, 2],
    ['t1', 3, 'qa', 'Bo Diaz', 'analyst', 'Analyst', 'Acme Securities', 1],
    ['t2', 0, 'prepared', 'Operator', 'operator', null, null, 2],
  ]);
  assert.is(r.rows![0]!.text, 'Welcome. [Operator Instructions]');
  assert.is(r.rows![4]!.call_start, '2020-11-01T03:30Z');
  assert.equal(r.types, [
    ['transcript_id', 'VARCHAR'], ['sid', 'VARCHAR'], ['call_start', 'TIMESTAMP WITH TIME ZONE'], ['published_at', 'TIMESTAMP WITH TIME ZONE'],
    ['section', 'VARCHAR'], ['turn', 'INTEGER'], ['speaker', 'VARCHAR'], ['role', 'VARCHAR'], ['title', 'VARCHAR'], ['firm', 'VARCHAR'],
    ['text', 'VARCHAR'], ['words', 'INTEGER'],
  ]);
  assert.equal(r.done!.lineage.transcripts!.length, 1);
  assert.is(r.done!.metrics.rowsIn, 2);
  assert.is(r.done!.metrics.rowsOut, 5);
});

test('sids filter; a corrected transcript replaces the old text from its recorded_at on', async (ctx) => {
  await ingest(ctx, [call('t1', 'S1', '2020-10-27T17:00:00-04:00', 'Operator\nOld text.'), call('t2', 'S2', '2020-10-28T17:00:00-04:00', 'Operator\nOther.')], '2021-01-01T00:00:00Z');
  await ingest(ctx, [call('t1', 'S1', '2020-10-27T17:00:00-04:00', 'Operator\nCorrected text here.')], '2021-03-01T00:00:00Z');
  const before = await split(ctx, { start: '2020-10-01', end: '2020-10-31', sids: ['S1'] }, '2021-02-01T00:00:00Z');
  const after = await split(ctx, { start: '2020-10-01', end: '2020-10-31', sids: ['S1'] });
  assert.equal(before.rows!.map((t) => [t.transcript_id, t.text]), [['t1', 'Old text.']]);
  assert.equal(after.rows!.map((t) => [t.transcript_id, t.text]), [['t1', 'Corrected text here.']]);
  assert.equal(after.done!.lineage.transcripts!.length, 2);
});

test('a correction that moves a call out of the window removes it (the window applies to the latest version)', async (ctx) => {
  await ingest(ctx, [call('t1', 'S1', '2020-10-27T17:00:00-04:00', 'Operator\nHi.')], '2021-01-01T00:00:00Z');
  await ingest(ctx, [call('t1', 'S1', '2020-12-27T17:00:00-05:00', 'Operator\nHi.')], '2021-03-01T00:00:00Z');
  const r = await split(ctx, { start: '2020-10-01', end: '2020-10-31' });
  assert.equal(r.rows, []);
});

test('no transcripts in the lake is a 422 telling the user to ingest; bad params are a 422 naming the field', async (ctx) => {
  let r = await split(ctx, { start: '2020-10-01', end: '2020-10-31' });
  assert.is(r.status, 422);
  assert.match(r.body!.error.message, /transcripts has no rows .*hippo ingest transcripts/);
  r = await split(ctx, { start: '2020-10-01' });
  assert.is(r.status, 422);
  assert.match(r.body!.error.message, /end/);
});

test('a superseded request is answered at once without work: a later attempt is current, or the run is over', async (ctx) => {
  await ingest(ctx, [call('t1', 'S1', '2020-10-27T17:00:00-04:00', FOOL)], '2021-01-01T00:00:00Z');
  const ledger = (status: string, attempt: number, stepStatus = 'dispatched') =>
    ctx.store.put('runs/r1.json', JSON.stringify({ id: 'r1', status, steps: { 'transcript-split': { status: stepStatus, attempt } } }));
  const params = { start: '2020-10-01', end: '2020-10-31' };
  const cases: [string, number, string, string | undefined][] = [
    ['running', 2, 'dispatched', 'attempt 2 of transcript-split is the current one'],
    ['cancelled', 1, 'dispatched', 'run r1 is cancelled'],
    ['running', 1, 'succeeded', 'attempt 1 of transcript-split already succeeded'],
    ['running', 1, 'dispatched', undefined],
  ];
  for (const [status, attempt, stepStatus, reason] of cases) {
    await ledger(status, attempt, stepStatus);
    const app = createApp({ store: ctx.store });
    const m = binaryMessage(stepRequestedEvent('/test', {
      runId: 'r1', stepId: 'transcript-split', step: 'transcript-split', params, asOf: '2021-06-01T00:00:00Z', inputs: {}, output: 'work/r1/transcript-split', attempt: 1, tier: 0,
    }));
    const res = await app.request('/', { method: 'POST', headers: m.headers, body: m.body });
    assert.is(res.status, 200);
    if (reason) {
      assert.equal(await res.json(), { skipped: true, reason }, `${status}, attempt ${attempt} ${stepStatus}`);
      assert.is(res.headers.get('ce-type'), null, 'no reply event');
    } else {
      assert.is(((await eventFromResponse(res))!.data as StepCompleted).metrics.rowsOut, 4, 'the current attempt does the work');
    }
  }
  const written = (await ctx.store.list('work/r1/')).map((o) => o.key);
  assert.equal(written, ['work/r1/transcript-split/turns.parquet'], 'only the current attempt wrote');
});

test.run();
