import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withDuckDB } from '../../shared/duckdb.ts';
import { HippoError, ValidationError } from '../../shared/errors.ts';
import { parseMaxAgeDays } from './pit-join.ts';
import { PIT_DEFAULTS, type PitParams } from './params.ts';
import { pitJoinToTable } from './pit-join.test-support.ts';

const test = suite('pit-join');

// ---- tiny input tables (DESIGN §5 columns, as the lake loader leaves them) ------------------

type Cell = string | number | boolean | null;
/** sid, field, period_end, value, published_at[, recorded_at] */
type Fundamental = [string, string, string, number | null, string, string?];
/** series, period, value, realtime_start[, recorded_at] */
type Macro = [string, string, number | null, string, string?];

const RECORDED = '2024-01-01T00:00:00Z';

function literal(v: Cell, type: string): string {
  if (v === null) return `CAST(NULL AS ${type})`;
  return `CAST(${typeof v === 'string' ? quotedString(v) : String(v)} AS ${type})`;
}

async function table(c: DuckDBConnection, name: string, columns: [string, string][], rows: Cell[][]): Promise<void> {
  const tuples = rows.length > 0 ? rows : [columns.map(() => null)];
  const values = tuples.map((r) => `(${columns.map(([, type], i) => literal(r[i] ?? null, type)).join(', ')})`).join(',\n');
  const names = columns.map(([n]) => quotedIdentifier(n)).join(', ');
  await c.run(`CREATE TABLE ${quotedIdentifier(name)} AS SELECT * FROM (VALUES ${values}) v(${names})${rows.length > 0 ? '' : ' WHERE false'}`);
}

interface Inputs {
  /** `date sid` pairs, or full rows when `panelColumns` is given. */
  panel: Cell[][];
  panelColumns?: [string, string][];
  fundamentals?: Fundamental[];
  macro?: Macro[];
}

type Row = Record<string, unknown>;

/** Builds the inputs, runs the step logic, and returns `joined` with dates as text and instants as ISO text. */
async function run(inputs: Inputs, params: Partial<PitParams> & Pick<PitParams, 'names'>): Promise<{ rows: Row[]; columns: string[]; count: number }> {
  return withDuckDB({}, async (c) => {
    await setup(c, inputs);
    const count = await pitJoinToTable(c, { kind: 'fundamentals', ...PIT_DEFAULTS, ...params });
    return { ...(await readJoined(c)), count };
  });
}

async function setup(c: DuckDBConnection, inputs: Inputs): Promise<void> {
  await table(c, 'panel', inputs.panelColumns ?? [['date', 'DATE'], ['sid', 'VARCHAR']], inputs.panel);
  await table(c, 'fundamentals', [
    ['sid', 'VARCHAR'], ['field', 'VARCHAR'], ['period_end', 'DATE'], ['value', 'DOUBLE'], ['published_at', 'VARCHAR'], ['recorded_at', 'TIMESTAMPTZ'],
  ], (inputs.fundamentals ?? []).map((r) => [r[0], r[1], r[2], r[3], r[4], r[5] ?? RECORDED]));
  await table(c, 'macro', [
    ['series', 'VARCHAR'], ['period', 'DATE'], ['value', 'DOUBLE'], ['realtime_start', 'VARCHAR'], ['recorded_at', 'TIMESTAMPTZ'],
  ], (inputs.macro ?? []).map((r) => [r[0], r[1], r[2], r[3], r[4] ?? RECORDED]));
}

