/**
 * Results as Arrow IPC streams with ZSTD body compression (DESIGN §8), written straight from
 * DuckDB's result chunks: each chunk's vectors are copied as raw memory into column buffers,
 * so the result never exists as JS values and never has to fit in the heap at once.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
// The raw C API under @duckdb/node-api (same version, its only dependency): the node-api vector
// classes hide their buffers, and reading values one by one through them is ~10x slower.
import bindings from '@duckdb/node-bindings';
import type { Vector as DuckDBRawVector } from '@duckdb/node-bindings';
import {
  DuckDBDecimalType,
  DuckDBEnumType,
  DuckDBTypeId,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import {
  Binary,
  Bool,
  CompressionType,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimeMicrosecond,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';
import { registerZstd } from '../../shared/arrow-codec.ts';
import { HippoError, InputError } from '../../shared/errors.ts';

export interface ArrowWriteOptions {
  /** Rows per Arrow record batch: DuckDB's 2048-row chunks are gathered up to this many. */
  batchRows?: number;
}

export const ARROW_WRITE_DEFAULTS: Required<ArrowWriteOptions> = { batchRows: 65_536 };

export interface ArrowWriteResult {
  rows: number;
  bytes: number;
  /** Hex sha256 of the file: the result's ETag. */
  sha256: string;
  /** Arrow type per column, as apache-arrow prints it (`Utf8`, `Date32<DAY>`, `Timestamp<MICROSECOND, UTC>`). */
  schema: { name: string; type: string }[];
}

/** A string column's batch is cut early past this many bytes, far below Utf8's 2 GiB offset limit. */
const MAX_BATCH_STRING_BYTES = 256 * 1024 * 1024;

/** The file stream's buffer: DuckDB keeps producing while this much output waits for the disk. */
const FILE_HIGH_WATER_MARK = 8 * 1024 * 1024;


/**
 * Runs `sql` and streams its result to `outPath` as an Arrow IPC stream with ZSTD-compressed
 * record batches; returns the row count, file size, sha256 and Arrow schema. On failure the
 * partial file is removed.
 *
 * `sql` also runs as `SELECT count(*) FROM (sql)` to prove the stream complete (see
 * `assertComplete`): it must return the same rows each time, and an expensive query is best
 * made a temp table first (as the export step does), which makes that count free.
 *
 * @example const { rows, sha256 } = await writeArrowStream(c, 'SELECT * FROM result', '/tmp/r.arrow')
 */
export async function writeArrowStream(
  c: DuckDBConnection,
  sql: string,
  outPath: string,
  values?: DuckDBValue[],
  options: ArrowWriteOptions = {},
): Promise<ArrowWriteResult> {
  const { batchRows } = { ...ARROW_WRITE_DEFAULTS, ...options };
  registerZstd();
  const result = await c.stream(sql, values);
  const names = result.columnNames();
  const duckTypes = result.columnTypes();
  // A DuckDB chunk never exceeds the vector size, so a batch always has room for a whole one.
  const capacity = Math.max(batchRows, bindings.vector_size());
  const columns = duckTypes.map((type, i) => columnFor(type, names[i]!, capacity));
  const schema = new Schema(columns.map((col, i) => new Field(names[i]!, col.type, true)));

  const writer = new ZstdStreamWriter({ compressionType: CompressionType.ZSTD });
  writer.reset(undefined, schema); // the schema message goes out even when no batch follows
  const hash = createHash('sha256');
  let bytes = 0;
  const file = createWriteStream(outPath, { highWaterMark: FILE_HIGH_WATER_MARK });
  const written = pipeline(async function* () {
    for await (const chunk of writer) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      yield chunk;
    }
  }, file);
  written.catch(() => {}); // observed below; this only keeps an early failure from being "unhandled"

  let rows = 0;
  let filled = 0;
  const flush = async () => {
    const children = columns.map((col) => col.finish(filled));
    const data = makeData({ type: new Struct(schema.fields), length: filled, nullCount: 0, children });
    writer.write(new RecordBatch(schema, data));
    for (const col of columns) col.reset();
    filled = 0;
    if (file.writableLength > FILE_HIGH_WATER_MARK) await Promise.race([once(file, 'drain'), written]);
  };

  // Fetch the next chunk while this one is converted: DuckDB works on its own thread meanwhile.
  let next = result.fetchChunk();
  try {
    for (;;) {
      const chunk = await next;
      if (!chunk || chunk.rowCount === 0) break;
      next = result.fetchChunk();
      const count = chunk.rowCount;
      if (filled + count > capacity) await flush();
      for (let i = 0; i < columns.length; i++) {
        columns[i]!.append(bindings.data_chunk_get_vector(chunk.chunk, i), count, filled);
      }
      filled += count;
      rows += count;
      if (filled === capacity || columns.some((col) => col.full)) await flush();
    }
    if (filled > 0) await flush();
    await assertComplete(c, sql, values, rows);
    writer.close();
    await written;
  } catch (err) {
    next.catch(() => {}); // a fetch still in flight when conversion failed
    writer.abort(err);
    await written.catch(() => {});
    await rm(outPath, { force: true });
    throw err;
  }
  return {
    rows,
    bytes,
    sha256: hash.digest('hex'),
    schema: schema.fields.map((f) => ({ name: f.name, type: String(f.type) })),
  };
}

