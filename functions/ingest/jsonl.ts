// JSON Lines facts DuckDB's reader does not report exactly: which line of the file a
// record is on, and which line is not JSON (or not UTF-8). Used only once a file has
// failed, so a good file is read once, by DuckDB.
import { createReadStream } from 'node:fs';

/** A file line (1-based) that is not UTF-8 or not a JSON object, and why. */
export interface BadLine {
  line: number;
  message: string;
}

/** The first line that is not valid UTF-8, not JSON, or not a JSON object; undefined if every line is fine. */
export async function findBadLine(path: string): Promise<BadLine | undefined> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let found: BadLine | undefined;
  await eachLine(path, (bytes, line) => {
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      found = { line, message: `invalid UTF-8 at byte ${at + 1} of the line` };
      return false;
    }
    if (text.trim() === '') return true;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        found = { line, message: 'is not a JSON object' };
        return false;
      }
    } catch (err) {
      found = { line, message: `is not valid JSON (${(err as Error).message})` };
      return false;
    }
    return true;
  });
  return found;
}

/** File line numbers (1-based) of records by their 0-based index among the non-blank lines. */
export async function recordLines(path: string, records: readonly number[]): Promise<Map<number, number>> {
  const wanted = new Set(records);
  const lines = new Map<number, number>();
  let record = 0;
  await eachLine(path, (bytes, line) => {
    if (bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0d)) return true;
    if (wanted.has(record)) lines.set(record, line);
    record++;
    return lines.size < wanted.size;
  });
  return lines;
}

/** Calls `fn` with each line's bytes (without the newline) and its 1-based number, until it returns false. */
async function eachLine(path: string, fn: (bytes: Buffer, line: number) => boolean): Promise<void> {
  let line = 0;
  let rest: Buffer = Buffer.alloc(0);
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let nl: number;
      while ((nl = data.indexOf(0x0a)) !== -1) {
        if (!fn(data.subarray(0, nl), ++line)) return;
        data = data.subarray(nl + 1);
      }
      rest = Buffer.from(data);
    }
    if (rest.length) fn(rest, ++line);
  } finally {
    stream.destroy();
  }
}

/** Offset of the first byte that breaks UTF-8 (the decoder only says that one does). */
function firstInvalidUtf8(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!;
    const n = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > bytes.length) return i;
    try {
      // Overlong forms and surrogates: the decoder judges the one sequence.
      decoder.decode(bytes.subarray(i, i + n));
    } catch {
      return i;
    }
    i += n;
  }
  return bytes.length;
}