async function readJoined(c: DuckDBConnection): Promise<{ rows: Row[]; columns: string[] }> {
  const described = await c.runAndReadAll(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'joined' ORDER BY ordinal_position`);
  const columns = described.getRowsJS().map((r) => `${r[0]} ${r[1]}`);
  const select = described.getRowsJS().map(([name, type]) => {
    const col = quotedIdentifier(String(name));
    if (type === 'DATE') return `strftime(${col}, '%Y-%m-%d') AS ${col}`;
    if (String(type).startsWith('TIMESTAMP')) return `strftime(timezone('UTC', ${col}), '%Y-%m-%dT%H:%M:%SZ') AS ${col}`;
    return col;
  });
  const reader = await c.runAndReadAll(`SELECT ${select.join(', ')} FROM joined`);
  return { rows: reader.getRowObjectsJS() as Row[], columns };
}

/** The value of `column` for each (sid, date) asked, in the order asked. */
function pick(rows: Row[], column: string, keys: [sid: string, date: string][]): unknown[] {
  return keys.map(([sid, date]) => {
    const hits = rows.filter((r) => r.sid === sid && r.date === date);
    assert.is(hits.length, 1, `one row for ${sid} on ${date}`);
    return hits[0]![column];
  });
}

function panelOf(sids: string[], dates: string[]): Cell[][] {
  return dates.flatMap((d) => sids.map((s) => [d, s]));
}

// ---- §7.2 cutoff -----------------------------------------------------------------------------

test('a 16:05 New York publication misses that day and shows the next; 15:59 shows the same day; cutoff 16:10 moves it', async () => {
  const inputs: Inputs = {
    panel: panelOf(['AFTER', 'BEFORE'], ['2019-07-17', '2019-07-18', '2019-07-19']),
    fundamentals: [
      ['AFTER', 'eps', '2019-06-30', 1.5, '2019-07-18T16:05:00-04:00'],
      ['BEFORE', 'eps', '2019-06-30', 2.5, '2019-07-18T15:59:00-04:00'],
    ],
  };
  const keys = (sid: string): [string, string][] => ['2019-07-17', '2019-07-18', '2019-07-19'].map((d) => [sid, d]);
  const at1600 = await run(inputs, { names: ['eps'] });
  assert.equal(pick(at1600.rows, 'eps', keys('AFTER')), [null, null, 1.5]);
  assert.equal(pick(at1600.rows, 'eps', keys('BEFORE')), [null, 2.5, 2.5]);
  const at1610 = await run(inputs, { names: ['eps'], cutoff: '16:10' });
  assert.equal(pick(at1610.rows, 'eps', keys('AFTER')), [null, 1.5, 1.5]);
  // A publication exactly at the cutoff is in time (avail ≤ cutoff).
  const at1605 = await run(inputs, { names: ['eps'], cutoff: '16:05' });
  assert.equal(pick(at1605.rows, 'eps', keys('AFTER')), [null, 1.5, 1.5]);
});

test('a date-only publication is available at the end of its day: Saturday 2008-03-01 first shows on Monday 2008-03-03', async () => {
  const { rows } = await run({
    panel: panelOf(['SAT', 'FRI'], ['2008-02-28', '2008-02-29', '2008-03-03']),
    fundamentals: [
      ['SAT', 'eps', '2007-12-31', 3, '2008-03-01'],
      // Published on a trading day, date only: still not by that day's 16:00 cutoff.
      ['FRI', 'eps', '2007-12-31', 4, '2008-02-29'],
    ],
  }, { names: ['eps'] });
  assert.equal(pick(rows, 'eps', [['SAT', '2008-02-29'], ['SAT', '2008-03-03']]), [null, 3]);
  assert.equal(pick(rows, 'eps', [['FRI', '2008-02-28'], ['FRI', '2008-02-29'], ['FRI', '2008-03-03']]), [null, null, 4]);
});

test('DST in March: instants given in UTC are compared with the New York cutoff of that day (EST, then EDT)', async () => {
  const dates = ['2021-03-12', '2021-03-15', '2021-03-16'];
  const { rows } = await run({
    panel: panelOf(['A', 'B', 'C', 'D'], dates),
    fundamentals: [
      ['A', 'eps', '2020-12-31', 1, '2021-03-12T20:30:00Z'], // 15:30 EST
      ['B', 'eps', '2020-12-31', 2, '2021-03-15T20:30:00Z'], // 16:30 EDT
      ['C', 'eps', '2020-12-31', 3, '2021-03-12T21:05:00Z'], // 16:05 EST
      ['D', 'eps', '2020-12-31', 4, '2021-03-15T19:55:00Z'], // 15:55 EDT
    ],
  }, { names: ['eps'] });
  const on = (sid: string) => pick(rows, 'eps', dates.map((d) => [sid, d]));
  assert.equal(on('A'), [1, 1, 1]);
  assert.equal(on('B'), [null, null, 2]);
  assert.equal(on('C'), [null, 3, 3]);
  assert.equal(on('D'), [null, 4, 4]);
});

test('DST in November: EDT on Friday 2021-11-05, EST on Monday 2021-11-08', async () => {
  const dates = ['2021-11-05', '2021-11-08', '2021-11-09'];
  const { rows } = await run({
    panel: panelOf(['E', 'F', 'G', 'H'], dates),
    fundamentals: [
      ['E', 'eps', '2021-09-30', 1, '2021-11-05T19:55:00Z'], // 15:55 EDT
      ['F', 'eps', '2021-09-30', 2, '2021-11-05T20:05:00Z'], // 16:05 EDT
      ['G', 'eps', '2021-09-30', 3, '2021-11-08T20:55:00Z'], // 15:55 EST
      ['H', 'eps', '2021-09-30', 4, '2021-11-08T21:05:00Z'], // 16:05 EST
    ],
  }, { names: ['eps'] });
  const on = (sid: string) => pick(rows, 'eps', dates.map((d) => [sid, d]));
  assert.equal(on('E'), [1, 1, 1]);
  assert.equal(on('F'), [null, 2, 2]);
  assert.equal(on('G'), [null, 3, 3]);
  assert.equal(on('H'), [null, null, 4]);
});

test('the timezone parameter: a London cutoff follows GMT, then BST; a date-only value ends at London midnight', async () => {
  const dates = ['2021-03-26', '2021-03-29', '2021-03-30'];
  const { rows } = await run({
    panel: panelOf(['GMT', 'BST', 'DAY'], dates),
    fundamentals: [
      ['GMT', 'eps', '2020-12-31', 1, '2021-03-26T16:20:00Z'], // 16:20 GMT: in time for 16:30
      ['BST', 'eps', '2020-12-31', 2, '2021-03-29T15:40:00Z'], // 16:40 BST: too late for 16:30
      ['DAY', 'eps', '2020-12-31', 3, '2021-03-29'],
    ],
  }, { names: ['eps'], cutoff: '16:30', timezone: 'Europe/London', audit: true });
  assert.equal(pick(rows, 'eps', dates.map((d) => ['GMT', d])), [1, 1, 1]);
  assert.equal(pick(rows, 'eps', dates.map((d) => ['BST', d])), [null, null, 2]);
  assert.equal(pick(rows, 'eps', dates.map((d) => ['DAY', d])), [null, null, 3]);
  // The end of 2021-03-29 in London (BST) is 23:00 UTC.
  assert.equal(pick(rows, 'eps__published_at', [['DAY', '2021-03-30']]), ['2021-03-29T23:00:00Z']);
});

// ---- §7.2 which row wins -----------------------------------------------------------------------

test('a restatement of an older period never replaces a newer period; of the latest period it shows from its own publication', async () => {
  const { rows } = await run({
    panel: panelOf(['OLD', 'NEW', 'NEWTS'], ['2019-02-14', '2019-02-19', '2019-05-01', '2019-05-13', '2019-05-31', '2019-06-03', '2019-06-04']),
    fundamentals: [
      ['OLD', 'eps', '2018-12-31', 10, '2019-02-15'],
      ['OLD', 'eps', '2019-03-31', 20, '2019-04-30'],
      ['OLD', 'eps', '2018-12-31', 11, '2019-05-10'], // restates Q4 after Q1 is out: never shown
      ['NEW', 'eps', '2019-03-31', 5, '2019-04-30'],
      ['NEW', 'eps', '2019-03-31', 6, '2019-06-03'], // restates the latest period, date only
      ['NEWTS', 'eps', '2019-03-31', 7, '2019-04-30'],
      ['NEWTS', 'eps', '2019-03-31', 8, '2019-06-03T08:00:00-04:00'], // before the open
    ],
  }, { names: ['eps'] });
  const dates = ['2019-02-14', '2019-02-19', '2019-05-01', '2019-05-13', '2019-05-31', '2019-06-03', '2019-06-04'];
  assert.equal(pick(rows, 'eps', dates.map((d) => ['OLD', d])), [null, 10, 20, 20, 20, 20, 20]);
  assert.equal(pick(rows, 'eps', dates.map((d) => ['NEW', d])), [null, null, 5, 5, 5, 5, 6]);
  assert.equal(pick(rows, 'eps', dates.map((d) => ['NEWTS', d])), [null, null, 7, 7, 7, 8, 8]);
});

test('publications at the same instant: the latest recorded_at wins, whatever the text of published_at', async () => {
  const { rows } = await run({
    panel: panelOf(['T1', 'T2', 'T3'], ['2019-07-19']),
    fundamentals: [
      // The same instant written two ways (a tie on published_at): recorded_at decides.
      ['T1', 'eps', '2019-06-30', 1, '2019-07-18T12:00:00-04:00', '2024-01-01T00:00:00Z'],
      ['T1', 'eps', '2019-06-30', 2, '2019-07-18 16:00:00Z', '2024-02-01T00:00:00Z'],
      ['T2', 'eps', '2019-06-30', 3, '2019-07-18T12:00:00-04:00', '2024-02-01T00:00:00Z'],
      ['T2', 'eps', '2019-06-30', 4, '2019-07-18 16:00:00Z', '2024-01-01T00:00:00Z'],
      // A date-only value and the next New York midnight are the same instant too.
      ['T3', 'eps', '2019-06-30', 5, '2019-07-17', '2024-03-01T00:00:00Z'],
      ['T3', 'eps', '2019-06-30', 6, '2019-07-18T00:00:00-04:00', '2024-01-01T00:00:00Z'],
    ],
  }, { names: ['eps'] });
  assert.equal(pick(rows, 'eps', [['T1', '2019-07-19'], ['T2', '2019-07-19'], ['T3', '2019-07-19']]), [2, 3, 5]);
});

test('a later publication of the same period wins over an earlier one recorded later', async () => {
  const { rows } = await run({
    panel: panelOf(['S'], ['2019-07-19']),
    fundamentals: [
      ['S', 'eps', '2019-06-30', 1, '2019-07-18T10:00:00-04:00', '2024-05-01T00:00:00Z'],
      ['S', 'eps', '2019-06-30', 2, '2019-07-18T11:00:00-04:00', '2024-01-01T00:00:00Z'],
    ],
  }, { names: ['eps'] });
  assert.equal(pick(rows, 'eps', [['S', '2019-07-19']]), [2]);
});

test('macro vintages: the first release shows until its revision; before it, the previous observation; every sid of a date alike', async () => {
  const dates = ['2018-03-27', '2018-03-29', '2019-03-27', '2019-03-28', '2019-03-29', '2019-05-01', '2019-07-26', '2019-08-01'];
  const { rows } = await run({
    panel: panelOf(['X', 'Y'], dates),
    macro: [
      ['GDP', '2017-01-01', 19.5, '2018-03-28'],
      ['GDP', '2018-01-01', 20.5, '2019-03-28'], // a
      ['GDP', '2018-01-01', 20.6, '2019-07-26'], // b
      ['GDP', '2016-01-01', 18.9, '2019-07-26'], // a revision of an older year: never shown
      ['CPI', '2019-06-01', 250.1, '2019-07-12T08:30:00-04:00'],
    ],
  }, { kind: 'macro', names: ['GDP', 'CPI'] });
  for (const sid of ['X', 'Y']) {
    assert.equal(pick(rows, 'GDP', dates.map((d) => [sid, d])), [null, 19.5, 19.5, 19.5, 20.5, 20.5, 20.5, 20.6], `GDP for ${sid}`);
    assert.equal(pick(rows, 'CPI', dates.map((d) => [sid, d])), [null, null, null, null, null, null, 250.1, 250.1], `CPI for ${sid}`);
  }
});

test('maxAge 90d: a value 90 days after its period_end is kept, at 91 days it is empty (audit still names the row)', async () => {
  const { rows } = await run({
    panel: panelOf(['S'], ['2019-06-28', '2019-06-29', '2019-06-30']),
    fundamentals: [['S', 'eps', '2019-03-31', 9, '2019-04-30']],
  }, { names: ['eps'], maxAge: '90d', audit: true });
  const keys: [string, string][] = [['S', '2019-06-28'], ['S', '2019-06-29'], ['S', '2019-06-30']];
  assert.equal(pick(rows, 'eps', keys), [9, 9, null]);
  assert.equal(pick(rows, 'eps__period_end', keys), ['2019-03-31', '2019-03-31', '2019-03-31']);
});

test('maxAge applies to macro periods too, and 0d keeps only a period ending on the date itself', async () => {
  const { rows } = await run({
    panel: panelOf(['S'], ['2019-06-28', '2019-06-29']),
    macro: [['RATE', '2019-06-28', 2.5, '2019-06-27']],
  }, { kind: 'macro', names: ['RATE'], maxAge: '0d' });
  assert.equal(pick(rows, 'RATE', [['S', '2019-06-28'], ['S', '2019-06-29']]), [2.5, null]);
});

test('audit columns: the chosen row’s period_end and availability instant, after all value columns', async () => {
  const { rows, columns } = await run({
    panel: panelOf(['S'], ['2008-03-03', '2019-07-19']),
    fundamentals: [
      ['S', 'eps', '2007-12-31', 3, '2008-03-01'],
      ['S', 'eps', '2019-06-30', 4, '2019-07-18T15:59:30.250-04:00'],
      ['S', 'rev', '2019-06-30', 40, '2019-07-18 19:00:00Z'],
    ],
  }, { names: ['eps', 'rev'], audit: true });
  assert.equal(columns, [
    'date DATE', 'sid VARCHAR', 'eps DOUBLE', 'rev DOUBLE',
    'eps__period_end DATE', 'eps__published_at TIMESTAMP WITH TIME ZONE',
    'rev__period_end DATE', 'rev__published_at TIMESTAMP WITH TIME ZONE',
  ]);
  const first = pick(rows, 'eps__published_at', [['S', '2008-03-03']]);
  // End of Saturday 2008-03-01 in New York (EST) = 05:00 UTC on the 2nd.
  assert.equal(first, ['2008-03-02T05:00:00Z']);
  assert.equal(pick(rows, 'eps__period_end', [['S', '2008-03-03'], ['S', '2019-07-19']]), ['2007-12-31', '2019-06-30']);
  assert.equal(pick(rows, 'rev__published_at', [['S', '2008-03-03'], ['S', '2019-07-19']]), [null, '2019-07-18T19:00:00Z']);
  await withDuckDB({}, async (c) => {
    await setup(c, { panel: panelOf(['S'], ['2019-07-19']), fundamentals: [['S', 'eps', '2019-06-30', 4, '2019-07-18T15:59:30.250-04:00']] });
    await pitJoinToTable(c, { ...PIT_DEFAULTS, kind: 'fundamentals', names: ['eps'], audit: true });
    const r = await c.runAndReadAll(`SELECT epoch_us("eps__published_at") FROM joined`);
    assert.is(r.getRowsJS()[0]![0], 1563479970250000n, 'microseconds kept');
  });
});

// ---- names, columns, rows ------------------------------------------------------------------------

test('a hostile field name round-trips as a column name and is never executed', async () => {
  const hostile = 'eps"; DROP TABLE panel; --';
  await withDuckDB({}, async (c) => {
    await setup(c, {
      panel: panelOf(['S'], ['2019-07-19']),
      fundamentals: [['S', hostile, '2019-06-30', 7, '2019-07-18'], ['S', "it's", '2019-06-30', 8, '2019-07-18']],
    });
    await pitJoinToTable(c, { ...PIT_DEFAULTS, kind: 'fundamentals', names: [hostile, "it's"], audit: true });
    const { rows, columns } = await readJoined(c);
    assert.equal(columns.slice(2, 4), [`${hostile} DOUBLE`, `it's DOUBLE`]);
    assert.is(columns[4], `${hostile}__period_end DATE`);
    assert.is(rows[0]![hostile], 7);
    assert.is(rows[0]!["it's"], 8);
    const panel = await c.runAndReadAll(`SELECT count(*) FROM panel`);
    assert.is(panel.getRowsJS()[0]![0], 1n, 'panel still there');
  });
});

