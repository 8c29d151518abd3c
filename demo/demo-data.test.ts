import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CORRECTION_RECORDED_AT,
  DEMO_FACTS,
  DEMO_HEADERS,
  LAST_PUBLICATION_DATE,
  SAMPLE_CALLS,
  TRANSCRIPT_KEYS,
  writeDemoData,
  type DemoFiles,
  type DemoFundamentalRow,
  type DemoOptions,
} from './demo-data.ts';
import { newYorkOffset } from './new-york-time.ts';
import { dayNumber, isoDate, isTradingDay, nextTradingDay, tradingDays } from './trading-calendar.ts';

/** A CSV file: its header line and its rows by column name. */
interface Table {
  header: string;
  rows: Record<string, string>[];
}

/** A split-based CSV reader: the demo files have no quoted fields. */
function parse(text: string): Table {
  const lines = text.split('\n');
  assert.is(lines.pop(), '', 'file ends with a newline');
  const header = lines[0]!;
  const names = header.split(',');
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    assert.is(cells.length, names.length, `row ${i + 2} has ${names.length} cells: ${line}`);
    return Object.fromEntries(names.map((n, k) => [n, cells[k]!]));
  });
  return { header, rows };
}

/** Row counts of the new files at the default seed and scale 1. */
const FUNDAMENTALS_ROWS = 52_666;
const CORRECTION_ROWS = 244;
const MACRO_ROWS = 1_427;
/** transcripts.jsonl at the default seed and scale 1: the three samples and 410 synthetic calls. */
const TRANSCRIPT_LINES = 413;

/** Every CSV file written (`correction` = fundamentals-correction.csv); transcripts.jsonl is apart. */
const KEYS = ['securities', 'prices', 'symbols', 'memberships', 'fundamentals', 'correction', 'macro'] as const;
type FileKey = (typeof KEYS)[number];

function pathsOf(files: DemoFiles): Record<FileKey, string> {
  assert.is(files.fundamentals.length, 2);
  const [fundamentals, correction] = files.fundamentals as [string, string];
  const { securities, prices, symbols, memberships, macro } = files;
  return { securities, prices, symbols, memberships, fundamentals, correction, macro };
}

interface Written {
  files: DemoFiles;
  bytes: Record<FileKey, Buffer>;
  transcripts: Buffer;
}

type Demo = Written & Record<FileKey, Table>;

async function write(dir: string, options: DemoOptions = {}): Promise<Written> {
  const files = await writeDemoData(dir, options);
  const paths = pathsOf(files);
  const bytes = Object.fromEntries(await Promise.all(KEYS.map(async (k) => [k, await readFile(paths[k])]))) as Written['bytes'];
  return { files, bytes, transcripts: await readFile(files.transcripts) };
}

function load(written: Written): Demo {
  const tables = Object.fromEntries(KEYS.map((k) => [k, parse(written.bytes[k].toString('utf8'))])) as Record<FileKey, Table>;
  return { ...written, ...tables };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function membersOn(memberships: Table, indexName: string, day: string): string[] {
  return memberships.rows
    .filter((m) => m.index_name === indexName && m.added_on <= day && (m.removed_on === '' || day < m.removed_on))
    .map((m) => m.sid);
}

// ---------------------------------------------------------------------------------------
// New York time and the §7.2 rule, computed independently of the generator (tz database via Intl)

const NY = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', timeZoneName: 'longOffset' });
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):00([+-]\d{2}:\d{2})$/;

/** New York's UTC offset at an instant, e.g. `-04:00`. */
function nyOffsetAt(ms: number): string {
  return NY.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')!.value.slice(3);
}

function offsetMinutes(offset: string): number {
  return (offset[0] === '-' ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
}

/** The instant of New York wall time `hhmm` on `date` (not near a 02:00 switch). */
function nyInstant(date: string, hhmm: string): number {
  const wall = Date.parse(`${date}T${hhmm}:00Z`);
  const ms = wall - offsetMinutes(nyOffsetAt(wall + 5 * 3_600_000)) * 60_000;
  assert.is(wall - offsetMinutes(nyOffsetAt(ms)) * 60_000, ms, `${date} ${hhmm} New York`);
  return ms;
}

const availCache = new Map<string, number>();
/** §7.2 avail(t): a timestamp at its instant, a date at the end of that day in New York. */
function avail(published: string): number {
  let ms = availCache.get(published);
  if (ms === undefined) {
    ms = DATE.test(published) ? nyInstant(isoDate(dayNumber(published) + 1), '00:00') : Date.parse(published);
    availCache.set(published, ms);
  }
  return ms;
}

/** A valid date, or a timestamp whose offset is New York's at that instant. */
function validNewYorkTime(value: string): boolean {
  if (DATE.test(value)) return isoDate(dayNumber(value)) === value;
  const m = TIMESTAMP.exec(value);
  return m !== null && !Number.isNaN(Date.parse(value)) && nyOffsetAt(Date.parse(value)) === m[3];
}

interface Vintage {
  period: string;
  value: string;
  published: string;
  recorded: string;
}

/**
 * The §7.2 value on panel date `date` (cutoff 16:00 New York): among rows available by the
 * cutoff and recorded by `asOf`, the greatest period; for it the latest published; ties by
 * recorded_at.
 */
function pointInTime(rows: readonly Vintage[], date: string, asOf = Number.POSITIVE_INFINITY): number | undefined {
  const cutoff = nyInstant(date, '16:00');
  let best: { row: Vintage; avail: number; recorded: number } | undefined;
  for (const row of rows) {
    const a = avail(row.published);
    const recorded = Date.parse(row.recorded);
    if (a > cutoff || recorded > asOf) continue;
    if (
      !best ||
      row.period > best.row.period ||
      (row.period === best.row.period && (a > best.avail || (a === best.avail && recorded > best.recorded)))
    ) {
      best = { row, avail: a, recorded };
    }
  }
  return best === undefined ? undefined : Number(best.row.value);
}

function fundamentalVintage(r: Record<string, string>): Vintage {
  return { period: r.period_end!, value: r.value!, published: r.published_at!, recorded: r.recorded_at! };
}

function macroVintage(r: Record<string, string>): Vintage {
  return { period: r.period!, value: r.value!, published: r.realtime_start!, recorded: r.recorded_at! };
}

const fundamentalKey = (r: Record<string, string>) => `${r.sid} ${r.field} ${r.period_end} ${r.published_at}`;
const factKey = (f: DemoFundamentalRow) => `${f.sid} ${f.field} ${f.periodEnd} ${f.publishedAt}`;

const DemoData = suite('demo-data');

let root = '';
let demo: Demo;
let generateMs = 0;
let pricesBySid: Map<string, Record<string, string>[]>;
let securityBySid: Map<string, Record<string, string>>;
/** fundamentals.csv + fundamentals-correction.csv rows by `sid field`. */
let vintagesBySidField: Map<string, Vintage[]>;

DemoData.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hippo-demo-'));
  const started = performance.now();
  const written = await write(join(root, 'a'));
  generateMs = performance.now() - started;
  demo = load(written);
  pricesBySid = groupBy(demo.prices.rows, (r) => r.sid!);
  securityBySid = new Map(demo.securities.rows.map((r) => [r.sid!, r]));
  vintagesBySidField = new Map(
    [...groupBy([...demo.fundamentals.rows, ...demo.correction.rows], (r) => `${r.sid} ${r.field}`)].map(([k, rows]) => [k, rows.map(fundamentalVintage)]),
  );
});