/**
 * @duckdb/node-api ends a streamed result that fails midway (a bad cast, `error()`, running out
 * of memory) exactly as if it were complete: the C API's fetch returns NULL for both and the
 * binding never reads `duckdb_result_error`. So the rows are counted again; `count(*)` skips the
 * projections, so on a table or a temp table (what the export step passes) it costs nothing.
 * When rows are missing, `EXPLAIN ANALYZE` runs the query without keeping its rows and raises
 * the error that streaming lost.
 */
async function assertComplete(c: DuckDBConnection, sql: string, values: DuckDBValue[] | undefined, streamed: number): Promise<void> {
  const query = sql.replace(/[\s;]+$/, '');
  const counted = await c.run(`SELECT count(*) FROM (${query}\n)`, values);
  const expected = Number((await counted.getRows())[0]![0]);
  if (streamed === expected) return;
  await c.run(`EXPLAIN ANALYZE ${query}`, values);
  throw new HippoError(`the result stream ended after ${streamed} of ${expected} rows`, { code: 'incomplete_result', status: 500, retriable: true });
}

/**
 * apache-arrow ≤ 21 writes each compressed buffer's *compressed* length in its 8-byte prefix;
 * the IPC format says the *uncompressed* length, and pyarrow sizes its output by it ("ZSTD
 * decompression failed: Destination buffer is too small"). Fixed upstream in apache/arrow-js#470;
 * until that release this puts the right length back (and is a no-op after it).
 */
class ZstdStreamWriter extends RecordBatchStreamWriter {
  protected override _compressBodyBuffers(buffers: ArrayBufferView[]) {
    const compressed = super._compressBodyBuffers(buffers);
    // `compressed.buffers` is [prefix, body] per input buffer; an empty input has an empty prefix.
    buffers.forEach((buffer, i) => {
      const prefix = compressed.buffers[2 * i]!;
      if (prefix.byteLength !== 8) return;
      const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
      if (view.getBigInt64(0, true) !== LENGTH_NOT_COMPRESSED) view.setBigInt64(0, BigInt(buffer.byteLength), true);
    });
    return compressed;
  }
}

/** The prefix of a buffer left uncompressed because compressing did not make it smaller. */
const LENGTH_NOT_COMPRESSED = -1n;


// --- DuckDB vectors → Arrow buffers -------------------------------------------------------

/** `makeData` for a type known only at run time; each Column passes the buffers its type takes. */
const makeColumnData = makeData as (props: {
  type: DataType;
  length: number;
  nullCount: number;
  nullBitmap?: Uint8Array;
  valueOffsets?: Int32Array;
  data: Uint8Array;
}) => Data;

