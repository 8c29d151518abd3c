import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { writePitJoin } from './pit-join.ts';
import type { PitParams } from './params.ts';

/**
 * For the tests: the join as the step does it — TABLE `panel` written as the Parquet input
 * file, `writePitJoin` on that file streamed into a Parquet output by `COPY` — then the output
 * read back as TABLE `joined`, for the assertions to query. Returns its row count. A rejected
 * request writes no output and leaves no `joined`.
 */
export async function pitJoinToTable(c: DuckDBConnection, params: PitParams): Promise<number> {
  const name = join(tmpdir(), `hippo-pit-join-${randomUUID()}`);
  const input = `${name}-panel.parquet`;
  const output = `${name}-joined.parquet`;
  try {
    await c.run(`COPY panel TO ${quotedString(input)} (FORMAT parquet)`);
    await writePitJoin(c, input, params, (select, values) => c.run(`COPY (${select}) TO ${quotedString(output)} (FORMAT parquet, COMPRESSION zstd)`, values));
    await c.run(`CREATE TABLE joined AS SELECT * FROM read_parquet(${quotedString(output)})`);
    return Number((await c.runAndReadAll('SELECT count(*) FROM joined')).getRowsJS()[0]![0]);
  } finally {
    await rm(input, { force: true });
    await rm(output, { force: true });
  }
}