test('the output keeps the panel’s columns, types, order and rows exactly; returns the row count', async () => {
  const panelColumns: [string, string][] = [
    ['date', 'DATE'], ['sid', 'VARCHAR'], ['ticker', 'VARCHAR'], ['close', 'DOUBLE'], ['delist_imputed', 'BOOLEAN'],
  ];
  const panel: Cell[][] = [
    ['2019-07-18', 'A', 'AAA', 10, false],
    ['2019-07-18', 'B', 'BBB', null, true],
    ['2019-07-18', 'B', 'BBB', 11, false], // a duplicate (date, sid) keeps both rows, in order
    ['2019-07-19', 'A', 'AAA', 12, false],
    ['2019-07-19', 'NOFUND', null, 13, false],
    ['2019-07-22', 'A', 'AAA', 14, false],
  ];
  const { rows, columns, count } = await run({
    panel, panelColumns,
    fundamentals: [
      ['A', 'eps', '2019-06-30', 1, '2019-07-18T09:00:00-04:00'],
      ['B', 'eps', '2019-06-30', 2, '2019-07-18T09:00:00-04:00'],
      ['ZZ', 'eps', '2019-06-30', 3, '2019-07-18T09:00:00-04:00'], // not in the panel
    ],
  }, { names: ['eps', 'missing_field'] });
  assert.is(count, panel.length);
  assert.equal(columns, ['date DATE', 'sid VARCHAR', 'ticker VARCHAR', 'close DOUBLE', 'delist_imputed BOOLEAN', 'eps DOUBLE', 'missing_field DOUBLE']);
  assert.equal(rows.map((r) => [r.date, r.sid, r.ticker, r.close, r.delist_imputed]), panel);
  assert.equal(rows.map((r) => r.eps), [1, 2, 2, 1, null, 1]);
  assert.equal(rows.map((r) => r.missing_field), [null, null, null, null, null, null]);
});