DemoData.after(async () => {
  await rm(root, { recursive: true, force: true });
});

DemoData('writes eight files with absolute paths, keyed by dataset in ingest order, with exact headers', () => {
  assert.equal(demo.files, {
    securities: join(root, 'a', 'securities.csv'),
    prices: join(root, 'a', 'prices.csv'),
    symbols: join(root, 'a', 'symbols.csv'),
    memberships: join(root, 'a', 'memberships.csv'),
    fundamentals: [join(root, 'a', 'fundamentals.csv'), join(root, 'a', 'fundamentals-correction.csv')],
    macro: join(root, 'a', 'macro.csv'),
    transcripts: join(root, 'a', 'transcripts.jsonl'),
  });
  assert.equal(Object.keys(demo.files), ['securities', 'prices', 'symbols', 'memberships', 'fundamentals', 'macro', 'transcripts']);
  assert.is(demo.securities.header, 'sid,ticker,name,exchange,listed_on,delisted_on,delist_code,delist_return');
  assert.is(demo.prices.header, 'sid,date,close,ret,volume');
  assert.is(demo.symbols.header, 'sid,ticker,valid_from,valid_to');
  assert.is(demo.memberships.header, 'index_name,sid,added_on,removed_on');
  assert.is(demo.fundamentals.header, 'sid,field,period_end,value,published_at,recorded_at');
  assert.is(demo.correction.header, 'sid,field,period_end,value,published_at,recorded_at');
  assert.is(demo.macro.header, 'series,period,value,realtime_start,recorded_at');
  assert.equal(DEMO_HEADERS, {
    securities: demo.securities.header,
    prices: demo.prices.header,
    symbols: demo.symbols.header,
    memberships: demo.memberships.header,
    fundamentals: demo.fundamentals.header,
    macro: demo.macro.header,
  });
  assert.ok(generateMs < 10_000, `scale 1 took ${generateMs.toFixed(0)} ms`);
});

DemoData('the same seed and scale give byte-identical files; another seed does not', async () => {
  const again = await write(join(root, 'again'), { scale: 1, seed: 42 });
  for (const k of KEYS) assert.ok(again.bytes[k].equals(demo.bytes[k]), `${k}.csv differs between two runs`);
  assert.ok(again.transcripts.equals(demo.transcripts), 'transcripts.jsonl differs between two runs');
  const other = await write(join(root, 'other'), { seed: 7 });
  assert.not.ok(other.bytes.prices.equals(demo.bytes.prices));
  assert.not.ok(other.bytes.securities.equals(demo.bytes.securities));
  assert.not.ok(other.bytes.fundamentals.equals(demo.bytes.fundamentals));
  assert.not.ok(other.bytes.macro.equals(demo.bytes.macro));
  assert.not.ok(other.transcripts.equals(demo.transcripts));
  // The hand-placed rows do not depend on the seed.
  assert.equal(parse(other.bytes.securities.toString('utf8')).rows.slice(0, 9), demo.securities.rows.slice(0, 9));
  const handPlaced = (t: Table) => t.rows.filter((r) => r.sid! <= 'S00009');
  assert.equal(handPlaced(parse(other.bytes.fundamentals.toString('utf8'))), handPlaced(demo.fundamentals));
  assert.equal(handPlaced(parse(other.bytes.correction.toString('utf8'))), handPlaced(demo.correction));
  const gdp2018 = (t: Table) => t.rows.filter((r) => r.series === 'GDP' && r.period === '2018-01-01').slice(0, 2).map((r) => [r.value, r.realtime_start]);
  assert.equal(gdp2018(parse(other.bytes.macro.toString('utf8'))), gdp2018(demo.macro));
});

DemoData('row counts of the default seed', () => {
  assert.is(demo.securities.rows.length, 300);
  assert.is(demo.prices.rows.length, 793_664);
  assert.is(demo.symbols.rows.length, 306);
  assert.is(demo.memberships.rows.length, 403);
  assert.is(demo.fundamentals.rows.length, FUNDAMENTALS_ROWS);
  assert.is(demo.correction.rows.length, CORRECTION_ROWS);
  assert.is(demo.macro.rows.length, MACRO_ROWS);
  // "A few MB" at scale 1.
  assert.ok(demo.bytes.fundamentals.length > 2e6 && demo.bytes.fundamentals.length < 6e6, `${demo.bytes.fundamentals.length} bytes`);
  assert.is(transcriptLines(demo.transcripts).length, TRANSCRIPT_LINES);
  assert.ok(demo.transcripts.length > 5e6 && demo.transcripts.length <= 10e6, `transcripts.jsonl: ${demo.transcripts.length} bytes`);
});

function transcriptLines(bytes: Buffer): string[] {
  const lines = bytes.toString('utf8').split('\n');
  assert.is(lines.pop(), '', 'file ends with a newline');
  return lines;
}

DemoData('transcripts.jsonl: one object per line with exactly the five keys, the sample calls first', () => {
  const lines = transcriptLines(demo.transcripts);
  const objects = lines.map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal(objects.slice(0, SAMPLE_CALLS.length).map((o) => o.transcript_id), SAMPLE_CALLS.map((c) => c.transcriptId));
  assert.equal(objects[0], {
    transcript_id: SAMPLE_CALLS[0]!.transcriptId,
    sid: SAMPLE_CALLS[0]!.sid,
    call_start: SAMPLE_CALLS[0]!.callStart,
    published_at: SAMPLE_CALLS[0]!.publishedAt,
    text: SAMPLE_CALLS[0]!.text,
  });
  const ids = new Set<string>();
  for (const o of objects) {
    assert.equal(Object.keys(o), [...TRANSCRIPT_KEYS]);
    assert.ok(TIMESTAMP.test(o.call_start!) && validNewYorkTime(o.call_start!), o.call_start);
    assert.ok(TIMESTAMP.test(o.published_at!) && validNewYorkTime(o.published_at!), o.published_at);
    assert.ok(Date.parse(o.published_at!) > Date.parse(o.call_start!), `${o.transcript_id} published after the call`);
    const s = securityBySid.get(o.sid!)!;
    const day = o.call_start!.slice(0, 10);
    assert.ok(s.listed_on! <= day && (s.delisted_on === '' || day <= s.delisted_on!), `${o.transcript_id}: ${o.sid} listed on ${day}`);
    assert.ok(o.text!.length > 0);
    ids.add(o.transcript_id!);
  }
  assert.is(ids.size, lines.length, 'transcript_id is unique');
});

DemoData('prices span 2005-01-03 to 2020-12-31 on trading days only', () => {
  const dates = [...new Set(demo.prices.rows.map((r) => r.date!))].sort();
  assert.is(dates[0], '2005-01-03');
  assert.is(dates[dates.length - 1], '2020-12-31');
  assert.is(DEMO_FACTS.firstDate, '2005-01-03');
  assert.is(DEMO_FACTS.lastDate, '2020-12-31');
  assert.equal(dates, tradingDays('2005-01-03', '2020-12-31'));
  assert.is(dates.length, 4_139);
  for (const holiday of ['2010-01-01', '2014-07-04', '2015-12-25']) assert.not.ok(dates.includes(holiday), holiday);
  // A holiday on a weekend is not moved: 2010-07-04 was a Sunday, 2010-07-05 trades.
  assert.ok(dates.includes('2010-07-05'));
});

