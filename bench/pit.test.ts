import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { benchPit } from './pit.ts';

/**
 * The benchmark's own correctness at a small scale: the pit-join step (a real function
 * process reading lake parts with a vendor correction) and the bare DuckDB ASOF SQL the
 * benchmark compares it with agree on every cell — the check `npm run bench` makes before
 * it reports a time.
 */
test('pit benchmark: the step, bare DuckDB ASOF, pandas and polars agree on every row', async () => {
  const r = await benchPit({
    scale: { sids: 40, days: 260, quarters: 10 },
    reps: 1,
    root: fileURLToPath(new URL('..', import.meta.url)),
    log: () => {},
  });
  assert.is(r.rows, 40 * 260);
  assert.ok(r.fundamental_rows > 40 * 4 * 10, 'restatements add rows beyond one per period');
  assert.ok(r.correction_rows > 0, 'the vendor correction file has rows');
  assert.is(r.cells_checked, r.rows * 13);
  assert.ok(r.hippo_s > 0 && r.duckdb_s > 0 && r.pandas_s > 0 && r.polars_s > 0 && r.pandas_files_s > 0 && r.polars_files_s > 0 && Number.isFinite(r.ratio));
});

test.run();