test('panel order is kept even when it is not sorted, and an empty lake gives empty columns', async () => {
  const panel: Cell[][] = [['2019-07-19', 'B'], ['2019-07-18', 'A'], ['2019-07-19', 'A'], ['2019-07-18', 'B']];
  const { rows } = await run({ panel }, { names: ['eps'] });
  assert.equal(rows.map((r) => [r.date, r.sid, r.eps]), panel.map((p) => [...p, null]));
});

test('an empty panel gives an empty table with the output columns', async () => {
  const { rows, columns, count } = await run({
    panel: [],
    fundamentals: [['S', 'eps', '2019-06-30', 1, '2019-07-18']],
  }, { names: ['eps'], audit: true });
  assert.is(count, 0);
  assert.equal(rows, []);
  assert.equal(columns, ['date DATE', 'sid VARCHAR', 'eps DOUBLE', 'eps__period_end DATE', 'eps__published_at TIMESTAMP WITH TIME ZONE']);
});

test('a panel without the sid column is bad input for fundamentals but fine for macro', async () => {
  const inputs: Inputs = { panel: [['2019-07-19']], panelColumns: [['date', 'DATE']], macro: [['GDP', '2019-01-01', 2, '2019-07-18']] };
  await rejects(run(inputs, { names: ['eps'] }), 422, /panel lacks sid/);
  const { rows } = await run(inputs, { kind: 'macro', names: ['GDP'] });
  assert.equal(rows, [{ date: '2019-07-19', GDP: 2 }]);
});