DemoData('securities: sids, exchanges, listings and delistings', () => {
  const rows = demo.securities.rows;
  assert.equal(rows.map((r) => r.sid), Array.from({ length: 300 }, (_, i) => `S${String(i + 1).padStart(5, '0')}`));
  const count = (f: (r: Record<string, string>) => boolean) => rows.filter(f).length;
  assert.is(count((r) => r.exchange === 'NYSE'), 109);
  assert.is(count((r) => r.exchange === 'AMEX'), 22);
  assert.is(count((r) => r.exchange === 'NASDAQ'), 169);
  assert.is(count((r) => r.listed_on <= '2005-01-03'), 178);
  assert.is(count((r) => r.listed_on > '2005-01-03'), 122);
  const delisted = count((r) => r.delisted_on !== '');
  assert.is(delisted, 123);
  assert.ok(delisted / rows.length >= 0.35 && delisted / rows.length <= 0.45);

  const performance = new Set([500, 520, ...Array.from({ length: 24 }, (_, i) => 551 + i), 580, 584]);
  const dead = rows.filter((r) => r.delisted_on !== '');
  const perfMissing = dead.filter((r) => performance.has(Number(r.delist_code)) && r.delist_return === '');
  const perfPresent = dead.filter((r) => performance.has(Number(r.delist_code)) && r.delist_return !== '');
  const mergers = dead.filter((r) => Number(r.delist_code) < 400);
  assert.is(perfMissing.length, 31);
  assert.is(perfPresent.length, 26);
  assert.is(mergers.length, 56);
  assert.ok(mergers.filter((r) => r.delist_return !== '').length > mergers.length / 2, 'mergers mostly have a vendor return');
  for (const r of rows) {
    assert.ok(/^[A-Z]{1,4}$/.test(r.ticker!), r.ticker);
    assert.ok(r.name !== '' && !r.name!.includes(','), r.name);
    assert.ok(r.delisted_on === '' || r.delisted_on! > r.listed_on!, r.sid);
    assert.is(r.delist_code === '', r.delisted_on === '', `${r.sid}: a delisting has a code`);
    assert.ok(r.delist_return === '' || r.delist_code !== '', r.sid);
  }
});

DemoData('prices: every listed trading day except halts, nothing outside [listed_on, delisted_on]', () => {
  const days = tradingDays(DEMO_FACTS.firstDate, DEMO_FACTS.lastDate);
  const halted = new Set(DEMO_FACTS.halts.map((h) => `${h.sid} ${h.date}`));
  for (const s of demo.securities.rows) {
    const from = s.listed_on! < DEMO_FACTS.firstDate ? DEMO_FACTS.firstDate : s.listed_on!;
    const to = s.delisted_on === '' ? DEMO_FACTS.lastDate : s.delisted_on!;
    const expected = days.filter((d) => from <= d && d <= to && !halted.has(`${s.sid} ${d}`));
    const rows = pricesBySid.get(s.sid!) ?? [];
    assert.equal(rows.map((r) => r.date), expected, `${s.sid} dates`);
    assert.ok(rows.length >= 60, `${s.sid} has normal price rows`);
  }
});

DemoData('prices: ret = close / previous close − 1 (6 decimals), empty on the first row; volume positive', () => {
  for (const rows of pricesBySid.values()) {
    rows.forEach((r, i) => {
      const close = Number(r.close);
      assert.ok(close > 0 && /^\d+(\.\d{1,4})?$/.test(r.close!), r.close);
      assert.ok(/^[1-9]\d*$/.test(r.volume!), r.volume);
      if (i === 0) assert.is(r.ret, '', `${r.sid} first row`);
      else assert.is(r.ret, String(Math.round((close / Number(rows[i - 1]!.close) - 1) * 1e6) / 1e6), `${r.sid} ${r.date}`);
    });
  }
});

DemoData('the hand-placed securities are written as DEMO_FACTS says', () => {
  assert.is(DEMO_FACTS.securities.length, 9);
  for (const fact of DEMO_FACTS.securities) {
    const row = securityBySid.get(fact.sid)!;
    assert.equal(row, {
      sid: fact.sid,
      ticker: fact.ticker,
      name: fact.name,
      exchange: fact.exchange,
      listed_on: fact.listedOn,
      delisted_on: fact.delistedOn ?? '',
      delist_code: fact.delistCode === null ? '' : String(fact.delistCode),
      delist_return: fact.delistReturn === null ? '' : String(fact.delistReturn),
    });
  }
  assert.is(
    demo.bytes.securities.toString('utf8').split('\n').slice(1, 10).join('\n'),
    [
      'S00001,FALN,Fallon Textile Mills Inc,NYSE,1996-04-15,2007-06-15,552,',
      'S00002,ACME,Acme Holdings Corp,NYSE,1989-09-05,2008-10-15,574,-0.35',
      'S00003,ACME,Acme Robotics Inc,NASDAQ,2011-05-12,,,',
      'S00004,NEWC,Newco Brands Inc,NYSE,2001-07-09,,,',
      'S00005,DRFT,Driftwood Networks Inc,NASDAQ,2006-03-14,2014-05-17,560,',
      'S00006,MRDN,Meridian Software Corp,NASDAQ,1998-02-17,2016-08-31,231,',
      'S00007,QBIT,Quantum Bit Systems Inc,NASDAQ,2007-10-24,2009-11-20,584,',
      'S00008,GRNT,Granite Utilities Co,NYSE,1993-06-01,,,',
      'S00009,PLNK,Plank Energy Corp,AMEX,2002-11-18,2012-08-10,580,',
    ].join('\n'),
  );
});

DemoData('case 1: a NYSE performance delisting in 2007 with the vendor return missing', () => {
  const f = DEMO_FACTS.delisted2007;
  assert.equal(
    [f.sid, f.exchange, f.delistedOn, f.lastPriceDate, f.delistCode, f.delistReturn, f.shumwayDlret, f.imputed],
    ['S00001', 'NYSE', '2007-06-15', '2007-06-15', 552, null, -0.3, true],
  );
  const rows = pricesBySid.get('S00001')!;
  assert.is(rows[0]!.date, '2005-01-03');
  assert.is(rows[rows.length - 1]!.date, '2007-06-15');
});

DemoData('every delisting case: code, vendor return and the last prices row', () => {
  assert.equal(
    DEMO_FACTS.delistings.map((d) => [d.sid, d.exchange, d.delistCode, d.delistReturn, d.lastPriceDate, d.shumwayDlret, d.imputed]),
    [
      ['S00001', 'NYSE', 552, null, '2007-06-15', -0.3, true],
      ['S00002', 'NYSE', 574, -0.35, '2008-10-15', -0.35, false],
      ['S00007', 'NASDAQ', 584, null, '2009-11-20', -0.55, true],
      ['S00009', 'AMEX', 580, null, '2012-08-10', -0.3, true],
      ['S00005', 'NASDAQ', 560, null, '2014-05-16', -0.55, true],
      ['S00006', 'NASDAQ', 231, null, '2016-08-31', null, false],
    ],
  );
  for (const d of DEMO_FACTS.delistings) {
    const s = securityBySid.get(d.sid)!;
    assert.equal([s.ticker, s.exchange, s.delisted_on, s.delist_code, s.delist_return], [
      d.ticker, d.exchange, d.delistedOn, String(d.delistCode), d.delistReturn === null ? '' : String(d.delistReturn),
    ]);
    const rows = pricesBySid.get(d.sid)!;
    assert.is(rows[rows.length - 1]!.date, d.lastPriceDate, d.sid);
  }
});

