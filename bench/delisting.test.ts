import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { benchDelisting } from './delisting.ts';

/**
 * The delisting case's own correctness at a small scale: the delisting-adjust step (a real
 * function process reading the demo lake) and its SQL in bare DuckDB agree on every cell, and
 * the data has delisting returns, some imputed — the check `npm run bench` makes before it
 * reports a rate.
 */
test('delisting benchmark: the step and its SQL in bare DuckDB agree on every row', async () => {
  const r = await benchDelisting({
    scale: { demoScale: 0.2, start: '2014-01-02', end: '2016-12-30' },
    reps: 1,
    root: fileURLToPath(new URL('..', import.meta.url)),
    log: () => {},
  });
  assert.is(r.securities, 60);
  assert.ok(r.rows > 20_000, `${r.rows} panel rows`);
  assert.ok(r.delistings > 0 && r.imputed > 0 && r.imputed <= r.delistings);
  assert.is(r.cells_checked, r.rows * 9);
  assert.ok(r.hippo_rows_per_s > 0 && r.duckdb_rows_per_s > 0 && r.hippo_peak_rss_bytes > 0);
});

test.run();
