import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionType, MessageHeader, MessageReader, tableToIPC, type Table } from 'apache-arrow';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decompress } from 'zstd-napi';
import { readArrow } from '../../shared/arrow-codec.ts';
import { withDuckDB } from '../../shared/duckdb.ts';
import { InputError } from '../../shared/errors.ts';
import { writeArrowStream } from './arrow-stream.ts';

const test = suite<{ dir: string }>('arrow', { dir: '' });

test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-arrow-'));
});
test.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

/** Writes `sql`'s result to a file in `dir`; returns what writeArrowStream reported, the bytes and the decoded table. */
async function roundTrip(dir: string, sql: string, options: { values?: (string | number)[]; setup?: string } = {}) {
  const path = join(dir, 'result.arrow');
  const result = await withDuckDB({}, async (c) => {
    if (options.setup) await c.run(options.setup);
    return writeArrowStream(c, sql, path, options.values);
  });
  const bytes = new Uint8Array(await readFile(path));
  return { result, bytes, table: readArrow(bytes), path };
}

function column(table: Table, name: string) {
  const vector = table.getChild(name);
  assert.ok(vector, `column ${name}`);
  return vector;
}

/** The single batch's buffer: exact integers where `get` would give rounded JS numbers (µs timestamps). */
function rawValues(table: Table, name: string) {
  return column(table, name).data[0]!.values;
}

test('every mapped type round-trips with its nulls', async ({ dir }) => {
  const { result, table } = await roundTrip(
    dir,
    `SELECT * FROM (VALUES
      (1, 'alpha', 1.5::DOUBLE, 0.25::FLOAT, 9007199254740993::BIGINT, (-2147483648)::INTEGER, (-32768)::SMALLINT, true,
       DATE '2024-02-29', TIMESTAMPTZ '2024-02-29 12:34:56.789012+00', TIMESTAMP '1969-12-31 23:59:59.999999'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, 'a string longer than twelve bytes: ünïcödé', -1e300::DOUBLE, (-3.5)::FLOAT, (-1)::BIGINT, 7::INTEGER, 32767::SMALLINT, false,
       DATE '1900-01-01', TIMESTAMPTZ '1960-06-01 00:00:00+00', TIMESTAMP '2262-04-11 23:47:16.854775'),
      (4, '', 0::DOUBLE, 0::FLOAT, 0::BIGINT, 0::INTEGER, 0::SMALLINT, NULL, NULL, NULL, NULL)
    ) t(id, s, d, f, bi, i, si, b, dt, tstz, ts) ORDER BY id`,
  );
  const expectedSchema = [
    { name: 'id', type: 'Int32' },
    { name: 's', type: 'Utf8' },
    { name: 'd', type: 'Float64' },
    { name: 'f', type: 'Float32' },
    { name: 'bi', type: 'Int64' },
    { name: 'i', type: 'Int32' },
    { name: 'si', type: 'Int16' },
    { name: 'b', type: 'Bool' },
    { name: 'dt', type: 'Date32<DAY>' },
    { name: 'tstz', type: 'Timestamp<MICROSECOND, UTC>' },
    { name: 'ts', type: 'Timestamp<MICROSECOND>' },
  ];
  assert.equal(result.schema, expectedSchema);
  assert.equal(table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) })), expectedSchema);
  assert.is(result.rows, 4);
  assert.is(table.numRows, 4);

  const values = (name: string) => [...column(table, name)];
  assert.equal(values('s'), ['alpha', null, 'a string longer than twelve bytes: ünïcödé', '']);
  assert.equal(values('d'), [1.5, null, -1e300, 0]);
  assert.equal(values('f'), [0.25, null, -3.5, 0]);
  assert.equal(values('bi'), [9007199254740993n, null, -1n, 0n]);
  assert.equal(values('i'), [-2147483648, null, 7, 0]);
  assert.equal(values('si'), [-32768, null, 32767, 0]);
  assert.equal(values('b'), [true, null, false, null]);
  // Date32 holds days since 1970-01-01; µs timestamps are compared as the stored int64.
  assert.equal([...rawValues(table, 'dt')], [19782, 0, -25567, 0]);
  assert.equal(values('dt').map((v) => v === null), [false, true, false, true]);
  assert.equal([...rawValues(table, 'tstz')], [1709210096789012n, 0n, -302486400000000n, 0n]);
  assert.equal(values('tstz').map((v) => v === null), [false, true, false, true]);
  assert.equal([...rawValues(table, 'ts')], [-1n, 0n, 9223372036854775n, 0n]);
  assert.equal(values('ts').map((v) => v === null), [false, true, false, true]);
  assert.equal(
    table.schema.fields.map((f) => column(table, f.name).nullCount),
    [0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2],
  );
});