DemoData('case 5: the delisting dated a Saturday has no prices after the Friday', () => {
  const f = DEMO_FACTS.saturdayDelisting;
  assert.equal([f.sid, f.ticker, f.exchange, f.delistedOn, f.lastPriceDate, f.delistCode, f.delistReturn], [
    'S00005', 'DRFT', 'NASDAQ', '2014-05-17', '2014-05-16', 560, null,
  ]);
  assert.is(new Date('2014-05-17T00:00:00Z').getUTCDay(), 6);
  assert.not.ok(isTradingDay('2014-05-17'));
  const rows = pricesBySid.get('S00005')!;
  assert.is(rows[0]!.date, '2006-03-14');
  assert.is(rows[0]!.ret, '');
  assert.is(rows[rows.length - 1]!.date, '2014-05-16');
  assert.not.ok(demo.prices.rows.some((r) => r.sid === 'S00005' && r.date > '2014-05-16'));
});

DemoData('case 2: ACME is reused by another sid with non-overlapping spans', () => {
  const acme = demo.symbols.rows.filter((r) => r.ticker === 'ACME');
  assert.equal(acme, [
    { sid: 'S00002', ticker: 'ACME', valid_from: '1989-09-05', valid_to: '2008-10-15' },
    { sid: 'S00003', ticker: 'ACME', valid_from: '2011-05-12', valid_to: '' },
  ]);
  const { first, second } = DEMO_FACTS.tickerReuse;
  assert.equal([first.sid, first.validTo, second.sid, second.validFrom], ['S00002', '2008-10-15', 'S00003', '2011-05-12']);
  assert.ok(first.validTo! < second.validFrom);
  assert.is(pricesBySid.get('S00002')!.at(-1)!.date, '2008-10-15');
  assert.is(pricesBySid.get('S00003')![0]!.date, '2011-05-12');
});

DemoData('case 3: OLDC becomes NEWC on 2012-03-01', () => {
  assert.equal(demo.symbols.rows.filter((r) => r.sid === 'S00004'), [
    { sid: 'S00004', ticker: 'OLDC', valid_from: '2001-07-09', valid_to: '2012-02-29' },
    { sid: 'S00004', ticker: 'NEWC', valid_from: '2012-03-01', valid_to: '' },
  ]);
  assert.is(securityBySid.get('S00004')!.ticker, 'NEWC');
  const dates = new Set(pricesBySid.get('S00004')!.map((r) => r.date));
  assert.ok(dates.has('2012-02-29') && dates.has('2012-03-01'));
});

DemoData('case 4: halted days have no prices row while the security is listed', () => {
  assert.equal(DEMO_FACTS.halts, [
    { sid: 'S00004', date: '2009-03-10' },
    { sid: 'S00004', date: '2009-03-11' },
    { sid: 'S00008', date: '2010-05-06' },
    { sid: 'S00003', date: '2016-02-09' },
  ]);
  const priced = new Set(demo.prices.rows.map((r) => `${r.sid} ${r.date}`));
  const allDates = new Set(demo.prices.rows.map((r) => r.date));
  for (const { sid, date } of DEMO_FACTS.halts) {
    assert.ok(allDates.has(date), `${date} is a trading day`);
    assert.not.ok(priced.has(`${sid} ${date}`), `${sid} halted on ${date}`);
    const s = securityBySid.get(sid)!;
    assert.ok(s.listed_on! < date && (s.delisted_on === '' || date < s.delisted_on!), `${sid} listed on ${date}`);
  }
  // The day after a halt, ret spans the gap: close / last printed close − 1.
  const s4 = pricesBySid.get('S00004')!;
  const after = s4.findIndex((r) => r.date === '2009-03-12');
  assert.is(s4[after - 1]!.date, '2009-03-09');
  assert.is(s4[after]!.ret, String(Math.round((Number(s4[after]!.close) / Number(s4[after - 1]!.close) - 1) * 1e6) / 1e6));
});

DemoData('symbols cover each listed life and a ticker is unique at any one time', () => {
  const bySid = groupBy(demo.symbols.rows, (r) => r.sid!);
  for (const s of demo.securities.rows) {
    const spans = bySid.get(s.sid!)!;
    assert.is(spans[0]!.valid_from, s.listed_on, s.sid);
    assert.is(spans.at(-1)!.valid_to, s.delisted_on, s.sid);
    assert.is(spans.at(-1)!.ticker, s.ticker, `${s.sid}: securities.ticker is the current ticker`);
    for (let i = 1; i < spans.length; i++) {
      assert.is(dayNumber(spans[i]!.valid_from!), dayNumber(spans[i - 1]!.valid_to!) + 1, `${s.sid} spans are contiguous`);
    }
  }
  const byTicker = groupBy(demo.symbols.rows, (r) => r.ticker!);
  let reused = 0;
  for (const [ticker, spans] of byTicker) {
    spans.sort((a, b) => (a.valid_from! < b.valid_from! ? -1 : 1));
    for (let i = 1; i < spans.length; i++) {
      const before = spans[i - 1]!;
      assert.ok(before.valid_to !== '' && before.valid_to! < spans[i]!.valid_from!, `${ticker} held twice at once`);
    }
    if (spans.length > 1) reused++;
  }
  assert.is(reused, 13);
  assert.is(demo.symbols.rows.length - demo.securities.rows.length, 6);
});

DemoData('case 7: GRNT leaves LARGECAP on 2015-06-22 while still listed', () => {
  const f = DEMO_FACTS.largecapRemoval;
  assert.equal([f.indexName, f.sid, f.ticker, f.addedOn, f.removedOn, f.lastMemberDay], [
    'LARGECAP', 'S00008', 'GRNT', '2005-01-03', '2015-06-22', '2015-06-19',
  ]);
  assert.equal(demo.memberships.rows.filter((m) => m.sid === 'S00008'), [
    { index_name: 'LARGECAP', sid: 'S00008', added_on: '2005-01-03', removed_on: '2015-06-22' },
  ]);
  assert.is(securityBySid.get('S00008')!.delisted_on, '');
  assert.is(pricesBySid.get('S00008')!.at(-1)!.date, '2020-12-31');
  assert.ok(membersOn(demo.memberships, 'LARGECAP', '2015-06-19').includes('S00008'));
  assert.not.ok(membersOn(demo.memberships, 'LARGECAP', '2015-06-22').includes('S00008'));

  const m = DEMO_FACTS.largecapDelisting;
  assert.equal(demo.memberships.rows.filter((r) => r.sid === m.sid), [
    { index_name: 'LARGECAP', sid: 'S00006', added_on: '2005-01-03', removed_on: '2016-09-01' },
  ]);
  assert.is(nextTradingDay(securityBySid.get('S00006')!.delisted_on!), '2016-09-01');
});