test('running fundamentals then macro on its output, as the equity-panel pipeline does', async () => {
  await withDuckDB({}, async (c) => {
    await setup(c, {
      panel: panelOf(['A', 'B'], ['2019-07-18', '2019-07-19']),
      fundamentals: [['A', 'eps', '2019-06-30', 1, '2019-07-18']],
      macro: [['GDP', '2019-01-01', 2, '2019-07-18T08:30:00-04:00']],
    });
    await pitJoinToTable(c, { ...PIT_DEFAULTS, kind: 'fundamentals', names: ['eps'] });
    await c.run('DROP TABLE panel');
    await c.run('ALTER TABLE joined RENAME TO panel');
    await pitJoinToTable(c, { ...PIT_DEFAULTS, kind: 'macro', names: ['GDP'] });
    const { rows, columns } = await readJoined(c);
    assert.equal(columns, ['date DATE', 'sid VARCHAR', 'eps DOUBLE', 'GDP DOUBLE']);
    assert.equal(rows.map((r) => [r.date, r.sid, r.eps, r.GDP]), [
      ['2019-07-18', 'A', null, 2], ['2019-07-18', 'B', null, 2], ['2019-07-19', 'A', 1, 2], ['2019-07-19', 'B', null, 2],
    ]);
  });
});

