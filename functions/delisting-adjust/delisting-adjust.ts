import { quotedIdentifier, type DuckDBConnection } from '@duckdb/node-api';
import { ValidationError } from '../../shared/errors.ts';
import type { DelistingParams } from './params.ts';

/** CRSP delisting codes that Shumway (1997) calls performance-related (DESIGN §7.1). */
export const PERFORMANCE_CODES: ReadonlySet<number> = new Set([
  500,
  520,
  ...Array.from({ length: 574 - 551 + 1 }, (_, i) => 551 + i),
  580,
  584,
]);

/** Imputed delisting returns: Shumway (1997) for NYSE/AMEX, Shumway & Warther (1999) for NASDAQ. */
export const SHUMWAY = { nasdaq: -0.55, other: -0.3 } as const;

/**
 * Builds TABLE `panel` (DESIGN §6.1 columns, sorted by `date, sid`) from `securities`, `prices`,
 * `symbols` and `memberships` under the survivorship and delisting rules of DESIGN §7.1, and
 * returns its row count. The inputs are already deduplicated and cut at `asOf`; `symbols` and
 * `memberships` may be empty. For a partition the caller loads only its share of `securities`
 * and `prices` (every §7.1 rule is per security), so the panel dates come from
 * `options.panelDates`, a table of every security's price dates (a date is a panel date if
 * anyone traded).
 *
 * @example
 * await delistingAdjust(c, { start: '2008-01-01', end: '2008-12-31', universe: 'all', delisting: 'shumway' });
 * // a NYSE stock delisted with code 552, no vendor return, ret +0.05 on its last day:
 * // delist_ret −0.30, ret_adj = 1.05 × 0.70 − 1 = −0.265, delist_imputed true
 */
export async function delistingAdjust(c: DuckDBConnection, params: DelistingParams, options: { panelDates?: string } = {}): Promise<number> {
  const { start, end, universe, delisting } = params;
  if (start > end) {
    throw new ValidationError(`start (${start}) is after end (${end})`, [
      { field: 'params.start', value: start, message: 'must not be after end' },
    ], { status: 422 });
  }
  if (universe !== 'all') await assertUniverseKnown(c, universe);

  const performanceCodes = [...PERFORMANCE_CODES].join(', ');
  // $1 start, $2 end, $3 universe, $4 delisting mode, $5/$6 the Shumway returns.
  await c.run(
    `CREATE TABLE panel AS
     WITH panel_dates AS (
       ${options.panelDates
         ? `SELECT DISTINCT date FROM ${quotedIdentifier(options.panelDates)} WHERE date BETWEEN $1::DATE AND $2::DATE`
         : 'SELECT DISTINCT date FROM prices WHERE date BETWEEN $1::DATE AND $2::DATE'}
     ),
     -- §7.1: every security listed on D, dead or alive; delisted_on is the last trading day.
     listed AS (
       SELECT d.date, s.sid, s.ticker, s.exchange
       FROM panel_dates d
       JOIN securities s
         ON s.listed_on <= d.date AND d.date <= coalesce(s.delisted_on, 'infinity'::DATE)
     ),
     -- removed_on is the first day NOT a member (DESIGN §5).
     in_universe AS (
       SELECT l.*
       FROM listed l
       WHERE $3 = 'all' OR EXISTS (
         SELECT 1 FROM memberships m
         WHERE m.index_name = $3 AND m.sid = l.sid
           AND m.added_on <= l.date AND l.date < coalesce(m.removed_on, 'infinity'::DATE)
       )
     ),
     -- Symbol spans cut into segments on which the set of valid rows is constant, so the
     -- panel joins at most one ticker per (sid, date) without a window over the whole panel.
     symbol_edges AS (
       SELECT sid, valid_from AS edge FROM symbols WHERE valid_from IS NOT NULL
       UNION
       SELECT sid, valid_to + 1 FROM symbols WHERE valid_from IS NOT NULL AND valid_to IS NOT NULL
     ),
     symbol_segments AS (
       SELECT sid, edge AS seg_from, lead(edge) OVER (PARTITION BY sid ORDER BY edge) AS seg_until
       FROM symbol_edges
     ),
     -- Overlapping spans: the one with the latest valid_from wins (further ties: deterministic).
     symbol_on AS (
       SELECT g.sid, g.seg_from, coalesce(g.seg_until, 'infinity'::DATE) AS seg_until, y.ticker
       FROM symbol_segments g
       JOIN symbols y
         ON y.sid = g.sid AND y.valid_from <= g.seg_from AND g.seg_from <= coalesce(y.valid_to, 'infinity'::DATE)
       QUALIFY row_number() OVER (
         PARTITION BY g.sid, g.seg_from ORDER BY y.valid_from DESC, y.valid_to DESC NULLS FIRST, y.ticker
       ) = 1
     ),
     -- §7.1: the delisting return lands on the last panel date ≤ delisted_on (a Saturday
     -- delisting on the Friday), and only when delisted_on ≤ end. It attaches to that row
     -- only if the row exists (listed and in the universe that day).
     delistings AS (
       SELECT s.sid, d.date,
              coalesce(s.delist_return,
                       CASE WHEN s.imputable THEN
                         CASE WHEN upper(trim(s.exchange)) = 'NASDAQ' THEN $5::DOUBLE ELSE $6::DOUBLE END
                       END) AS dlret,
              s.delist_return IS NULL AND s.imputable AS imputed
       FROM (
         SELECT *, ($4 = 'shumway' AND coalesce(delist_code IN (${performanceCodes}), false)) AS imputable
         FROM securities
         WHERE delisted_on <= $2::DATE
       ) s
       ASOF JOIN panel_dates d ON s.delisted_on >= d.date
     )
     SELECT u.date::DATE AS date,
            u.sid::VARCHAR AS sid,
            coalesce(t.ticker, u.ticker)::VARCHAR AS ticker,
            u.exchange::VARCHAR AS exchange,
            p.close::DOUBLE AS close,
            p.ret::DOUBLE AS ret,
            dl.dlret::DOUBLE AS delist_ret,
            -- compounded, never added: (1 + ret)(1 + dlret) − 1; a halted last day takes dlret alone
            CASE WHEN dl.dlret IS NULL THEN p.ret
                 WHEN p.ret IS NULL THEN dl.dlret
                 ELSE (1 + p.ret) * (1 + dl.dlret) - 1
            END::DOUBLE AS ret_adj,
            coalesce(dl.imputed, false)::BOOLEAN AS delist_imputed
     FROM in_universe u
     LEFT JOIN prices p ON p.sid = u.sid AND p.date = u.date
     LEFT JOIN symbol_on t ON t.sid = u.sid AND t.seg_from <= u.date AND u.date < t.seg_until
     LEFT JOIN delistings dl ON dl.sid = u.sid AND dl.date = u.date
     ORDER BY date, sid`,
    [start, end, universe, delisting, SHUMWAY.nasdaq, SHUMWAY.other],
  );
  const rows = await c.runAndReadAll('SELECT count(*) FROM panel');
  return Number(rows.getRowsJS()[0]![0]);
}

/** An index with no membership rows at all is a typo or a missing dataset, not an empty panel. */
async function assertUniverseKnown(c: DuckDBConnection, universe: string): Promise<void> {
  const found = await c.runAndReadAll('SELECT 1 FROM memberships WHERE index_name = $1 LIMIT 1', [universe]);
  if (found.currentRowCount === 0) {
    throw new ValidationError(`universe "${universe}" has no memberships`, [
      { field: 'params.universe', value: universe, message: 'unknown index_name (use "all" or an index in memberships)' },
    ], { status: 422 });
  }
}