DemoData('LARGECAP has about 100 members and changes over time; SMALLCAP about 80', () => {
  const sizes = ['2005-01-03', '2008-12-31', '2012-06-29', '2016-09-01', '2020-12-31'].map((d) => [
    membersOn(demo.memberships, 'LARGECAP', d).length,
    membersOn(demo.memberships, 'SMALLCAP', d).length,
  ]);
  assert.equal(sizes, [[100, 78], [99, 79], [100, 78], [99, 80], [98, 78]]);
  const large = demo.memberships.rows.filter((m) => m.index_name === 'LARGECAP');
  assert.is(large.length, 195);
  assert.ok(large.some((m) => m.added_on > '2005-01-03'), 'additions');
  const stillListedRemovals = large.filter((m) => {
    const s = securityBySid.get(m.sid!)!;
    return m.removed_on !== '' && (s.delisted_on === '' || m.removed_on! <= s.delisted_on!);
  });
  assert.ok(stillListedRemovals.length >= 10, 'removals of listed securities');

  for (const m of demo.memberships.rows) {
    const s = securityBySid.get(m.sid!)!;
    assert.ok(m.removed_on === '' || m.added_on! < m.removed_on!, `${m.sid} span is not empty`);
    assert.ok(m.added_on! >= s.listed_on!, `${m.sid} member only once listed`);
    if (s.delisted_on !== '') {
      assert.ok(m.removed_on !== '' && m.removed_on! <= nextTradingDay(s.delisted_on!), `${m.sid} leaves when it delists`);
    }
  }
  for (const day of ['2007-04-02', '2013-10-01', '2019-01-02']) {
    const both = membersOn(demo.memberships, 'LARGECAP', day).filter((sid) => membersOn(demo.memberships, 'SMALLCAP', day).includes(sid));
    assert.equal(both, [], `no sid in both indices on ${day}`);
  }
});

DemoData('scale 2 gives twice the securities and keeps the hand-placed facts', async () => {
  const big = await write(join(root, 'scale2'), { scale: 2 });
  const securities = parse(big.bytes.securities.toString('utf8')).rows;
  const memberships = parse(big.bytes.memberships.toString('utf8'));
  assert.is(securities.length, 600);
  assert.equal(securities.slice(0, 9), demo.securities.rows.slice(0, 9));

  const priceLines = big.bytes.prices.toString('utf8').split('\n');
  const ratio = (priceLines.length - 2) / demo.prices.rows.length;
  assert.ok(ratio > 1.8 && ratio < 2.2, `prices ratio ${ratio}`);
  // A hand-placed security's prices depend on the seed only, not on the universe around it;
  // prices are sorted by sid, so they are the same leading lines.
  const special = demo.prices.rows.filter((r) => r.sid! <= 'S00009').length;
  assert.is(special, 20_026);
  assert.equal(priceLines.slice(0, special + 1), demo.bytes.prices.toString('utf8').split('\n').slice(0, special + 1));

  assert.equal(memberships.rows.filter((m) => m.sid === 'S00008'), demo.memberships.rows.filter((m) => m.sid === 'S00008'));
  const largeSize = membersOn(memberships, 'LARGECAP', '2012-06-29').length;
  assert.ok(largeSize >= 190 && largeSize <= 200, `LARGECAP at scale 2 has ${largeSize}`);

  // A security's fundamentals depend on the seed and its own streams, not on the universe:
  // sorted by sid, the scale-1 files are the leading lines of the scale-2 ones. Macro is the same.
  for (const k of ['fundamentals', 'correction'] as const) {
    const text = demo.bytes[k].toString('utf8');
    assert.ok(big.bytes[k].toString('utf8').startsWith(text), `${k} at scale 2 starts with scale 1`);
    assert.ok(big.bytes[k].length > 1.6 * demo.bytes[k].length, `${k} grows with the scale`);
  }
  assert.ok(big.bytes.macro.equals(demo.bytes.macro));
  // Transcripts too: each security's calls come from its own stream.
  assert.ok(big.transcripts.toString('utf8').startsWith(demo.transcripts.toString('utf8')), 'transcripts at scale 2 start with scale 1');
  const calls = transcriptLines(big.transcripts).length - SAMPLE_CALLS.length;
  const callRatio = calls / (TRANSCRIPT_LINES - SAMPLE_CALLS.length);
  assert.ok(callRatio > 1.7 && callRatio < 2.3, `transcripts ratio ${callRatio}`);
});

// ---------------------------------------------------------------------------------------
// Fundamentals

const QUARTER_END = /-(03-31|06-30|09-30|12-31)$/;
const handPlacedSid = (sid: string) => sid <= 'S00009';

/** The first publication of each (sid, period_end) report: all four fields, one published_at. */
function originalReports(): Map<string, { sid: string; periodEnd: string; publishedAt: string; rows: Record<string, string>[] }> {
  const reports = new Map<string, { sid: string; periodEnd: string; publishedAt: string; rows: Record<string, string>[] }>();
  for (const [key, rows] of groupBy(demo.fundamentals.rows, (r) => `${r.sid} ${r.period_end}`)) {
    const first = rows.reduce((a, b) => (avail(b.published_at!) < avail(a.published_at!) ? b : a));
    reports.set(key, { sid: first.sid!, periodEnd: first.period_end!, publishedAt: first.published_at!, rows: rows.filter((r) => r.published_at === first.published_at) });
  }
  return reports;
}

DemoData('fundamentals: one report a quarter, four fields, for every security while listed', () => {
  assert.equal(DEMO_FACTS.fundamentalFields, ['book_value', 'eps', 'net_income', 'revenue']);
  const reports = originalReports();
  for (const report of reports.values()) {
    assert.equal(report.rows.map((r) => r.field), DEMO_FACTS.fundamentalFields, `${report.sid} ${report.periodEnd} has the four fields`);
    assert.is(new Set(report.rows.map((r) => r.recorded_at)).size, 1, 'one recorded_at per report');
  }
  const bySid = groupBy([...reports.values()], (r) => r.sid);
  let withoutReports = 0;
  for (const s of demo.securities.rows) {
    const list = bySid.get(s.sid!) ?? [];
    const lastDay = s.delisted_on === '' ? DEMO_FACTS.lastDate : s.delisted_on!;
    if (list.length === 0) {
      withoutReports++;
      assert.ok(dayNumber(lastDay) - dayNumber(s.listed_on!) < 200, `${s.sid} listed long enough to report`);
      continue;
    }
    const periods = list.map((r) => r.periodEnd);
    for (let i = 0; i < periods.length; i++) {
      const p = periods[i]!;
      assert.ok(QUARTER_END.test(p), p);
      if (i > 0) assert.is(dayNumber(p) - dayNumber(periods[i - 1]!) <= 92 && p > periods[i - 1]!, true, `${s.sid}: no quarter missing at ${p}`);
      assert.ok(p >= '2004-03-31' && p <= '2020-12-31', p);
    }
    // From the quarter it listed in (or 2004) to the last report published while listed, by 2021-01-29.
    const firstPeriod = s.listed_on! < '2004-01-01' ? '2004-03-31' : periods[0]!;
    assert.is(periods[0], firstPeriod, s.sid);
    assert.ok(dayNumber(periods[0]!) - dayNumber(s.listed_on! < '2004-01-01' ? '2004-01-01' : s.listed_on!) < 92, `${s.sid} first report`);
    for (const r of list) assert.ok(r.publishedAt.slice(0, 10) <= (lastDay < LAST_PUBLICATION_DATE ? lastDay : LAST_PUBLICATION_DATE), `${s.sid} ${r.periodEnd}`);
    if (s.delisted_on === '') assert.is(periods.at(-1), '2020-09-30', `${s.sid}: Q4 2020 is not out by January 2021`);
  }
  assert.ok(withoutReports <= 3, `${withoutReports} securities without reports`);
  assert.is(reports.size, 12_752);
});