/**
 * One column of the batch being gathered. `append` copies a DuckDB vector's rows to row `at`;
 * `finish` lends the buffers to Arrow for one batch, and `reset` starts the next in the same
 * buffers (the writer has copied them all by then: every buffer goes through the codec).
 */
abstract class Column {
  protected readonly validity: Uint8Array;
  protected nullCount = 0;
  /** True when the batch should be cut before it reaches `capacity` rows. */
  full = false;

  constructor(
    readonly type: DataType,
    capacity: number,
  ) {
    this.validity = new Uint8Array(Math.ceil(capacity / 8));
  }

  abstract append(vector: DuckDBRawVector, rows: number, at: number): void;
  abstract finish(length: number): Data;

  reset(): void {
    this.validity.fill(0);
    this.nullCount = 0;
    this.full = false;
  }

  /**
   * Copies the vector's validity to the batch's bitmap. DuckDB and Arrow share the layout
   * (bit i of byte i/8, 1 = valid). Returns DuckDB's bitmap when this chunk has nulls.
   */
  protected appendValidity(vector: DuckDBRawVector, rows: number, at: number): Uint8Array | null {
    const source = bindings.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
    if (!source) {
      setBits(this.validity, at, rows);
      return null;
    }
    const valid = copyBits(source, this.validity, at, rows);
    this.nullCount += rows - valid;
    return valid === rows ? null : source;
  }

  protected nullBitmap(length: number): Uint8Array | undefined {
    return this.nullCount > 0 ? this.validity.subarray(0, Math.ceil(length / 8)) : undefined;
  }
}

/** Numbers, dates, times, timestamps: DuckDB's and Arrow's layouts are the same bytes. */
class FixedWidthColumn extends Column {
  private readonly values: Uint8Array;
  /** `values` one element per row, to clear a null's slot with one store. */
  private readonly slots: Uint8Array | Uint16Array | Uint32Array | Float64Array;

  constructor(
    type: DataType,
    private readonly width: 1 | 2 | 4 | 8,
    capacity: number,
  ) {
    super(type, capacity);
    this.values = new Uint8Array(capacity * width);
    const { buffer } = this.values;
    this.slots = width === 1 ? this.values : width === 2 ? new Uint16Array(buffer) : width === 4 ? new Uint32Array(buffer) : new Float64Array(buffer);
  }

  append(vector: DuckDBRawVector, rows: number, at: number): void {
    this.values.set(bindings.vector_get_data(vector, rows * this.width), at * this.width);
    const valid = this.appendValidity(vector, rows, at);
    // A null's slot holds whatever DuckDB left there; zero it so equal results hash equally.
    if (valid) forEachNull(valid, rows, (i) => (this.slots[at + i] = 0));
  }

  finish(length: number): Data {
    const { type, nullCount } = this;
    return makeColumnData({ type, length, nullCount, nullBitmap: this.nullBitmap(length), data: this.values.subarray(0, length * this.width) });
  }
}

/** DuckDB stores a bool per byte; Arrow packs them into bits. */
class BoolColumn extends Column {
  private readonly values: Uint8Array;

  constructor(capacity: number) {
    super(new Bool(), capacity);
    this.values = new Uint8Array(this.validity.length);
  }

  append(vector: DuckDBRawVector, rows: number, at: number): void {
    const valid = this.appendValidity(vector, rows, at);
    const source = bindings.vector_get_data(vector, rows);
    const { values } = this;
    for (let i = 0; i < rows; i++) {
      if (source[i] !== 0 && (!valid || bit(valid, i))) values[(at + i) >>> 3]! |= 1 << ((at + i) & 7);
    }
  }

  finish(length: number): Data {
    return makeColumnData({ type: this.type, length, nullCount: this.nullCount, nullBitmap: this.nullBitmap(length), data: this.values.subarray(0, Math.ceil(length / 8)) });
  }

  override reset(): void {
    super.reset();
    this.values.fill(0);
  }
}

/** Growable bytes + int32 offsets: Utf8, Binary, and ENUM (written as its strings). */
abstract class VariableWidthColumn extends Column {
  protected readonly offsets: Int32Array;
  protected data: Uint8Array = new Uint8Array(64 * 1024);