test('decimals, enums, blobs, small and unsigned ints, times and other timestamp units', async ({ dir }) => {
  const { result, table } = await roundTrip(
    dir,
    `SELECT * FROM (VALUES
      (1, (-123.4)::DECIMAL(4,1), 1234567.89::DECIMAL(9,2), (-123456789012345.678)::DECIMAL(18,3),
       (-1234567890123456789012345678.0123456789)::DECIMAL(38,10), 'happy'::mood, '\\x00\\xFFab'::BLOB, (-128)::TINYINT,
       18446744073709551615::UBIGINT, TIME '23:59:59.999999', '2020-01-01 00:00:01'::TIMESTAMP_S,
       '2020-01-01 00:00:01.5'::TIMESTAMP_MS, '2020-01-01 00:00:01.123456789'::TIMESTAMP_NS),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, 0.1::DECIMAL(4,1), (-0.01)::DECIMAL(9,2), 1::DECIMAL(18,3), 9999999999999999999999999999.9999999999::DECIMAL(38,10),
       'sad'::mood, ''::BLOB, 127::TINYINT, 0::UBIGINT, TIME '00:00:00', NULL, NULL, NULL)
    ) t(id, d4, d9, d18, d38, m, bl, ti, ub, tm, tss, tsm, tsn) ORDER BY id`,
    { setup: `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')` },
  );
  assert.equal(result.schema.slice(1).map((f) => f.type), [
    'Decimal[4e+1]',
    'Decimal[9e+2]',
    'Decimal[18e+3]',
    'Decimal[38e+10]',
    'Utf8',
    'Binary',
    'Int8',
    'Uint64',
    'Time64<MICROSECOND>',
    'Timestamp<SECOND>',
    'Timestamp<MILLISECOND>',
    'Timestamp<NANOSECOND>',
  ]);
  // A decimal prints as its unscaled integer.
  const unscaled = (name: string) => [...column(table, name)].map((v) => (v === null ? null : String(v)));
  assert.equal(unscaled('d4'), ['-1234', null, '1']);
  assert.equal(unscaled('d9'), ['123456789', null, '-1']);
  assert.equal(unscaled('d18'), ['-123456789012345678', null, '1000']);
  assert.equal(unscaled('d38'), ['-12345678901234567890123456780123456789', null, '99999999999999999999999999999999999999']);
  assert.equal([...column(table, 'm')], ['happy', null, 'sad']);
  assert.equal([...column(table, 'bl')].map((v) => (v === null ? null : [...(v as Uint8Array)])), [[0, 255, 97, 98], null, []]);
  assert.equal([...column(table, 'ti')], [-128, null, 127]);
  assert.equal([...column(table, 'ub')], [18446744073709551615n, null, 0n]);
  assert.equal([...rawValues(table, 'tm')], [86399999999n, 0n, 0n]);
  assert.equal([...rawValues(table, 'tss')], [1577836801n, 0n, 0n]);
  assert.equal([...rawValues(table, 'tsm')], [1577836801500n, 0n, 0n]);
  assert.equal([...rawValues(table, 'tsn')], [1577836801123456789n, 0n, 0n]);
  assert.equal([...column(table, 'tsn')].map((v) => v === null), [false, true, true]);
});

