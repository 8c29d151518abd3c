import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quotedString } from '@duckdb/node-api';
import { withDuckDB } from '../shared/duckdb.ts';
import { benchFormats } from './formats.ts';
import { generatePitData } from './pit-data.ts';

/**
 * The formats case at a small scale: the export step's Arrow and Parquet and the gzipped CSV
 * decode, in pyarrow and in Node, to the same row count, and in pyarrow to the same sum of
 * every numeric column (checked inside benchFormats, which throws otherwise).
 */
test('formats benchmark: Arrow, Parquet and gzipped CSV hold the same panel', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hippo-formats-test-'));
  try {
    const panel = join(dir, 'panel.parquet');
    await withDuckDB({}, async (c) => {
      await generatePitData(c, { sids: 30, days: 100, quarters: 2 });
      await c.run(`COPY (SELECT * FROM panel ORDER BY sid DESC) TO ${quotedString(panel)} (FORMAT parquet)`);
    });
    const r = await benchFormats({ panel, sortBy: ['date', 'sid'], reps: 1, root: fileURLToPath(new URL('..', import.meta.url)), log: () => {} });
    assert.is(r.rows, 3000);
    assert.is(r.columns, 9);
    for (const f of [r.arrow_zstd, r.parquet_zstd, r.csv_gzip]) assert.ok(f.bytes > 0 && f.pyarrow_s >= 0 && f.node_s >= 0); // times are rounded to the millisecond: 3,000 rows may read in less
    assert.ok(r.export_peak_rss_bytes > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
