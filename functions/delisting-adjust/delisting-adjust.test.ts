import type { DuckDBConnection } from '@duckdb/node-api';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withDuckDB } from '../../shared/duckdb.ts';
import { ValidationError } from '../../shared/errors.ts';
import { PERFORMANCE_CODES, SHUMWAY, delistingAdjust } from './delisting-adjust.ts';
import type { DelistingParams } from './params.ts';

const test = suite('delisting-adjust');

// ---- tiny input tables, built with explicit casts (DESIGN §5 columns) ----------------------

type Cell = string | number | null;
type Columns = readonly (readonly [name: string, type: string])[];

const COLUMNS: Record<'securities' | 'prices' | 'symbols' | 'memberships', Columns> = {
  securities: [
    ['sid', 'VARCHAR'], ['ticker', 'VARCHAR'], ['name', 'VARCHAR'], ['exchange', 'VARCHAR'], ['listed_on', 'DATE'],
    ['delisted_on', 'DATE'], ['delist_code', 'INTEGER'], ['delist_return', 'DOUBLE'],
  ],
  prices: [['sid', 'VARCHAR'], ['date', 'DATE'], ['close', 'DOUBLE'], ['ret', 'DOUBLE'], ['volume', 'DOUBLE']],
  symbols: [['sid', 'VARCHAR'], ['ticker', 'VARCHAR'], ['valid_from', 'DATE'], ['valid_to', 'DATE']],
  memberships: [['index_name', 'VARCHAR'], ['sid', 'VARCHAR'], ['added_on', 'DATE'], ['removed_on', 'DATE']],
};

function literal(v: Cell, type: string): string {
  if (v === null) return `CAST(NULL AS ${type})`;
  return typeof v === 'number' ? `CAST(${v} AS ${type})` : `CAST('${v.replace(/'/g, "''")}' AS ${type})`;
}

async function table(c: DuckDBConnection, name: keyof typeof COLUMNS, rows: readonly (readonly Cell[])[]): Promise<void> {
  const cols = COLUMNS[name];
  const tuples = rows.length > 0 ? rows : [cols.map(() => null)];
  const values = tuples.map((r) => `(${cols.map(([, type], i) => literal(r[i] ?? null, type)).join(', ')})`).join(',\n');
  const names = cols.map(([n]) => n).join(', ');
  await c.run(`CREATE TABLE ${name} AS SELECT * FROM (VALUES ${values}) v(${names})${rows.length > 0 ? '' : ' WHERE false'}`);
}

interface Inputs {
  securities: Cell[][];
  prices: Cell[][];
  symbols?: Cell[][];
  memberships?: Cell[][];
}

interface Row {
  date: string;
  sid: string;
  ticker: string | null;
  exchange: string | null;
  close: number | null;
  ret: number | null;
  delist_ret: number | null;
  ret_adj: number | null;
  delist_imputed: boolean;
}

const BASE: DelistingParams = { start: '2008-01-01', end: '2008-12-31', universe: 'all', delisting: 'shumway' };

/** Builds the inputs, runs the step, returns the panel in table order with ISO dates. */
async function panel(inputs: Inputs, params: Partial<DelistingParams> = {}): Promise<{ rows: Row[]; count: number }> {
  return withDuckDB({}, async (c) => {
    await table(c, 'securities', inputs.securities);
    await table(c, 'prices', inputs.prices);
    await table(c, 'symbols', inputs.symbols ?? []);
    await table(c, 'memberships', inputs.memberships ?? []);
    const count = await delistingAdjust(c, { ...BASE, ...params });
    const reader = await c.runAndReadAll(`SELECT * REPLACE (strftime(date, '%Y-%m-%d') AS date) FROM panel`);
    return { rows: reader.getRowObjectsJS() as unknown as Row[], count };
  });
}

