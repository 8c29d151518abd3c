import { listValue, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { SplitParams } from './params.ts';
import { splitTranscript } from './split.ts';

/**
 * Splits the transcripts in TABLE `transcripts` (as the lake loader leaves it with `text`
 * deferred: `__file`/`__row` and VIEW `transcripts__parts`) whose call is in the window into
 * TABLE `turns` with the columns of DESIGN §6.2. Texts stream from the Parquet parts in
 * batches and are split in JavaScript; turns go back into DuckDB through an appender on a
 * second connection (a statement on the streaming connection would end the stream).
 * Returns the number of transcripts split.
 */
export async function splitTranscripts(
  c: DuckDBConnection,
  params: SplitParams,
  withConnection: <T>(fn: (c: DuckDBConnection) => Promise<T>) => Promise<T>,
): Promise<number> {
  const filters = ['CAST(timezone($3, call_start) AS DATE) BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE)'];
  const values: DuckDBValue[] = [params.start, params.end, params.timezone];
  if (params.sids) {
    filters.push('list_contains(CAST($4 AS VARCHAR[]), sid)');
    values.push(listValue(params.sids));
  }
  await c.run(`CREATE TABLE calls AS SELECT * FROM transcripts WHERE ${filters.join(' AND ')}`, values);
  await c.run(`CREATE TABLE turns_raw (
    transcript_id VARCHAR, section VARCHAR, turn INTEGER, speaker VARCHAR, role VARCHAR,
    title VARCHAR, firm VARCHAR, text VARCHAR, words INTEGER)`);

  let calls = 0;
  await withConnection(async (writer) => {
    const appender = await writer.createAppender('turns_raw');
    try {
      const texts = await c.stream(`SELECT calls.transcript_id, p.text
        FROM transcripts__parts p JOIN calls ON p.filename = calls.__file AND p.file_row_number = calls.__row`);
      // One DuckDB chunk (≤ 2048 rows) at a time, and one text at a time into JavaScript.
      for (let chunk = await texts.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await texts.fetchChunk()) {
        const ids = chunk.getColumnVector(0);
        const bodies = chunk.getColumnVector(1);
        for (let i = 0; i < chunk.rowCount; i++) {
          appendTurns(appender, String(ids.getItem(i)), (bodies.getItem(i) as string | null) ?? '');
          calls++;
        }
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  });

  await c.run(`CREATE TABLE turns AS
    SELECT c.transcript_id, c.sid, c.call_start, c.published_at,
           t.section, t.turn, t.speaker, t.role, t.title, t.firm, t.text, t.words
    FROM turns_raw t JOIN calls c USING (transcript_id)`);
  await c.run('DROP TABLE turns_raw');
  return calls;
}

function appendTurns(appender: DuckDBAppender, id: string, text: string): void {
  const varchar = (v: string | null) => (v === null ? appender.appendNull() : appender.appendVarchar(v));
  for (const t of splitTranscript(text)) {
    varchar(id);
    varchar(t.section);
    appender.appendInteger(t.turn);
    varchar(t.speaker);
    varchar(t.role);
    varchar(t.title);
    varchar(t.firm);
    varchar(t.text);
    appender.appendInteger(t.words);
    appender.endRow();
  }
}
