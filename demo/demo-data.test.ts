import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_FACTS, DEMO_HEADERS, writeDemoData, type DemoFiles, type DemoOptions } from './demo-data.ts';
import { dayNumber, isTradingDay, nextTradingDay, tradingDays } from './trading-calendar.ts';

/** A split-based CSV reader: the demo files have no quoted fields. */
interface Table {
  header: string;
  rows: Record<string, string>[];
}

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

interface Written {
  files: DemoFiles;
  bytes: Record<keyof DemoFiles, Buffer>;
}

interface Demo extends Written {
  securities: Table;
  prices: Table;
  symbols: Table;
  memberships: Table;
}

const KEYS = ['securities', 'prices', 'symbols', 'memberships'] as const;

async function write(dir: string, options: DemoOptions = {}): Promise<Written> {
  const files = await writeDemoData(dir, options);
  const bytes = Object.fromEntries(await Promise.all(KEYS.map(async (k) => [k, await readFile(files[k])]))) as Written['bytes'];
  return { files, bytes };
}

function load(written: Written): Demo {
  const table = (k: keyof DemoFiles) => parse(written.bytes[k].toString('utf8'));
  return { ...written, securities: table('securities'), prices: table('prices'), symbols: table('symbols'), memberships: table('memberships') };
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

const DemoData = suite('demo-data');

let root = '';
let demo: Demo;
let generateMs = 0;
let pricesBySid: Map<string, Record<string, string>[]>;
let securityBySid: Map<string, Record<string, string>>;

DemoData.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hippo-demo-'));
  const started = performance.now();
  const written = await write(join(root, 'a'));
  generateMs = performance.now() - started;
  demo = load(written);
  pricesBySid = groupBy(demo.prices.rows, (r) => r.sid!);
  securityBySid = new Map(demo.securities.rows.map((r) => [r.sid!, r]));
});

DemoData.after(async () => {
  await rm(root, { recursive: true, force: true });
});

DemoData('writes four files with absolute paths and exact headers', () => {
  assert.equal(demo.files, {
    securities: join(root, 'a', 'securities.csv'),
    prices: join(root, 'a', 'prices.csv'),
    symbols: join(root, 'a', 'symbols.csv'),
    memberships: join(root, 'a', 'memberships.csv'),
  });
  assert.is(demo.securities.header, 'sid,ticker,name,exchange,listed_on,delisted_on,delist_code,delist_return');
  assert.is(demo.prices.header, 'sid,date,close,ret,volume');
  assert.is(demo.symbols.header, 'sid,ticker,valid_from,valid_to');
  assert.is(demo.memberships.header, 'index_name,sid,added_on,removed_on');
  assert.equal(DEMO_HEADERS, {
    securities: demo.securities.header,
    prices: demo.prices.header,
    symbols: demo.symbols.header,
    memberships: demo.memberships.header,
  });
  assert.ok(generateMs < 10_000, `scale 1 took ${generateMs.toFixed(0)} ms`);
});

DemoData('the same seed and scale give byte-identical files; another seed does not', async () => {
  const again = await write(join(root, 'again'), { scale: 1, seed: 42 });
  for (const k of KEYS) assert.ok(again.bytes[k].equals(demo.bytes[k]), `${k}.csv differs between two runs`);
  const other = await write(join(root, 'other'), { seed: 7 });
  assert.not.ok(other.bytes.prices.equals(demo.bytes.prices));
  assert.not.ok(other.bytes.securities.equals(demo.bytes.securities));
  // The hand-placed rows do not depend on the seed.
  assert.equal(parse(other.bytes.securities.toString('utf8')).rows.slice(0, 9), demo.securities.rows.slice(0, 9));
});

DemoData('row counts of the default seed', () => {
  assert.is(demo.securities.rows.length, 300);
  assert.is(demo.prices.rows.length, 793_664);
  assert.is(demo.symbols.rows.length, 306);
  assert.is(demo.memberships.rows.length, 403);
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
});

DemoData.run();