test('record batches are ZSTD-compressed, each buffer prefixed with its uncompressed length', async ({ dir }) => {
  const { result, bytes, table } = await roundTrip(
    dir,
    `SELECT 'the same words on every single row' AS s, 42::BIGINT AS n, i % 2 = 0 AS even FROM range(100000) t(i)`,
  );
  assert.is(table.numRows, 100_000);
  const uncompressed = tableToIPC(table, 'stream').byteLength;
  assert.ok(result.bytes * 10 < uncompressed, `${result.bytes} bytes compressed vs ${uncompressed} uncompressed`);

  let batches = 0;
  let compressedBuffers = 0;
  const reader = new MessageReader(bytes);
  for (const message of reader) {
    const body = reader.readMessageBody(message.bodyLength);
    if (message.headerType !== MessageHeader.RecordBatch) continue;
    batches++;
    const header = message.header() as { compression: { type: CompressionType } | null; buffers: { offset: number; length: number }[] };
    assert.is(header.compression?.type, CompressionType.ZSTD);
    for (const { offset, length } of header.buffers) {
      if (length === 0) continue;
      // IPC format: int64 uncompressed length (or -1: stored as is), then the codec's frame.
      const prefix = Number(new DataView(body.buffer, body.byteOffset + offset, 8).getBigInt64(0, true));
      if (prefix === -1) continue;
      assert.is(decompress(body.subarray(offset + 8, offset + length)).byteLength, prefix);
      compressedBuffers++;
    }
  }
  assert.is(batches, 2); // 65,536 + 34,464 rows
  assert.ok(compressedBuffers >= 6, `${compressedBuffers} compressed buffers`);
});

test('a result without rows is a valid stream with the schema', async ({ dir }) => {
  const { result, bytes, table } = await roundTrip(dir, `SELECT 1::INTEGER AS a, 'x' AS b, DATE '2020-01-01' AS c WHERE false`);
  assert.is(result.rows, 0);
  assert.equal(result.schema, [
    { name: 'a', type: 'Int32' },
    { name: 'b', type: 'Utf8' },
    { name: 'c', type: 'Date32<DAY>' },
  ]);
  assert.is(table.numRows, 0);
  assert.equal(table.schema.fields.map((f) => `${f.name}:${f.type}`), ['a:Int32', 'b:Utf8', 'c:Date32<DAY>']);
  const headers = [...new MessageReader(bytes)].map((m) => m.headerType);
  assert.equal(headers, [MessageHeader.Schema]);
});

test('200k rows across many chunks and batches round-trip exactly', async ({ dir }) => {
  const { result, table } = await roundTrip(
    dir,
    `SELECT i::BIGINT AS i, (i * 0.5)::DOUBLE AS half, CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' || i END AS s,
            i % 2 = 0 AS even, DATE '2000-01-01' + (i % 10000)::INTEGER AS d
     FROM range(200000) t(i)`,
  );
  assert.is(result.rows, 200_000);
  assert.is(table.numRows, 200_000);
  assert.is(table.batches.length, 4); // 3 × 65,536 + 3,392
  const ids = column(table, 'i').toArray() as BigInt64Array;
  let sum = 0n;
  for (const v of ids) sum += v;
  assert.is(sum, 19_999_900_000n);
  let halfSum = 0;
  for (const v of column(table, 'half').toArray() as Float64Array) halfSum += v;
  assert.is(halfSum, 9_999_950_000);
  const s = column(table, 's');
  assert.is(s.nullCount, 66_667);
  for (const row of [0, 1, 2047, 2048, 65_535, 65_536, 65_537, 131_071, 131_072, 199_999]) {
    assert.is(ids[row], BigInt(row));
    assert.is(s.get(row), row % 3 === 0 ? null : `v${row}`, `s[${row}]`);
    assert.is(column(table, 'even').get(row), row % 2 === 0, `even[${row}]`);
    assert.is(column(table, 'd').get(row), Date.UTC(2000, 0, 1) + (row % 10_000) * 86_400_000, `d[${row}]`);
  }
  let evens = 0;
  for (const v of column(table, 'even')) if (v) evens++;
  assert.is(evens, 100_000);
});