DemoData('published_at: report lags, release times, dates and New York offsets', () => {
  // The offsets the generator uses agree with the tz database on every day (both US rule sets).
  for (let d = dayNumber('2003-01-01'); d <= dayNumber('2021-12-31'); d++) {
    const day = isoDate(d);
    assert.is(newYorkOffset(day), nyOffsetAt(nyInstant(day, '12:00')), day);
  }
  // A winter and a summer example, and the 2006 (old rule) and 2007 (new rule) switches.
  assert.is(newYorkOffset('2015-02-19'), '-05:00');
  assert.is(newYorkOffset('2019-07-18'), '-04:00');
  assert.is(newYorkOffset('2006-04-01'), '-05:00');
  assert.is(newYorkOffset('2006-04-03'), '-04:00');
  assert.is(newYorkOffset('2006-10-30'), '-05:00');
  assert.is(newYorkOffset('2007-03-12'), '-04:00');
  assert.is(newYorkOffset('2007-11-01'), '-04:00');
  const published = new Set(demo.fundamentals.rows.map((r) => r.published_at!));
  assert.ok(published.has('2015-02-19T16:01:00-05:00') && published.has('2019-07-18T16:05:00-04:00'));
  for (const p of published) assert.ok(validNewYorkTime(p), `published_at ${p}`);
  assert.not.ok(validNewYorkTime('2019-07-18T16:05:00-05:00'), 'a wrong offset is caught');
  assert.not.ok(validNewYorkTime('2015-02-19T16:01:00-04:00'), 'a wrong offset is caught');

  const reports = [...originalReports().values()];
  const kinds = { date: 0, saturday: 0, beforeOpen: 0, afterClose: 0, '15:59': 0, '16:00': 0, '16:01': 0, intraday: 0 };
  for (const r of reports) {
    const day = r.publishedAt.slice(0, 10);
    const time = TIMESTAMP.exec(r.publishedAt)?.[2];
    if (time === undefined) {
      kinds.date++;
      if (new Date(`${day}T00:00:00Z`).getUTCDay() === 6) kinds.saturday++;
    } else {
      assert.ok(isTradingDay(day), `a timed release is on a trading day: ${r.publishedAt}`);
      if (time < '09:30') kinds.beforeOpen++;
      else if (time === '15:59' || time === '16:00' || time === '16:01') kinds[time]++;
      else if (time >= '16:05' && time <= '17:30') kinds.afterClose++;
      else if (time >= '10:00' && time <= '15:30') kinds.intraday++;
      else assert.unreachable(`release time ${r.publishedAt}`);
    }
    // 10-Q within 20–60 days of the quarter end, 10-K within 45–90 (hand-placed: as DEMO_FACTS says, ≥ 14).
    const lag = dayNumber(day) - dayNumber(r.periodEnd);
    const annual = r.periodEnd.endsWith('12-31');
    const [lo, hi] = annual ? [45, 90] : [20, 60];
    assert.ok(lag >= (handPlacedSid(r.sid) ? 14 : lo) && lag <= hi, `${r.sid} ${r.periodEnd} published ${lag} days later`);
  }
  const n = reports.length;
  assert.ok(kinds.date > 0.15 * n && kinds.beforeOpen > 0.2 * n && kinds.afterClose > 0.3 * n, JSON.stringify(kinds));
  assert.ok(kinds['15:59'] >= 20 && kinds['16:00'] >= 20 && kinds['16:01'] >= 20 && kinds.intraday >= 50, JSON.stringify(kinds));
  assert.ok(kinds['15:59'] + kinds['16:00'] + kinds['16:01'] < 0.03 * n, 'only a few right at the cutoff');
  assert.ok(kinds.saturday >= 10, `${kinds.saturday} date-only reports on a Saturday`);
});

DemoData('recorded_at: a vendor feed time a few minutes after availability, all by 2021-01-31', () => {
  const last = Date.parse('2021-01-31T00:00:00Z');
  for (const t of [demo.fundamentals, demo.macro]) {
    for (const r of t.rows) {
      const published = r.published_at ?? r.realtime_start!;
      assert.ok(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(r.recorded_at!), r.recorded_at);
      const lag = (Date.parse(r.recorded_at!) - avail(published)) / 60_000;
      assert.ok(lag >= 1 && lag <= 25, `${published} recorded ${r.recorded_at}`);
      assert.ok(Date.parse(r.recorded_at!) <= last, r.recorded_at);
    }
  }
});

/** The close of the last prices row on or before `date` (rows sorted by date). */
function lastClose(rows: readonly Record<string, string>[], date: string): string | undefined {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.date! <= date) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : rows[lo - 1]!.close;
}

