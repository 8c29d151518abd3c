// The point-in-time benchmark's data, generated in DuckDB (deterministic: every value is a
// hash of its coordinates). A daily panel of `sids × days` weekdays shaped like
// delisting-adjust's output, and quarterly fundamentals for four fields with what makes the
// join hard: report lags of 30–50 days, a third of them date-only, announcements at any
// minute of the day (some after the 16:00 close, on both sides of the DST changes), and up
// to two restatements per period published months later — often after newer periods.
import type { DuckDBConnection } from '@duckdb/node-api';

export interface PitScale {
  sids: number;
  days: number;
  /** Quarters of fundamentals per sid and field, from 2004Q4 on. */
  quarters: number;
}

export const PIT_FIELDS = ['eps', 'revenue', 'book_value', 'net_income'] as const;

/** The default scale: 5,040,000 panel rows, ≈ 1.1 M fundamental rows. */
export const PIT_SCALE: PitScale = { sids: 2000, days: 2520, quarters: 60 };
/** `--quick`: 100,000 panel rows. */
export const PIT_QUICK_SCALE: PitScale = { sids: 200, days: 500, quarters: 24 };

/** Creates TABLE `panel` and TABLE `fundamentals` (the vendor's columns, as a CSV/Parquet delivery has them). */
export async function generatePitData(c: DuckDBConnection, scale: PitScale): Promise<void> {
  const span = Math.ceil((scale.days * 7) / 5) + 14;
  await c.run(`CREATE OR REPLACE TABLE panel AS
    WITH d AS (SELECT CAST(x AS DATE) AS date FROM range(DATE '2006-01-02', DATE '2006-01-02' + INTERVAL ${span} DAY, INTERVAL 1 DAY) t(x)
               WHERE dayofweek(x) BETWEEN 1 AND 5 ORDER BY date LIMIT ${scale.days}),
         s AS (SELECT 'S' || lpad(CAST(i AS VARCHAR), 6, '0') AS sid, i FROM range(${scale.sids}) t(i))
    SELECT d.date, s.sid, 'T' || s.i AS ticker, CASE WHEN s.i % 3 = 0 THEN 'NASDAQ' ELSE 'NYSE' END AS exchange,
           round(20 + (hash(s.sid) % 20000) / 100.0 + (hash(d.date, s.sid) % 400) / 100.0, 2) AS close,
           (CAST(hash(d.date, s.sid) % 2001 AS DOUBLE) - 1000) / 1e5 AS ret,
           CAST(NULL AS DOUBLE) AS delist_ret,
           (CAST(hash(d.date, s.sid) % 2001 AS DOUBLE) - 1000) / 1e5 AS ret_adj,
           false AS delist_imputed
    FROM d, s ORDER BY date, sid`);
  // Per (sid, field, quarter): the original report (v 0) and up to two restatements (v 1, 2)
  // published 60 and 120 days later. Lags differ by sid and quarter, so newer periods
  // sometimes arrive before an older period's restatement.
  await c.run(`CREATE OR REPLACE TABLE fundamentals AS
    WITH s AS (SELECT 'S' || lpad(CAST(i AS VARCHAR), 6, '0') AS sid FROM range(${scale.sids}) t(i)),
         f AS (SELECT unnest(${`[${PIT_FIELDS.map((n) => `'${n}'`).join(', ')}]`}) AS field),
         q AS (SELECT i AS qi, CAST(DATE '2004-12-31' + INTERVAL (3 * i) MONTH AS DATE) AS period_end FROM range(${scale.quarters}) t(i)),
         v AS (SELECT range AS vi FROM range(3)),
         rows AS (
           SELECT s.sid, f.field, q.period_end, q.qi, v.vi,
                  q.period_end + CAST(30 + 60 * v.vi + hash(s.sid, q.qi) % 21 AS INTEGER) AS day,
                  hash(s.sid, f.field, q.qi, v.vi) AS h
           FROM s, f, q, v
           WHERE v.vi = 0 OR hash(s.sid, f.field, q.qi, v.vi) % 3 <> 0
         )
    SELECT sid, field, period_end, round((h % 100000) / 100.0 - 200, 2) AS value,
           CASE WHEN h % 10 < 3 THEN strftime(day, '%Y-%m-%d')
                ELSE strftime(timezone('UTC', timezone('America/New_York', day + to_minutes(CAST(420 + h % 720 AS BIGINT)))), '%Y-%m-%dT%H:%M:%SZ')
           END AS published_at
    FROM rows ORDER BY sid, field, period_end, published_at`);
}

/**
 * The vendor's later correction file: 2 % of the rows again with new values, as a
 * corrected delivery (same natural key, later \`recorded_at\`) brings them.
 */
export async function generatePitCorrections(c: DuckDBConnection): Promise<void> {
  await c.run(`CREATE OR REPLACE TABLE fundamental_corrections AS
    SELECT sid, field, period_end, round(value * 1.01 + 0.01, 2) AS value, published_at
    FROM fundamentals WHERE hash(sid, field, period_end, published_at) % 50 = 0`);
}