function near(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${what}: expected ${expected}, got ${actual}`);
}

function only(rows: Row[], sid: string, date: string): Row {
  const hits = rows.filter((r) => r.sid === sid && r.date === date);
  assert.is(hits.length, 1, `one row for ${sid} on ${date}`);
  return hits[0]!;
}

function datesOf(rows: Row[], sid: string): string[] {
  return rows.filter((r) => r.sid === sid).map((r) => r.date);
}

/** A security that trades every given day with ret 0.01, except where `last` overrides. */
function trades(sid: string, dates: string[], last?: { ret: number | null } | 'halt'): Cell[][] {
  return dates.flatMap((d, i) => {
    if (i < dates.length - 1 || last === undefined) return [[sid, d, 10 + i, 0.01, 1000]];
    return last === 'halt' ? [] : [[sid, d, 10 + i, last.ret, 1000]];
  });
}

// A survivor that trades Mon 2008-03-03 … Mon 2008-03-10 defines the panel dates.
const WEEK = ['2008-03-03', '2008-03-04', '2008-03-05', '2008-03-06', '2008-03-07', '2008-03-10'];
const SURVIVOR: Cell[] = ['ALIVE', 'ALV', 'Alive Inc', 'NYSE', '1990-01-02', null, null, null];
const survivorPrices = trades('ALIVE', WEEK);

/** One security delisted on Thu 2008-03-06 with `ret` on that day, plus the survivor. */
function delistedOnThursday(exchange: string, code: number | null, dlret: number | null, lastRet: number | null | 'halt') {
  return {
    securities: [SURVIVOR, ['DEAD', 'DED', 'Dead Corp', exchange, '2000-01-03', '2008-03-06', code, dlret]],
    prices: [...survivorPrices, ...trades('DEAD', WEEK.slice(0, 4), lastRet === 'halt' ? 'halt' : { ret: lastRet })],
  };
}

// ---- delisting returns ----------------------------------------------------------------------

test('NYSE code 552 without a vendor return imputes −0.30 and compounds: ret +0.05 → −0.265', async () => {
  const { rows } = await panel(delistedOnThursday('NYSE', 552, null, 0.05));
  const last = only(rows, 'DEAD', '2008-03-06');
  near(last.delist_ret, -0.3, 'delist_ret');
  near(last.ret_adj, -0.265, 'ret_adj');
  near(last.ret, 0.05, 'ret');
  assert.is(last.delist_imputed, true);
  assert.equal(datesOf(rows, 'DEAD'), WEEK.slice(0, 4));
  for (const r of rows.filter((r) => r !== last)) {
    assert.is(r.delist_ret, null, `${r.sid} ${r.date} delist_ret`);
    assert.is(r.delist_imputed, false, `${r.sid} ${r.date} delist_imputed`);
    assert.is(r.ret_adj, r.ret, `${r.sid} ${r.date} ret_adj = ret`);
  }
});

test('NASDAQ code 552 without a vendor return imputes −0.55: ret +0.05 → −0.5275', async () => {
  const { rows } = await panel(delistedOnThursday('NASDAQ', 552, null, 0.05));
  const last = only(rows, 'DEAD', '2008-03-06');
  near(last.delist_ret, -0.55, 'delist_ret');
  near(last.ret_adj, -0.5275, 'ret_adj');
  assert.is(last.delist_imputed, true);
});

test('AMEX and every performance code impute −0.30; the set is exactly {500, 520, 551–574, 580, 584}', async () => {
  const expected = [500, 520, 580, 584];
  for (let code = 551; code <= 574; code++) expected.push(code);
  assert.equal([...PERFORMANCE_CODES].sort((a, b) => a - b), expected.sort((a, b) => a - b));
  assert.equal(SHUMWAY, { nasdaq: -0.55, other: -0.3 });
  for (const code of [500, 574, 584]) {
    const last = only((await panel(delistedOnThursday('AMEX', code, null, 0))).rows, 'DEAD', '2008-03-06');
    near(last.delist_ret, -0.3, `code ${code} delist_ret`);
    assert.is(last.delist_imputed, true, `code ${code} imputed`);
  }
});

test('the vendor delisting return wins and is compounded, never added: −0.9 and −0.9 → −0.99', async () => {
  const { rows } = await panel(delistedOnThursday('NYSE', 552, -0.9, -0.9));
  const last = only(rows, 'DEAD', '2008-03-06');
  near(last.delist_ret, -0.9, 'delist_ret');
  near(last.ret_adj, -0.99, 'ret_adj');
  assert.is(last.delist_imputed, false);
});

test('a halt on the last day keeps the row and ret_adj = the delisting return (−0.2)', async () => {
  const { rows } = await panel(delistedOnThursday('NYSE', 552, -0.2, 'halt'));
  const last = only(rows, 'DEAD', '2008-03-06');
  assert.is(last.close, null);
  assert.is(last.ret, null);
  near(last.delist_ret, -0.2, 'delist_ret');
  near(last.ret_adj, -0.2, 'ret_adj');
  assert.is(last.delist_imputed, false);
});

test('a merger (code 231) without a vendor return gets no imputation: ret_adj = ret', async () => {
  const { rows } = await panel(delistedOnThursday('NASDAQ', 231, null, 0.05));
  const last = only(rows, 'DEAD', '2008-03-06');
  assert.is(last.delist_ret, null);
  near(last.ret_adj, 0.05, 'ret_adj');
  assert.is(last.delist_imputed, false);
});

test('a missing delist_code gets no imputation either', async () => {
  const last = only((await panel(delistedOnThursday('NYSE', null, null, 0.05))).rows, 'DEAD', '2008-03-06');
  assert.is(last.delist_ret, null);
  near(last.ret_adj, 0.05, 'ret_adj');
  assert.is(last.delist_imputed, false);
});

test('vendor-only mode does not impute, but still applies vendor returns', async () => {
  const imputed = only((await panel(delistedOnThursday('NASDAQ', 552, null, 0.05), { delisting: 'vendor-only' })).rows,
    'DEAD', '2008-03-06');
  assert.is(imputed.delist_ret, null);
  near(imputed.ret_adj, 0.05, 'ret_adj without imputation');
  assert.is(imputed.delist_imputed, false);

  const vendor = only((await panel(delistedOnThursday('NASDAQ', 552, -0.5, 0.1), { delisting: 'vendor-only' })).rows,
    'DEAD', '2008-03-06');
  near(vendor.delist_ret, -0.5, 'vendor delist_ret');
  near(vendor.ret_adj, -0.45, 'vendor ret_adj = 1.1 × 0.5 − 1');
  assert.is(vendor.delist_imputed, false);
});

test('a Saturday delisting applies on the Friday', async () => {
  const { rows } = await panel({
    securities: [SURVIVOR, ['SAT', 'SAT', 'Saturday Co', 'NYSE', '2000-01-03', '2008-03-08', 552, null]],
    prices: [...survivorPrices, ...trades('SAT', WEEK.slice(0, 5), { ret: 0.05 })],
  });
  assert.equal(datesOf(rows, 'SAT'), WEEK.slice(0, 5));
  const friday = only(rows, 'SAT', '2008-03-07');
  near(friday.delist_ret, -0.3, 'delist_ret');
  near(friday.ret_adj, -0.265, 'ret_adj');
  assert.is(friday.delist_imputed, true);
  assert.is(rows.filter((r) => r.delist_ret !== null).length, 1);
});

test('a delisting after end applies nowhere', async () => {
  const { rows } = await panel(
    {
      securities: [SURVIVOR, ['LATE', 'LTE', 'Late Co', 'NYSE', '2000-01-03', '2008-03-12', 552, -0.4]],
      prices: [...survivorPrices, ...trades('LATE', WEEK)],
    },
    { end: '2008-03-07' },
  );
  assert.equal(datesOf(rows, 'LATE'), WEEK.slice(0, 5));
  for (const r of rows) {
    assert.is(r.delist_ret, null, `${r.sid} ${r.date} delist_ret`);
    assert.is(r.delist_imputed, false);
    assert.is(r.ret_adj, r.ret);
  }
});

test('a delisting on end itself applies on end', async () => {
  const { rows } = await panel(
    {
      securities: [SURVIVOR, ['END', 'END', 'End Co', 'NYSE', '2000-01-03', '2008-03-07', 552, -0.4]],
      prices: [...survivorPrices, ...trades('END', WEEK.slice(0, 5))],
    },
    { end: '2008-03-07' },
  );
  near(only(rows, 'END', '2008-03-07').delist_ret, -0.4, 'delist_ret');
});

test('a delisting whose day falls out of the index universe is applied nowhere', async () => {
  const { rows } = await panel(
    {
      securities: [SURVIVOR, ['GONE', 'GON', 'Gone Co', 'NYSE', '2000-01-03', '2008-03-06', 552, -0.4]],
      prices: [...survivorPrices, ...trades('GONE', WEEK.slice(0, 4))],
      memberships: [['SP500', 'ALIVE', '1990-01-02', null], ['SP500', 'GONE', '2000-01-03', '2008-03-05']],
    },
    { universe: 'SP500' },
  );
  assert.equal(datesOf(rows, 'GONE'), ['2008-03-03', '2008-03-04']);
  assert.ok(rows.every((r) => r.delist_ret === null && !r.delist_imputed));
});

// ---- survivorship -----------------------------------------------------------------------------

test('a security delisted in 2007 is on every date it traded and on none after', async () => {
  const dates2007 = ['2007-06-13', '2007-06-14', '2007-06-15', '2007-06-18', '2007-06-19'];
  const { rows } = await panel(
    {
      securities: [SURVIVOR, ['OLD', 'OLD', 'Old Corp', 'NYSE', '2007-06-13', '2007-06-15', 552, null]],
      // the vendor's stray quote after the delisting must not resurrect it
      prices: [...trades('ALIVE', dates2007), ...trades('OLD', dates2007.slice(0, 3)), ['OLD', '2007-06-19', 1, 0, 0]],
    },
    { start: '2007-01-01', end: '2008-12-31' },
  );
  assert.equal(datesOf(rows, 'ALIVE'), dates2007);
  assert.equal(datesOf(rows, 'OLD'), dates2007.slice(0, 3));
  near(only(rows, 'OLD', '2007-06-15').delist_ret, -0.3, 'delist_ret on its last day');
});

test('listed after end, delisted before start, and unknown sids contribute no rows', async () => {
  const { rows, count } = await panel({
    securities: [
      SURVIVOR,
      ['NEW', 'NEW', 'Future Co', 'NYSE', '2009-01-02', null, null, null],
      ['PAST', 'PST', 'Past Co', 'NYSE', '2001-01-02', '2007-12-31', 552, -0.5],
    ],
    prices: [...survivorPrices, ['NEW', '2008-03-03', 1, 0, 0], ['PAST', '2008-03-03', 1, 0, 0], ['GHOST', '2008-03-03', 1, 0, 0]],
  });
  assert.equal([...new Set(rows.map((r) => r.sid))], ['ALIVE']);
  assert.is(count, WEEK.length);
});

test('a security listed mid-panel starts on its listing day', async () => {
  const { rows } = await panel({
    securities: [SURVIVOR, ['IPO', 'IPO', 'Ipo Co', 'NASDAQ', '2008-03-05', null, null, null]],
    prices: [...survivorPrices, ...trades('IPO', WEEK.slice(2))],
  });
  assert.equal(datesOf(rows, 'IPO'), WEEK.slice(2));
});

test('a halted day keeps the row with null close, ret and ret_adj', async () => {
  const { rows } = await panel({
    securities: [SURVIVOR, ['HALT', 'HLT', 'Halt Co', 'NYSE', '2000-01-03', null, null, null]],
    prices: [...survivorPrices, ...trades('HALT', WEEK).filter((p) => p[1] !== '2008-03-05')],
  });
  assert.equal(datesOf(rows, 'HALT'), WEEK);
  const halted = only(rows, 'HALT', '2008-03-05');
  assert.equal(
    { ...halted },
    {
      date: '2008-03-05', sid: 'HALT', ticker: 'HLT', exchange: 'NYSE',
      close: null, ret: null, delist_ret: null, ret_adj: null, delist_imputed: false,
    },
  );
});

test('panel dates are the distinct price dates in [start, end]', async () => {
  const { rows } = await panel({ securities: [SURVIVOR], prices: survivorPrices }, { start: '2008-03-04', end: '2008-03-06' });
  assert.equal(datesOf(rows, 'ALIVE'), ['2008-03-04', '2008-03-05', '2008-03-06']);
});

// ---- tickers ----------------------------------------------------------------------------------

test('a reused ticker shows the right company on every date; the first company never leaks forward', async () => {
  const dates = ['2008-03-03', '2008-03-04', '2008-03-05', '2008-03-06', '2008-03-07'];
  const { rows } = await panel({
    securities: [
      SURVIVOR,
      // both vendors' "current" ticker is ABC; each company held it on disjoint spans
      ['FIRST', 'ABC', 'First ABC', 'NYSE', '2000-01-03', '2008-03-04', 231, null],
      ['SECOND', 'ABC', 'Second ABC', 'NASDAQ', '2008-03-05', null, null, null],
    ],
    prices: [...trades('ALIVE', dates), ...trades('FIRST', dates.slice(0, 2)), ...trades('SECOND', dates.slice(2))],
    symbols: [
      ['FIRST', 'ABC', '2000-01-03', '2008-03-04'],
      ['SECOND', 'XYZ', '2008-03-05', '2008-03-05'],
      ['SECOND', 'ABC', '2008-03-06', null],
    ],
  });
  const abc = rows.filter((r) => r.ticker === 'ABC').map((r) => `${r.date} ${r.sid}`);
  assert.equal(abc, ['2008-03-03 FIRST', '2008-03-04 FIRST', '2008-03-06 SECOND', '2008-03-07 SECOND']);
  assert.equal(datesOf(rows, 'FIRST'), ['2008-03-03', '2008-03-04']);
  assert.is(only(rows, 'SECOND', '2008-03-05').ticker, 'XYZ');
});

test('a ticker change switches on the right day (valid_to inclusive)', async () => {
  const { rows } = await panel({
    securities: [['CHG', 'NEWT', 'Changer', 'NYSE', '2000-01-03', null, null, null]],
    prices: trades('CHG', WEEK),
    symbols: [['CHG', 'OLDT', '2000-01-03', '2008-03-05'], ['CHG', 'NEWT', '2008-03-06', null]],
  });
  assert.equal(rows.map((r) => r.ticker), ['OLDT', 'OLDT', 'OLDT', 'NEWT', 'NEWT', 'NEWT']);
});

test('symbols: duplicates do not duplicate rows, overlaps take the latest valid_from, gaps fall back', async () => {
  const { rows, count } = await panel({
    securities: [['SYM', 'FALL', 'Symbolic', 'NYSE', '2000-01-03', null, null, null]],
    prices: trades('SYM', WEEK),
    symbols: [
      ['SYM', 'AAA', '2000-01-03', '2008-03-06'],
      ['SYM', 'AAA', '2000-01-03', '2008-03-06'], // a duplicated span
      ['SYM', 'BBB', '2008-03-04', '2008-03-04'], // overlaps AAA, later valid_from wins on 03-04
      ['SYM', 'CCC', '2008-03-10', null], // 03-07 is in no span: securities.ticker
    ],
  });
  assert.is(count, WEEK.length);
  assert.equal(rows.map((r) => r.ticker), ['AAA', 'BBB', 'AAA', 'AAA', 'FALL', 'CCC']);
});

// ---- universe ---------------------------------------------------------------------------------

test('a security removed from an index is out from removed_on and in the day before', async () => {
  const { rows } = await panel(
    {
      securities: [SURVIVOR, ['MEM', 'MEM', 'Member', 'NYSE', '2000-01-03', null, null, null]],
      prices: [...survivorPrices, ...trades('MEM', WEEK)],
      memberships: [
        ['SP500', 'ALIVE', '1990-01-02', null],
        ['SP500', 'MEM', '2008-03-04', '2008-03-06'],
        ['SP500', 'MEM', '2008-03-10', null], // re-added
        ['R2000', 'MEM', '2000-01-03', null], // another index does not count
      ],
    },
    { universe: 'SP500' },
  );
  assert.equal(datesOf(rows, 'MEM'), ['2008-03-04', '2008-03-05', '2008-03-10']);
  assert.equal(datesOf(rows, 'ALIVE'), WEEK);
});

test('universe all ignores memberships', async () => {
  const { rows } = await panel({
    securities: [SURVIVOR],
    prices: survivorPrices,
    memberships: [['SP500', 'ALIVE', '2008-03-05', null]],
  });
  assert.equal(datesOf(rows, 'ALIVE'), WEEK);
});

test('an unknown universe or start after end is a 422 ValidationError', async () => {
  for (const params of [{ universe: 'SP5OO' }, { start: '2008-12-31', end: '2008-01-01' }]) {
    try {
      await panel({ securities: [SURVIVOR], prices: survivorPrices, memberships: [['SP500', 'ALIVE', '1990-01-02', null]] }, params);
      assert.unreachable(`expected a ValidationError for ${JSON.stringify(params)}`);
    } catch (err) {
      assert.instance(err, ValidationError);
      assert.is((err as ValidationError).status, 422);
    }
  }
});

// ---- output contract --------------------------------------------------------------------------

test('output columns, types and order are exactly DESIGN §6.1, sorted by date, sid', async () => {
  await withDuckDB({}, async (c) => {
    await table(c, 'securities', [
      ['B', 'BB', 'Bee', 'NYSE', '2000-01-03', null, null, null],
      ['A', 'AA', 'Ay', 'NASDAQ', '2000-01-03', null, null, null],
    ]);
    await table(c, 'prices', [...trades('B', WEEK), ...trades('A', WEEK)].reverse());
    await table(c, 'symbols', []);
    await table(c, 'memberships', []);
    const count = await delistingAdjust(c, BASE);
    assert.is(count, 12);
    const described = (await c.runAndReadAll('DESCRIBE panel')).getRowsJS().map((r) => `${r[0]} ${r[1]}`);
    assert.equal(described, [
      'date DATE', 'sid VARCHAR', 'ticker VARCHAR', 'exchange VARCHAR', 'close DOUBLE', 'ret DOUBLE',
      'delist_ret DOUBLE', 'ret_adj DOUBLE', 'delist_imputed BOOLEAN',
    ]);
    const order = (await c.runAndReadAll(`SELECT strftime(date, '%Y-%m-%d') || ' ' || sid FROM panel`)).getRowsJS().map((r) => r[0]);
    assert.equal(order, WEEK.flatMap((d) => [`${d} A`, `${d} B`]));
  });
});

test.run();
