import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withDuckDB } from '../../shared/duckdb.ts';
import { InputError } from '../../shared/errors.ts';
import { FileStore } from '../../shared/file-store.ts';
import { loadDatasets } from '../../shared/lake.ts';
import { ingestFiles } from './ingest.ts';

interface Ctx { dir: string; store: FileStore }
/** Ingest of JSON Lines transcripts (DESIGN §5): bad lines are named by their file line; the lake stays unchanged. */
const test = suite<Ctx>('ingest jsonl');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-jsonl-'));
  ctx.store = new FileStore(join(ctx.dir, 'store'));
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const T0 = '2021-01-01T00:00:00.000Z';
const record = (id: string, text: string | undefined, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ transcript_id: id, sid: 'S1', call_start: '2020-10-27T17:00:00-04:00', published_at: '2020-10-27T20:30:00-04:00', ...(text === undefined ? {} : { text }), ...extra });

async function ingest(ctx: Ctx, content: string | Buffer, name = 'transcripts.jsonl') {
  const path = join(ctx.dir, name);
  await writeFile(path, content);
  return withDuckDB({}, (c) => ingestFiles(c, 'transcripts', [{ path, name }], { store: ctx.store, tempDir: ctx.dir, recordedAt: T0 }));
}

async function rejection(ctx: Ctx, content: string | Buffer): Promise<InputError> {
  try {
    await ingest(ctx, content);
  } catch (err) {
    assert.instance(err, InputError);
    assert.equal(await ctx.store.list('lake/'), [], 'nothing written');
    return err as InputError;
  }
  throw new Error('expected the ingest to fail');
}

test('good transcripts become a part; text survives byte for byte, megabytes included', async (ctx) => {
  const big = ('Operator\n' + 'Revenue grew — “strongly” — in every région. '.repeat(120_000)).trimEnd();
  assert.ok(Buffer.byteLength(big) > 5_000_000);
  const parts = await ingest(ctx, `${record('t1', 'Operator\nHello.')}\n\n${record('t2', big)}\n`);
  assert.is(parts[0]!.rows, 2);
  const texts = await withDuckDB({}, async (c) => {
    await loadDatasets(c, ['transcripts'], { store: ctx.store, tempDir: ctx.dir, asOf: T0 });
    return (await c.runAndReadAll('SELECT transcript_id, text, strftime(call_start AT TIME ZONE \'UTC\', \'%Y-%m-%dT%H:%M:%SZ\') FROM transcripts ORDER BY 1')).getRowsJS();
  });
  assert.equal(texts[0], ['t1', 'Operator\nHello.', '2020-10-27T21:00:00Z']);
  assert.ok(texts[1]![1] === big, 'the 5 MB text round-trips');
});

test('a record without text names its file line (blank lines counted) and the column', async (ctx) => {
  const err = await rejection(ctx, `${record('t1', 'Hi.')}\n\n${record('t2', undefined)}\n${record('t3', 'Yo.')}\n`);
  assert.is(err.message, 'transcripts.jsonl: line 3, column "text": required value is empty');
  assert.equal(err.problems?.[0], { file: 'transcripts.jsonl', line: 3, column: 'text', value: null, message: 'required value is empty' });
});

test('invalid UTF-8 names the line and the byte', async (ctx) => {
  const bad = Buffer.concat([Buffer.from(`${record('t1', 'Hi.')}\n${record('t2', 'caf')}`.slice(0, -2)), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
  const err = await rejection(ctx, bad);
  assert.match(err.message, /^transcripts\.jsonl: line 2: invalid UTF-8 at byte \d+ of the line$/);
  const byte = Number(/byte (\d+)/.exec(err.message)![1]);
  assert.is(bad.subarray(bad.indexOf(0x0a) + 1)[byte - 1], 0xc3);
});

test('a line that is not JSON, or not an object, is named', async (ctx) => {
  let err = await rejection(ctx, `${record('t1', 'Hi.')}\n{"transcript_id": "t2", "sid": \n`);
  assert.match(err.message, /^transcripts\.jsonl: line 2: is not valid JSON/);
  err = await rejection(ctx, `${record('t1', 'Hi.')}\n["t2"]\n`);
  assert.is(err.message, 'transcripts.jsonl: line 2: is not a JSON object');
});

test('a call_start without an offset, and a repeated transcript_id, are bad input', async (ctx) => {
  let err = await rejection(ctx, `${record('t1', 'Hi.', { call_start: '2020-10-27T17:00:00' })}\n`);
  assert.match(err.message, /^transcripts\.jsonl: line 1, column "call_start": .* is not a timestamp with an offset/);
  err = await rejection(ctx, `${record('t1', 'Hi.')}\n${record('t1', 'Again.')}\n`);
  assert.match(err.message, /^transcripts\.jsonl: line 2, column "transcript_id"/);
});

test.run();