// ---- bad params and bad input --------------------------------------------------------------------

async function rejects(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, HippoError);
    assert.is((err as HippoError).status, status, (err as Error).message);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected a ${status} error matching ${message}`);
}

test('parseMaxAgeDays reads whole days and rejects anything else with a 422', () => {
  assert.is(parseMaxAgeDays('540d'), 540);
  assert.is(parseMaxAgeDays('0d'), 0);
  for (const bad of ['90', '3m', '-1d', '1.5d', 'd', '', ' 90d', '90D', '99999999999999999999d']) {
    assert.throws(() => parseMaxAgeDays(bad), (err: unknown) => err instanceof ValidationError && err.status === 422, bad);
  }
});

test('bad cutoff, time zone, maxAge or colliding names are a 422 naming the problem; nothing is written', async () => {
  const inputs: Inputs = { panel: panelOf(['S'], ['2019-07-19']), panelColumns: [['date', 'DATE'], ['sid', 'VARCHAR']] };
  const attempt = (params: Partial<PitParams>) => withDuckDB({}, async (c) => {
    await setup(c, inputs);
    try {
      return await pitJoinToTable(c, { ...PIT_DEFAULTS, kind: 'fundamentals', names: ['eps'], ...params });
    } finally {
      const left = await c.runAndReadAll(`SELECT count(*) FROM information_schema.tables WHERE table_name = 'joined'`);
      assert.is(left.getRowsJS()[0]![0], 0n, 'no joined table after a rejected request');
    }
  });
  await rejects(attempt({ cutoff: '4pm' }), 422, /cutoff "4pm"/);
  await rejects(attempt({ cutoff: '24:00' }), 422, /cutoff/);
  await rejects(attempt({ timezone: 'Mars/Olympus_Mons' }), 422, /timezone "Mars\/Olympus_Mons"/);
  await rejects(attempt({ maxAge: '3 months' }), 422, /maxAge/);
  await rejects(attempt({ names: ['eps', 'eps'] }), 422, /"eps" collides/);
  await rejects(attempt({ names: ['EPS', 'eps'] }), 422, /collides/);
  await rejects(attempt({ names: ['sid'] }), 422, /collides with a panel column/);
  await rejects(attempt({ names: ['eps', 'eps__period_end'], audit: true }), 422, /eps__period_end/);
  await rejects(attempt({ names: [''] }), 422, /must not be empty/);
});

test('a panel with a column named like the join\'s working or row-number columns is bad input naming it', async () => {
  for (const column of ['file_row_number', '__pit_row']) {
    await rejects(run({
      panel: [['2019-07-19', 'S', 1]],
      panelColumns: [['date', 'DATE'], ['sid', 'VARCHAR'], [column, 'BIGINT']],
    }, { names: ['eps'] }), 422, new RegExp(`working columns ${column}`));
  }
});

test('a time zone is matched case-insensitively', async () => {
  const { rows } = await run({
    panel: panelOf(['S'], ['2019-07-18']),
    fundamentals: [['S', 'eps', '2019-06-30', 1, '2019-07-18T15:59:00-04:00']],
  }, { names: ['eps'], timezone: 'america/new_york' });
  assert.equal(pick(rows, 'eps', [['S', '2019-07-18']]), [1]);
});

test('a published_at that is a bare local time (no offset) is bad input (422), not a guess', async () => {
  await rejects(run({
    panel: panelOf(['S'], ['2019-07-19']),
    fundamentals: [['S', 'eps', '2019-06-30', 1, '2019-07-18 12:00:00']],
  }, { names: ['eps'] }), 422, /2019-07-18 12:00:00/);
});

test('the join-order setting pinned for the statement is restored afterwards, also after a failure', async () => {
  await withDuckDB({}, async (c) => {
    await setup(c, { panel: panelOf(['S'], ['2019-07-19']), fundamentals: [['S', 'eps', '2019-06-30', 1, '2019-07-18']] });
    await c.run(`SET disabled_optimizers = 'top_n'`);
    await pitJoinToTable(c, { ...PIT_DEFAULTS, kind: 'fundamentals', names: ['eps'] });
    await c.run(`INSERT INTO fundamentals VALUES ('S', 'eps', DATE '2019-06-30', 1, 'soon', TIMESTAMPTZ '2024-01-01 00:00:00+00')`);
    await c.run('DROP TABLE joined');
    await pitJoinToTable(c, { ...PIT_DEFAULTS, kind: 'fundamentals', names: ['eps'] }).then(
      () => assert.unreachable('bad published_at accepted'),
      () => undefined,
    );
    const setting = await c.runAndReadAll(`SELECT current_setting('disabled_optimizers')`);
    assert.is(setting.getRowsJS()[0]![0], 'top_n');
  });
});

test.run();