DemoData('fundamentals: plausible, correlated magnitudes', () => {
  const random = demo.fundamentals.rows.filter((r) => !handPlacedSid(r.sid!));
  const reports = groupBy(random, (r) => `${r.sid} ${r.period_end} ${r.published_at}`);
  const margins: number[] = [];
  const pe: number[] = [];
  const impliedShares = new Map<string, number[]>();
  for (const rows of reports.values()) {
    const v = Object.fromEntries(rows.map((r) => [r.field, Number(r.value)])) as Record<string, number>;
    for (const r of rows) assert.ok(r.field === 'eps' ? /^-?\d+(\.\d{1,2})?$/.test(r.value!) : /^-?\d+(\.\d{1,3})?$/.test(r.value!), r.value);
    if (v.revenue !== undefined) assert.ok(v.revenue >= 0, 'revenue ≥ 0');
    if (v.book_value !== undefined) assert.ok(v.book_value > 0, 'book value > 0');
    if (v.eps === undefined || v.net_income === undefined) continue;
    if (Math.abs(v.eps) >= 0.02) assert.is(Math.sign(v.eps), Math.sign(v.net_income), 'eps and net income agree in sign');
    if (v.revenue !== undefined && v.revenue > 1) {
      margins.push(v.net_income / v.revenue);
      assert.ok(Math.abs(v.net_income) <= v.revenue, 'net income within revenue');
    }
    const sid = rows[0]!.sid!;
    if (Math.abs(v.eps) >= 0.25) impliedShares.set(sid, [...(impliedShares.get(sid) ?? []), (v.net_income * 1e6) / v.eps]);
    // P/E on the quarter end (annualised eps) from the prices file.
    const close = lastClose(pricesBySid.get(sid)!, rows[0]!.period_end!);
    if (close !== undefined && v.eps > 0.05) pe.push(Number(close) / (4 * v.eps));
  }
  // eps = net income / shares: one share count per company.
  for (const [sid, shares] of impliedShares) {
    const sorted = [...shares].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1]!;
    for (const x of shares) assert.ok(Math.abs(x / median - 1) < 0.05, `${sid}: shares ${x} vs ${median}`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  assert.ok(median(margins) > 0.03 && median(margins) < 0.12, `median margin ${median(margins)}`);
  assert.ok(margins.filter((m) => m < 0).length > 0.05 * margins.length, 'some losses');
  assert.ok(median(pe) > 8 && median(pe) < 40, `median P/E ${median(pe)}`);
});

DemoData('restatements: a later published_at and another value; old periods restated after newer ones are out', () => {
  const reports = originalReports();
  let restated = 0;
  let afterNewer = 0;
  let stillLatest = 0;
  const bySidField = groupBy(demo.fundamentals.rows, (r) => `${r.sid} ${r.field}`);
  for (const [key, rows] of groupBy(demo.fundamentals.rows, (r) => `${r.sid} ${r.field} ${r.period_end}`)) {
    if (rows.length === 1) continue;
    restated++;
    const sorted = [...rows].sort((a, b) => avail(a.published_at!) - avail(b.published_at!));
    assert.equal(rows, sorted, `${key}: rows in published order`);
    assert.is(sorted[0]!.published_at, reports.get(`${rows[0]!.sid} ${rows[0]!.period_end}`)!.publishedAt, `${key}: the first row is the report`);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(avail(sorted[i]!.published_at!) > avail(sorted[i - 1]!.published_at!), `${key}: later`);
      assert.ok(sorted[i]!.value !== sorted[i - 1]!.value, `${key}: another value`);
      assert.ok(sorted[i]!.published_at!.slice(0, 10) <= LAST_PUBLICATION_DATE, key);
    }
    const at = avail(sorted[1]!.published_at!);
    const newer = bySidField.get(`${rows[0]!.sid} ${rows[0]!.field}`)!.some((r) => r.period_end! > rows[0]!.period_end! && avail(r.published_at!) < at);
    if (newer) afterNewer++;
    else stillLatest++;
  }
  assert.is(restated, 1_658);
  assert.ok(afterNewer > 500 && stillLatest > 100, `${afterNewer} restated after a newer period, ${stillLatest} while still the latest`);
});

DemoData('fundamentals-correction.csv re-states existing keys with another value, recorded 2024-06-01', () => {
  assert.is(CORRECTION_RECORDED_AT, '2024-06-01T00:00:00Z');
  const byKey = new Map(demo.fundamentals.rows.map((r) => [fundamentalKey(r), r]));
  assert.is(byKey.size, demo.fundamentals.rows.length, 'fundamentals.csv keys are unique');
  const seen = new Set<string>();
  for (const c of demo.correction.rows) {
    const key = fundamentalKey(c);
    const original = byKey.get(key);
    assert.ok(original, `the correction ${key} re-states a fundamentals.csv row`);
    assert.ok(c.value !== original!.value, `${key} corrects the value`);
    assert.is(c.recorded_at, '2024-06-01T00:00:00Z');
    assert.ok(c.recorded_at! > original!.recorded_at!);
    assert.not.ok(seen.has(key), `${key} once`);
    seen.add(key);
  }
  assert.ok(demo.correction.rows.length > 100);
});

DemoData('every DEMO_FACTS fundamentals row is in the files exactly', () => {
  const byKey = new Map(demo.fundamentals.rows.map((r) => [fundamentalKey(r), r]));
  const has = (f: DemoFundamentalRow, what: string) => {
    const row = byKey.get(factKey(f));
    assert.ok(row, `${what}: ${factKey(f)} is in fundamentals.csv`);
    assert.is(row!.value, String(f.value), `${what}: value`);
  };
  const f = DEMO_FACTS;
  for (const p of f.publications) {
    has(p, p.case);
    has(p.previous, `${p.case} (previous)`);
    assert.is(p.previous.field, p.field);
    assert.ok(p.previous.periodEnd < p.periodEnd && dayNumber(p.periodEnd) - dayNumber(p.previous.periodEnd) <= 92);
    // The whole report has that published_at.
    assert.equal(
      demo.fundamentals.rows.filter((r) => r.sid === p.sid && r.period_end === p.periodEnd && r.published_at === p.publishedAt).map((r) => r.field),
      DEMO_FACTS.fundamentalFields,
    );
    assert.is(p.presentOn, nextTradingDay(p.absentOn), `${p.case}: consecutive trading days`);
    assert.ok(validNewYorkTime(p.publishedAt));
  }
  assert.equal(
    f.publications.map((p) => [p.sid, p.field, p.periodEnd, p.publishedAt, p.absentOn, p.presentOn]),
    [
      ['S00004', 'eps', '2019-06-30', '2019-07-18T16:05:00-04:00', '2019-07-18', '2019-07-19'],
      ['S00008', 'revenue', '2018-09-30', '2018-11-05T15:59:00-05:00', '2018-11-02', '2018-11-05'],
      ['S00003', 'net_income', '2017-03-31', '2017-05-04T16:00:00-04:00', '2017-05-03', '2017-05-04'],
      ['S00008', 'eps', '2014-12-31', '2015-02-19T16:01:00-05:00', '2015-02-19', '2015-02-20'],
      ['S00004', 'revenue', '2013-09-30', '2013-10-24T07:30:00-04:00', '2013-10-23', '2013-10-24'],
      ['S00004', 'net_income', '2012-06-30', '2012-08-09', '2012-08-09', '2012-08-10'],
      ['S00008', 'book_value', '2007-12-31', '2008-03-01', '2008-02-29', '2008-03-03'],
    ],
  );
  assert.is(new Date('2008-03-01T00:00:00Z').getUTCDay(), 6, '2008-03-01 is a Saturday');
  for (const r of [f.restatement, f.restatementLatest]) {
    has(r.original, r.case);
    has(r.restated, `${r.case} (restated)`);
    if (r.newer) has(r.newer, `${r.case} (newer)`);
    assert.equal([r.restated.sid, r.restated.field, r.restated.periodEnd], [r.original.sid, r.original.field, r.original.periodEnd]);
    assert.ok(avail(r.restated.publishedAt) > avail(r.original.publishedAt));
    assert.ok(r.restated.value !== r.original.value);
  }
  const c = f.vendorCorrection;
  const original = byKey.get(`${c.sid} ${c.field} ${c.periodEnd} ${c.publishedAt}`)!;
  assert.equal([original.value, original.recorded_at], [String(c.originalValue), c.originalRecordedAt]);
  const corrected = demo.correction.rows.filter((r) => r.sid === c.sid && r.field === c.field && r.period_end === c.periodEnd);
  assert.equal(corrected, [
    { sid: c.sid, field: c.field, period_end: c.periodEnd, value: String(c.correctedValue), published_at: c.publishedAt, recorded_at: '2024-06-01T00:00:00Z' },
  ]);
  assert.is(c.recordedAt, '2024-06-01T00:00:00Z');
  // The listed sids have prices on every date a fact names.
  const dates = [
    ...f.publications.flatMap((p) => [p.sid, p.absentOn, p.sid, p.presentOn]),
    ...[f.restatement, f.restatementLatest].flatMap((r) => r.expect.flatMap((e) => [r.original.sid, e.date])),
    ...c.checkOn.flatMap((d) => [c.sid, d]),
  ];
  for (let i = 0; i < dates.length; i += 2) {
    assert.ok(pricesBySid.get(dates[i]!)!.some((r) => r.date === dates[i + 1]), `${dates[i]} trades on ${dates[i + 1]}`);
  }
});

