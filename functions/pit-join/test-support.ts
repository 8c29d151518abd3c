import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteLiteral } from '../../shared/duckdb.ts';
import { writePitJoin, type PitParams } from './pit-join.ts';

/**
 * For the tests: the join as the step does it — `writePitJoin` streamed into a Parquet file by
 * `COPY` — then that file read back as TABLE `joined`, for the assertions to query. Returns its
 * row count. A rejected request writes no file and leaves no `joined`.
 */
export async function pitJoinToTable(c: DuckDBConnection, params: PitParams): Promise<number> {
  const path = join(tmpdir(), `hippo-pit-join-${randomUUID()}.parquet`);
  try {
    await writePitJoin(c, params, (select, values) => c.run(`COPY (${select}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`, values));
    await c.run(`CREATE TABLE joined AS SELECT * FROM read_parquet(${quoteLiteral(path)})`);
    return Number((await c.runAndReadAll('SELECT count(*) FROM joined')).getRowsJS()[0]![0]);
  } finally {
    await rm(path, { force: true });
  }
}