  constructor(type: DataType, capacity: number) {
    super(type, capacity);
    this.offsets = new Int32Array(capacity + 1);
  }

  /** The data buffer, grown to hold `bytes` bytes. */
  protected reserve(bytes: number): Uint8Array {
    if (bytes > this.data.length) {
      const grown = new Uint8Array(Math.max(bytes, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    return this.data;
  }

  protected appended(end: number): void {
    this.full = end > MAX_BATCH_STRING_BYTES;
  }

  finish(length: number): Data {
    const { type, nullCount, offsets } = this;
    const data = this.data.subarray(0, offsets[length]);
    return makeColumnData({ type, length, nullCount, nullBitmap: this.nullBitmap(length), valueOffsets: offsets.subarray(0, length + 1), data });
  }
}

/**
 * DuckDB's string_t is 16 bytes: a uint32 length, then the bytes themselves when they fit in
 * 12, else a 4-byte prefix and a pointer into DuckDB's string heap.
 *
 * Reading a long string costs a native call (~0.7 µs). DuckDB lays a vector's long strings
 * end to end (its string arena, a storage block), so they are read in runs: one call copies a
 * run of strings whose pointers follow each other exactly. The run holds nothing but those
 * strings' own bytes, so nothing outside DuckDB's live data is read.
 */
class StringColumn extends VariableWidthColumn {
  /** Per long string of the current run: where it goes in `data`, and its length. */
  private readonly runTargets = new Int32Array(bindings.vector_size());
  private readonly runLengths = new Int32Array(bindings.vector_size());

  append(vector: DuckDBRawVector, rows: number, at: number): void {
    const valid = this.appendValidity(vector, rows, at);
    const source = bindings.vector_get_data(vector, rows * 16);
    const words = new Uint32Array(source.buffer, source.byteOffset, rows * 4);
    const { offsets, runTargets, runLengths } = this;
    let end = offsets[at]!;
    let data = this.data;
    let runRow = -1; // the row whose string_t points at the run's first byte
    let runEnd = -1; // the address just past the run (a double: exact below 2^53)
    let runSize = 0;
    let runStrings = 0;
    const readRun = () => {
      const bytes = bindings.get_data_from_pointer(source.buffer as ArrayBuffer, source.byteOffset + runRow * 16 + 8, runSize);
      const target = this.data;
      let from = 0;
      for (let k = 0; k < runStrings; k++) {
        target.set(runStrings === 1 ? bytes : bytes.subarray(from, from + runLengths[k]!), runTargets[k]!);
        from += runLengths[k]!;
      }
      runStrings = 0;
    };
    for (let i = 0; i < rows; i++) {
      if (valid && !bit(valid, i)) {
        offsets[at + i + 1] = end;
        continue;
      }
      const length = words[i * 4]!;
      if (end + length > data.length) data = this.reserve(end + length);
      if (length <= 12) {
        const from = i * 16 + 4;
        for (let k = 0; k < length; k++) data[end + k] = source[from + k]!;
      } else {
        const high = words[i * 4 + 3]!;
        // An address past 2^53 is not exact as a double: NaN never joins a run.
        const address = high < 0x20_0000 ? high * 0x1_0000_0000 + words[i * 4 + 2]! : NaN;
        if (runStrings === 0 || address !== runEnd) {
          if (runStrings > 0) readRun();
          runRow = i;
          runSize = 0;
        }
        runTargets[runStrings] = end;
        runLengths[runStrings++] = length;
        runSize += length;
        runEnd = address + length;
      }
      end += length;
      offsets[at + i + 1] = end;
    }
    if (runStrings > 0) readRun();
    this.appended(end);
  }
}

/** ENUM becomes Utf8: the dictionary is encoded once and each row copies its member's bytes. */
class EnumColumn extends VariableWidthColumn {
  private readonly members: Uint8Array[];
  private readonly indexWidth: 1 | 2 | 4;

  constructor(type: DuckDBEnumType, capacity: number) {
    super(new Utf8(), capacity);
    const encoder = new TextEncoder();
    this.members = type.values.map((v) => encoder.encode(v));
    this.indexWidth = type.internalTypeId === DuckDBTypeId.UTINYINT ? 1 : type.internalTypeId === DuckDBTypeId.USMALLINT ? 2 : 4;
  }

  append(vector: DuckDBRawVector, rows: number, at: number): void {
    const valid = this.appendValidity(vector, rows, at);
    const raw = bindings.vector_get_data(vector, rows * this.indexWidth);
    const indexes =
      this.indexWidth === 1 ? raw
      : this.indexWidth === 2 ? new Uint16Array(raw.buffer, raw.byteOffset, rows)
      : new Uint32Array(raw.buffer, raw.byteOffset, rows);
    const { offsets, members } = this;
    let end = offsets[at]!;
    let data = this.data;
    for (let i = 0; i < rows; i++) {
      if (!valid || bit(valid, i)) {
        const member = members[indexes[i]!]!;
        if (end + member.length > data.length) data = this.reserve(end + member.length);
        data.set(member, end);
        end += member.length;
      }
      offsets[at + i + 1] = end;
    }
    this.appended(end);
  }
}

/** DECIMAL is int16/32/64/128 in DuckDB by width; Arrow's Decimal128 is always 16 bytes, little-endian two's complement. */
class DecimalColumn extends Column {
  private readonly values: Int32Array;
  private readonly sourceWidth: 2 | 4 | 8 | 16;

  constructor(type: DuckDBDecimalType, capacity: number) {
    super(new Decimal(type.scale, type.width, 128), capacity);
    this.values = new Int32Array(capacity * 4);
    this.sourceWidth = type.width <= 4 ? 2 : type.width <= 9 ? 4 : type.width <= 18 ? 8 : 16;
  }

  append(vector: DuckDBRawVector, rows: number, at: number): void {
    const valid = this.appendValidity(vector, rows, at);
    const raw = bindings.vector_get_data(vector, rows * this.sourceWidth);
    const { values, sourceWidth } = this;
    if (sourceWidth === 16) {
      values.set(new Int32Array(raw.buffer, raw.byteOffset, rows * 4), at * 4);
    } else {
      const words = sourceWidth === 2 ? new Int16Array(raw.buffer, raw.byteOffset, rows) : new Int32Array(raw.buffer, raw.byteOffset, sourceWidth === 8 ? rows * 2 : rows);
      for (let i = 0; i < rows; i++) {
        const o = (at + i) * 4;
        const low = sourceWidth === 8 ? words[i * 2]! : words[i]!;
        const high = sourceWidth === 8 ? words[i * 2 + 1]! : low >> 31;
        values[o] = low;
        values[o + 1] = high;
        values[o + 2] = values[o + 3] = high >> 31; // sign extension
      }
    }
    if (valid) forEachNull(valid, rows, (i) => values.fill(0, (at + i) * 4, (at + i + 1) * 4));
  }

  finish(length: number): Data {
    const { type, nullCount } = this;
    const data = new Uint8Array(this.values.buffer, 0, length * 16);
    return makeColumnData({ type, length, nullCount, nullBitmap: this.nullBitmap(length), data });
  }
}

/** The Arrow column for a DuckDB type; others are refused with the column's name, so the SQL can CAST them. */
function columnFor(type: DuckDBType, name: string, capacity: number): Column {
  const fixed = (arrow: DataType, width: 1 | 2 | 4 | 8) => new FixedWidthColumn(arrow, width, capacity);
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return new BoolColumn(capacity);
    case DuckDBTypeId.TINYINT: return fixed(new Int8(), 1);
    case DuckDBTypeId.SMALLINT: return fixed(new Int16(), 2);
    case DuckDBTypeId.INTEGER: return fixed(new Int32(), 4);
    case DuckDBTypeId.BIGINT: return fixed(new Int64(), 8);
    case DuckDBTypeId.UTINYINT: return fixed(new Uint8(), 1);
    case DuckDBTypeId.USMALLINT: return fixed(new Uint16(), 2);
    case DuckDBTypeId.UINTEGER: return fixed(new Uint32(), 4);
    case DuckDBTypeId.UBIGINT: return fixed(new Uint64(), 8);
    case DuckDBTypeId.FLOAT: return fixed(new Float32(), 4);
    case DuckDBTypeId.DOUBLE: return fixed(new Float64(), 8);
    // DuckDB: DATE is int32 days since 1970-01-01, TIME int64 µs since midnight, TIMESTAMP int64 µs since the epoch.
    case DuckDBTypeId.DATE: return fixed(new DateDay(), 4);
    case DuckDBTypeId.TIME: return fixed(new TimeMicrosecond(), 8);
    case DuckDBTypeId.TIMESTAMP: return fixed(new TimestampMicrosecond(), 8);
    case DuckDBTypeId.TIMESTAMP_TZ: return fixed(new TimestampMicrosecond('UTC'), 8);
    case DuckDBTypeId.TIMESTAMP_S: return fixed(new TimestampSecond(), 8);
    case DuckDBTypeId.TIMESTAMP_MS: return fixed(new TimestampMillisecond(), 8);
    case DuckDBTypeId.TIMESTAMP_NS: return fixed(new TimestampNanosecond(), 8);
    case DuckDBTypeId.VARCHAR: return new StringColumn(new Utf8(), capacity);
    case DuckDBTypeId.BLOB: return new StringColumn(new Binary(), capacity);
    case DuckDBTypeId.DECIMAL: return new DecimalColumn(type as DuckDBDecimalType, capacity);
    case DuckDBTypeId.ENUM: return new EnumColumn(type as DuckDBEnumType, capacity);
    default: {
      const message = `column "${name}" has type ${type.toString()}, which has no Arrow export; CAST it in the SQL`;
      throw new InputError(message, [{ column: name, message }]);
    }
  }
}

// --- bitmaps --------------------------------------------------------------------------------

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x; x >>= 1) n += x & 1;
  return n;
});