DemoData('the fundamentals facts hold under the §7.2 rule (cutoff 16:00 New York)', () => {
  const value = (sid: string, field: string, date: string, asOf?: number) => pointInTime(vintagesBySidField.get(`${sid} ${field}`)!, date, asOf);
  for (const p of DEMO_FACTS.publications) {
    assert.is(value(p.sid, p.field, p.absentOn), p.previous.value, `${p.case}: ${p.absentOn}`);
    assert.is(value(p.sid, p.field, p.presentOn), p.value, `${p.case}: ${p.presentOn}`);
  }
  for (const r of [DEMO_FACTS.restatement, DEMO_FACTS.restatementLatest]) {
    for (const e of r.expect) assert.is(value(r.original.sid, r.original.field, e.date), e.value, `${r.case}: ${e.date}`);
  }
  // Old period restated: on the day after, a "latest published_at wins" bug would show it; §7.2 shows the newer period.
  assert.is(DEMO_FACTS.restatement.expect.at(-1)!.value, DEMO_FACTS.restatement.newer!.value);
  assert.ok(DEMO_FACTS.restatement.restated.value !== DEMO_FACTS.restatement.newer!.value);

  const c = DEMO_FACTS.vendorCorrection;
  const before = Date.parse(c.recordedAt) - 1000;
  for (const day of c.checkOn) {
    assert.is(value(c.sid, c.field, day), c.correctedValue, `${day}, no asOf`);
    assert.is(value(c.sid, c.field, day, Date.parse(c.recordedAt)), c.correctedValue, `${day}, asOf = recordedAt`);
    assert.is(value(c.sid, c.field, day, before), c.originalValue, `${day}, asOf before the correction`);
    assert.is(value(c.sid, c.field, day, Date.parse(c.originalRecordedAt)), c.originalValue, `${day}, asOf = original recorded_at`);
    assert.ok(value(c.sid, c.field, day, Date.parse(c.originalRecordedAt) - 1000) !== c.originalValue, `${day}, asOf before the report`);
  }
});

// ---------------------------------------------------------------------------------------
// Macro

DemoData('macro: ALFRED-style vintages per series, released after the period, revised later', () => {
  assert.equal([...new Set(demo.macro.rows.map((r) => r.series))], DEMO_FACTS.macroSeries);
  assert.equal(DEMO_FACTS.macroSeries, ['CPI', 'GDP', 'GDPQ', 'UNRATE']);
  const length: Record<string, number> = { CPI: 1, UNRATE: 1, GDPQ: 3, GDP: 12 };
  const observations = groupBy(demo.macro.rows, (r) => `${r.series} ${r.period}`);
  const revisions: Record<string, number[]> = {};
  for (const [key, rows] of observations) {
    const series = rows[0]!.series!;
    const period = rows[0]!.period!;
    assert.ok(/^\d{4}-\d{2}-01$/.test(period), key);
    for (const r of rows) {
      assert.ok(validNewYorkTime(r.realtime_start!), `${key} ${r.realtime_start}`);
      assert.ok(Number.isFinite(Number(r.value)) && Number(r.value) > 0, `${key} ${r.value}`);
      assert.ok(r.realtime_start!.slice(0, 10) <= LAST_PUBLICATION_DATE, key);
    }
    // First released after the period ended; vintages in realtime_start order, each another value.
    const periodEnd = isoDate(dayNumber(new Date(Date.UTC(Number(period.slice(0, 4)), Number(period.slice(5, 7)) - 1 + length[series]!, 1)).toISOString().slice(0, 10)));
    assert.ok(rows[0]!.realtime_start!.slice(0, 10) > periodEnd, `${key} released after ${periodEnd}`);
    for (let i = 1; i < rows.length; i++) {
      assert.ok(avail(rows[i]!.realtime_start!) > avail(rows[i - 1]!.realtime_start!), `${key}: ordered by realtime_start`);
      assert.ok(rows[i]!.value !== rows[i - 1]!.value, `${key}: a revision changes the value`);
    }
    assert.ok(rows.length <= 4, `${key}: at most three revisions`);
    (revisions[series] ??= []).push(rows.length - 1);
    if (avail(rows[0]!.realtime_start!) < Date.parse('2019-12-01T00:00:00Z')) assert.ok(rows.length >= 2, `${key} was revised`);
  }
  // Realistic releases: CPI and GDPQ at 08:30 New York time, GDP and UNRATE as dates (like FRED).
  for (const r of demo.macro.rows) {
    const timed = r.series === 'CPI' || r.series === 'GDPQ';
    assert.is(TIMESTAMP.exec(r.realtime_start!)?.[2], timed ? '08:30' : undefined, `${r.series} ${r.realtime_start}`);
  }
  assert.equal(Object.fromEntries(Object.entries(revisions).map(([k, v]) => [k, v.length])), { CPI: 204, GDP: 17, GDPQ: 68, UNRATE: 204 });
  // Macro rows are sorted by series, period, realtime_start.
  const sorted = [...demo.macro.rows].sort(
    (a, b) => (a.series! < b.series! ? -1 : a.series! > b.series! ? 1 : 0) || (a.period! < b.period! ? -1 : a.period! > b.period! ? 1 : 0) || avail(a.realtime_start!) - avail(b.realtime_start!),
  );
  assert.equal(demo.macro.rows, sorted);
  // Levels in the right ballpark.
  const latest = (series: string, period: string) => Number(observations.get(`${series} ${period}`)!.at(-1)!.value);
  assert.ok(latest('CPI', '2010-01-01') > 210 && latest('CPI', '2010-01-01') < 225);
  assert.ok(latest('UNRATE', '2009-10-01') > 9 && latest('UNRATE', '2020-04-01') > 13);
  assert.ok(latest('GDPQ', '2020-04-01') < latest('GDPQ', '2020-01-01') * 0.95, 'the 2020 slump');
});

DemoData('macro: the GDP 2018 vintage fact is in macro.csv exactly and holds under §7.2', () => {
  const f = DEMO_FACTS.macroVintage;
  assert.equal([f.series, f.period, f.first.realtimeStart, f.revised.realtimeStart], ['GDP', '2018-01-01', '2019-03-28', '2019-07-26']);
  const rows = demo.macro.rows.filter((r) => r.series === f.series && r.period === f.period);
  assert.equal(rows.slice(0, 2).map((r) => [r.value, r.realtime_start]), [
    [String(f.first.value), f.first.realtimeStart],
    [String(f.revised.value), f.revised.realtimeStart],
  ]);
  const gdp = demo.macro.rows.filter((r) => r.series === 'GDP').map(macroVintage);
  for (const e of f.expect) assert.is(pointInTime(gdp, e.date), e.value, e.date);
  assert.is(pointInTime(gdp, '2019-05-01'), f.first.value);
  assert.is(pointInTime(gdp, '2019-08-01'), f.revised.value);
  // A date-only release shows from the next panel date: on 2019-03-28 itself it is still 2017's value.
  assert.ok(pointInTime(gdp, '2019-03-28') !== f.first.value);
});

DemoData.run();