test('odd-sized chunks from a filter keep every value and null in its row', async ({ dir }) => {
  // DuckDB's filter emits chunks of ~1755 rows, so batches join chunks at unaligned bit offsets.
  const { table } = await roundTrip(
    dir,
    `SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE i * 2 END AS maybe, CASE WHEN i % 4 = 0 THEN NULL ELSE i % 3 = 0 END AS b,
            CASE WHEN i % 11 = 0 THEN NULL ELSE repeat('x', (i % 20)::INTEGER) END AS s
     FROM range(150000) t(i) WHERE i % 7 <> 0 AND i < $1`,
    { values: [140_000] },
  );
  const ids = [...column(table, 'i')] as bigint[];
  assert.is(ids.length, 120_000);
  const maybe = [...column(table, 'maybe')];
  const b = [...column(table, 'b')];
  const s = [...column(table, 's')];
  for (let row = 0; row < ids.length; row++) {
    const i = Number(ids[row]);
    assert.ok(i % 7 !== 0);
    if (maybe[row] !== (i % 5 === 0 ? null : BigInt(i * 2))) assert.unreachable(`maybe[${row}] = ${maybe[row]} for i=${i}`);
    if (b[row] !== (i % 4 === 0 ? null : i % 3 === 0)) assert.unreachable(`b[${row}] = ${b[row]} for i=${i}`);
    if (s[row] !== (i % 11 === 0 ? null : 'x'.repeat(i % 20))) assert.unreachable(`s[${row}] = ${s[row]} for i=${i}`);
  }
});

test('long strings read from a stored table come back whole, repeated or unique', async ({ dir }) => {
  const { table } = await roundTrip(dir, `SELECT * FROM words`, {
    setup: `CREATE TEMP TABLE words AS
      SELECT i, 'a label repeated across many rows #' || (i % 97) AS label,
             CASE WHEN i % 13 = 0 THEN NULL WHEN i % 5 = 0 THEN 'short' || (i % 10) ELSE 'unique and long enough: ' || i END AS text
      FROM range(50000) t(i)`,
  });
  const labels = [...column(table, 'label')];
  const texts = [...column(table, 'text')];
  assert.is(labels.length, 50_000);
  for (let i = 0; i < 50_000; i++) {
    if (labels[i] !== `a label repeated across many rows #${i % 97}`) assert.unreachable(`label[${i}] = ${labels[i]}`);
    const text = i % 13 === 0 ? null : i % 5 === 0 ? `short${i % 10}` : `unique and long enough: ${i}`;
    if (texts[i] !== text) assert.unreachable(`text[${i}] = ${texts[i]}`);
  }
});

test('bytes and sha256 describe the file, and the same result hashes the same', async ({ dir }) => {
  const sql = `SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE i * 1.5 END AS x FROM range(10000) t(i)`;
  const first = await roundTrip(dir, sql);
  assert.is(first.result.bytes, first.bytes.byteLength);
  assert.is(first.result.sha256, createHash('sha256').update(first.bytes).digest('hex'));
  const second = await roundTrip(dir, sql);
  assert.is(second.result.sha256, first.result.sha256);
});

test('a type with no Arrow mapping is refused by name and leaves no file', async ({ dir }) => {
  const path = join(dir, 'result.arrow');
  try {
    await withDuckDB({}, (c) => writeArrowStream(c, `SELECT 1 AS ok, [1, 2] AS nums`, path));
    assert.unreachable('LIST must be refused');
  } catch (err) {
    assert.instance(err, InputError);
    assert.match((err as Error).message, /column "nums" has type INTEGER\[\]/);
  }
  assert.not.ok(existsSync(path));
});

test('a failing query leaves no file', async ({ dir }) => {
  const path = join(dir, 'result.arrow');
  try {
    // The error is raised while rows stream, after the file was opened.
    await withDuckDB({}, (c) => writeArrowStream(c, `SELECT CASE WHEN i = 150000 THEN error('boom') ELSE i END AS i FROM range(200000) t(i)`, path));
    assert.unreachable('the query fails');
  } catch (err) {
    assert.match((err as Error).message, /boom/);
  }
  assert.not.ok(existsSync(path));
});

test.run();