/** Calls `f` with the index of each 0 bit among the first `rows` of `bitmap`. */
function forEachNull(bitmap: Uint8Array, rows: number, f: (i: number) => void): void {
  for (let byte = 0; byte * 8 < rows; byte++) {
    const b = bitmap[byte]!;
    if (b === 0xff) continue;
    const end = Math.min(8, rows - byte * 8);
    for (let k = 0; k < end; k++) if (((b >>> k) & 1) === 0) f(byte * 8 + k);
  }
}

function bit(bitmap: Uint8Array, i: number): boolean {
  return ((bitmap[i >>> 3]! >>> (i & 7)) & 1) === 1;
}

/** Copies `rows` bits from the start of `source` to bit `at` of `target` (zero past `at`); returns how many are set. */
function copyBits(source: Uint8Array, target: Uint8Array, at: number, rows: number): number {
  let set = 0;
  if ((at & 7) === 0) {
    const base = at >>> 3;
    const whole = rows >>> 3;
    for (let i = 0; i < whole; i++) {
      const b = source[i]!;
      target[base + i] = b;
      set += POPCOUNT[b]!;
    }
    const rest = rows & 7;
    if (rest) {
      const b = source[whole]! & ((1 << rest) - 1);
      target[base + whole] = b;
      set += POPCOUNT[b]!;
    }
    return set;
  }
  for (let i = 0; i < rows; i++) {
    if (bit(source, i)) {
      target[(at + i) >>> 3]! |= 1 << ((at + i) & 7);
      set++;
    }
  }
  return set;
}

/** Sets bits [at, at + rows) of `target`. */
function setBits(target: Uint8Array, at: number, rows: number): void {
  let i = at;
  const end = at + rows;
  for (; i < end && (i & 7) !== 0; i++) target[i >>> 3]! |= 1 << (i & 7);
  const wholeEnd = end & ~7;
  if (i < wholeEnd) {
    target.fill(0xff, i >>> 3, wholeEnd >>> 3);
    i = wholeEnd;
  }
  for (; i < end; i++) target[i >>> 3]! |= 1 << (i & 7);
}
