/**
 * Synthetic vendor files that behave like CRSP-style data (DESIGN §5, §7.1, §7.2): survivors
 * and dead companies, IPOs, mergers and performance delistings with and without a vendor
 * delisting return, ticker changes and reuse, halts, index memberships that change, quarterly
 * fundamentals with publication times, restatements and a later vendor correction file,
 * ALFRED-style macro vintages, and earnings-call transcripts in two layouts (DESIGN §7.3) whose
 * turns are known. Everything comes from seeded PRNG streams: the same seed and scale give
 * the same bytes.
 *
 * @example
 *   const files = await writeDemoData('/tmp/demo', { scale: 1, seed: 42 });
 *   // files.prices === '/tmp/demo/prices.csv'; DEMO_FACTS says where the special cases are.
 *   // files.fundamentals === ['/tmp/demo/fundamentals.csv', '/tmp/demo/fundamentals-correction.csv']
 *   // files.transcripts === '/tmp/demo/transcripts.jsonl'; SAMPLE_CALLS open it, with their turns.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ValidationError } from '../shared/errors.ts';
import { DEMO_FACTS, type DemoExchange, type DemoSecurityFact } from './demo-facts.ts';
import { FUNDAMENTALS_HEADER, QUARTER_ENDS, fundamentalsCsv, quarterIndex } from './demo-fundamentals.ts';
import { MACRO_HEADER, macroCsv } from './demo-macro.ts';
import { generateTranscripts } from './demo-transcripts.ts';
import { Random, STREAM, streamSeed } from './random.ts';
import { dayNumber, isoDate, nextTradingDay, tradingDayOnOrAfter, tradingDays } from './trading-calendar.ts';

export { DEMO_FACTS } from './demo-facts.ts';
export { CORRECTION_RECORDED_AT, LAST_PUBLICATION_DATE } from './demo-fundamentals.ts';
export { SAMPLE_CALLS, TRANSCRIPT_KEYS } from './demo-transcripts.ts';
export type { ExpectedTurn, SampleCall, SampleTurn } from './demo-transcripts.ts';
export type {
  DemoCorrectionFact,
  DemoDelistingFact,
  DemoExchange,
  DemoExpectation,
  DemoFacts,
  DemoFundamentalField,
  DemoFundamentalRow,
  DemoMacroVintage,
  DemoMacroVintageFact,
  DemoMembershipFact,
  DemoPublicationFact,
  DemoRestatementFact,
  DemoSecurityFact,
  DemoTickerSpan,
} from './demo-facts.ts';

export interface DemoOptions {
  /** Universe size: exactly `round(300 × scale)` securities; index sizes scale with it. */
  scale?: number;
  /** PRNG seed (an integer). */
  seed?: number;
}

/**
 * Absolute paths of the files written, keyed by the dataset they are for (DESIGN §5), in the
 * order to ingest them: `hippo ingest <key> <path…>`. `fundamentals` has two files, the
 * vendor's history and a later correction file (its own recorded_at, 2024-06-01); ingest them
 * in that order, e.g. `hippo ingest fundamentals fundamentals.csv fundamentals-correction.csv`.
 * `transcripts` is JSON Lines (keys TRANSCRIPT_KEYS), not CSV.
 */
export interface DemoFiles {
  securities: string;
  prices: string;
  symbols: string;
  memberships: string;
  /** [fundamentals.csv, fundamentals-correction.csv] */
  fundamentals: string[];
  macro: string;
  /** transcripts.jsonl */
  transcripts: string;
}

export const DEFAULT_DEMO_OPTIONS: Required<DemoOptions> = { scale: 1, seed: 42 };

/** The CSV headers; transcripts.jsonl has none (its objects have the keys TRANSCRIPT_KEYS). */
export const DEMO_HEADERS = {
  securities: 'sid,ticker,name,exchange,listed_on,delisted_on,delist_code,delist_return',
  prices: 'sid,date,close,ret,volume',
  symbols: 'sid,ticker,valid_from,valid_to',
  memberships: 'index_name,sid,added_on,removed_on',
  /** fundamentals.csv and fundamentals-correction.csv */
  fundamentals: FUNDAMENTALS_HEADER,
  macro: MACRO_HEADER,
} as const;

const SECURITIES_PER_SCALE = 300;
const LARGECAP_PER_SCALE = 100;
const SMALLCAP_PER_SCALE = 80;
/** Share of random securities already listed on the first day (the rest IPO later). */
const LISTED_AT_START = 0.58;
/** Share of random securities that delist before the last day. */
const DELIST_PROBABILITY = 0.4;
const MIN_TRADING_DAYS = 60;
/** Reflecting bounds of the price walk: a rounded close is never 0, and never absurd. */
const LOG_PRICE_FLOOR = Math.log(0.02);
const LOG_PRICE_CEILING = Math.log(1500);

/**
 * Writes securities.csv, prices.csv, symbols.csv, memberships.csv, fundamentals.csv,
 * fundamentals-correction.csv, macro.csv and transcripts.jsonl into `dir` (created if missing)
 * and returns their absolute paths. Scale 1 takes about a second and a half.
 *
 * @example
 *   await writeDemoData(dir, { scale: 2 }); // 600 securities, LARGECAP ≈ 200 members
 */
export async function writeDemoData(dir: string, options: DemoOptions = {}): Promise<DemoFiles> {
  const { scale, seed } = resolveOptions(options);
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const files: DemoFiles = {
    securities: join(root, 'securities.csv'),
    prices: join(root, 'prices.csv'),
    symbols: join(root, 'symbols.csv'),
    memberships: join(root, 'memberships.csv'),
    fundamentals: [join(root, 'fundamentals.csv'), join(root, 'fundamentals-correction.csv')],
    macro: join(root, 'macro.csv'),
    transcripts: join(root, 'transcripts.jsonl'),
  };

  const calendar = buildCalendar();
  const securities = buildUniverse(seed, scale, calendar);
  await writeFile(files.securities, csv(DEMO_HEADERS.securities, securities.map(securityLine)));
  await writeFile(files.symbols, csv(DEMO_HEADERS.symbols, securities.flatMap(symbolLines)));
  const marketCaps = await writePrices(files.prices, securities, calendar, seed);
  const memberships = reconstitute(securities, calendar, marketCaps, scale);
  await writeFile(files.memberships, csv(DEMO_HEADERS.memberships, memberships.map(membershipLine)));
  const handPlaced = DEMO_FACTS.securities.length;
  const periods = QUARTER_ENDS.length;
  const fundamentals = fundamentalsCsv(
    securities.map((s) => ({
      sid: s.sid,
      ordinal: s.ordinal,
      listedOn: s.listedOn,
      delistedOn: s.delistedOn,
      performance: s.kind === 'performance',
      handPlaced: s.ordinal < handPlaced,
      caps: marketCaps.periodCaps.subarray(s.ordinal * periods, (s.ordinal + 1) * periods),
      firstCap: marketCaps.firstCaps[s.ordinal]!,
      shares: marketCaps.shares[s.ordinal]!,
    })),
    seed,
  );
  const [fundamentalsPath, correctionPath] = files.fundamentals as [string, string];
  await writeFile(fundamentalsPath, fundamentals.fundamentals);
  await writeFile(correctionPath, fundamentals.correction);
  await writeFile(files.macro, macroCsv(seed));
  const transcripts = generateTranscripts(
    securities.map((s) => ({ sid: s.sid, name: s.name, tickers: s.spans, listedOn: s.listedOn, delistedOn: s.delistedOn })),
    seed,
  );
  await writeFile(files.transcripts, transcripts.lines.map((l) => `${l}\n`).join(''));
  return files;
}

function resolveOptions(options: DemoOptions): Required<DemoOptions> {
  const { scale, seed } = { ...DEFAULT_DEMO_OPTIONS, ...options };
  const minScale = (DEMO_FACTS.securities.length + 1) / SECURITIES_PER_SCALE;
  if (!Number.isFinite(scale) || scale < minScale) {
    throw new ValidationError(`demo scale must be a number ≥ ${minScale.toFixed(3)}`, [
      { field: 'scale', value: scale, message: 'too small or not a number' },
    ]);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new ValidationError('demo seed must be an integer', [{ field: 'seed', value: seed, message: 'not an integer' }]);
  }
  return { scale, seed };
}

// ---------------------------------------------------------------------------------------
// Calendar

interface Calendar {
  readonly days: readonly string[];
  readonly index: ReadonlyMap<string, number>;
}

function buildCalendar(): Calendar {
  const days = tradingDays(DEMO_FACTS.firstDate, DEMO_FACTS.lastDate);
  return { days, index: new Map(days.map((d, i) => [d, i])) };
}

/** Index of the last trading day ≤ `iso` (CRSP: DLSTDT is the last trading day, but vendors slip). */
function lastIndexOnOrBefore(calendar: Calendar, iso: string): number {
  let lo = 0;
  let hi = calendar.days.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (calendar.days[mid]! <= iso) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------
// Universe

type Kind = 'survivor' | 'merger' | 'performance' | 'liquidation';

interface TickerSpan {
  ticker: string;
  from: string;
  to: string | null;
}

interface Security {
  sid: string;
  /** 0-based position; also the seed item of the security's price stream. */
  ordinal: number;
  name: string;
  exchange: DemoExchange;
  listedOn: string;
  delistedOn: string | null;
  delistCode: number | null;
  delistReturn: number | null;
  kind: Kind;
  /** Trading-day indices of the first and last prices row. */
  firstIndex: number;
  lastIndex: number;
  spans: TickerSpan[];
  halts: ReadonlySet<number>;
  /** Hand-placed index memberships; the ranked reconstitution leaves it alone. */
  pinned: boolean;
}

// CRSP delisting codes: 2xx mergers, 3xx exchanges, 4xx liquidations, 5xx dropped by the exchange.
const MERGER_CODES = [231, 231, 231, 233, 233, 241, 251, 331];
const LIQUIDATION_CODES = [450, 470];
const PERFORMANCE_CODES = [500, 520, 551, 552, 560, 561, 570, 574, 580, 584];

/** [merger, performance] probabilities of a delisting, by exchange; the rest are liquidations. */
const DELIST_MIX: Record<DemoExchange, readonly [number, number]> = {
  NYSE: [0.65, 0.3],
  AMEX: [0.4, 0.55],
  NASDAQ: [0.45, 0.5],
};

function kindOfCode(code: number | null): Kind {
  if (code === null) return 'survivor';
  if (code >= 500) return 'performance';
  if (code >= 400) return 'liquidation';
  return 'merger';
}

function sidOf(ordinal: number): string {
  return `S${String(ordinal + 1).padStart(5, '0')}`;
}

function buildUniverse(seed: number, scale: number, calendar: Calendar): Security[] {
  const book = new TickerBook();
  const securities = DEMO_FACTS.securities.map((fact, ordinal) => specialSecurity(fact, ordinal, calendar, book));
  const count = Math.round(SECURITIES_PER_SCALE * scale);
  for (let ordinal = securities.length; ordinal < count; ordinal++) {
    securities.push(randomSecurity(ordinal, new Random(streamSeed(seed, STREAM.attributes, ordinal)), calendar, book));
  }
  return securities;
}

function specialSecurity(fact: DemoSecurityFact, ordinal: number, calendar: Calendar, book: TickerBook): Security {
  if (fact.sid !== sidOf(ordinal)) throw new Error(`DEMO_FACTS.securities[${ordinal}] must be ${sidOf(ordinal)}`);
  const change = DEMO_FACTS.tickerChange;
  const spans: TickerSpan[] =
    fact.sid === change.sid
      ? [change.old, change.new].map((s) => ({ ticker: s.ticker, from: s.validFrom, to: s.validTo }))
      : [{ ticker: fact.ticker, from: fact.listedOn, to: fact.delistedOn }];
  for (const span of spans) book.add(span, true);

  const firstIndex = fact.listedOn <= DEMO_FACTS.firstDate ? 0 : calendar.index.get(fact.listedOn);
  if (firstIndex === undefined) throw new Error(`${fact.sid}: listed_on ${fact.listedOn} is not a trading day`);
  const lastIndex = fact.delistedOn === null ? calendar.days.length - 1 : lastIndexOnOrBefore(calendar, fact.delistedOn);
  const halts = new Set<number>();
  for (const halt of DEMO_FACTS.halts.filter((h) => h.sid === fact.sid)) {
    const i = calendar.index.get(halt.date);
    if (i === undefined || i <= firstIndex || i >= lastIndex) {
      throw new Error(`${fact.sid}: halt ${halt.date} must be a trading day strictly inside its listed life`);
    }
    halts.add(i);
  }
  const pinned = [DEMO_FACTS.largecapRemoval, DEMO_FACTS.largecapDelisting].some((m) => m.sid === fact.sid);
  return {
    sid: fact.sid,
    ordinal,
    name: fact.name,
    exchange: fact.exchange,
    listedOn: fact.listedOn,
    delistedOn: fact.delistedOn,
    delistCode: fact.delistCode,
    delistReturn: fact.delistReturn,
    kind: kindOfCode(fact.delistCode),
    firstIndex,
    lastIndex,
    spans,
    halts,
    pinned,
  };
}

function randomSecurity(ordinal: number, rng: Random, calendar: Calendar, book: TickerBook): Security {
  const { days } = calendar;
  const last = days.length - 1;
  const u = rng.next();
  const exchange: DemoExchange = u < 0.35 ? 'NYSE' : u < 0.45 ? 'AMEX' : 'NASDAQ';

  const ipo = !rng.chance(LISTED_AT_START);
  const firstIndex = ipo ? rng.int(1, last - 2 * MIN_TRADING_DAYS) : 0;
  const listedOn = ipo
    ? days[firstIndex]!
    : tradingDayOnOrAfter(isoDate(rng.int(dayNumber('1975-01-02'), dayNumber('2004-12-30'))));

  let kind: Kind = 'survivor';
  let lastIndex = last;
  let delistCode: number | null = null;
  let delistReturn: number | null = null;
  if (rng.chance(DELIST_PROBABILITY)) {
    // A delisting leaves one trading day after it, so a removal from an index stays in range.
    lastIndex = rng.int(firstIndex + MIN_TRADING_DAYS, last - 1);
    const [merger, performance] = DELIST_MIX[exchange];
    const v = rng.next();
    kind = v < merger ? 'merger' : v < merger + performance ? 'performance' : 'liquidation';
    ({ delistCode, delistReturn } = vendorDelisting(kind, rng));
  }
  const delistedOn = kind === 'survivor' ? null : days[lastIndex]!;

  const spans: TickerSpan[] = [];
  const reuse = ipo && rng.chance(0.12);
  if (lastIndex - firstIndex >= 500 && rng.chance(0.04)) {
    const changeDay = days[rng.int(firstIndex + 200, lastIndex - 200)]!;
    const oldTo = isoDate(dayNumber(changeDay) - 1);
    spans.push(book.take(rng, exchange, listedOn, oldTo, reuse), book.take(rng, exchange, changeDay, delistedOn, false));
  } else {
    spans.push(book.take(rng, exchange, listedOn, delistedOn, reuse));
  }

  return {
    sid: sidOf(ordinal),
    ordinal,
    name: companyName(rng),
    exchange,
    listedOn,
    delistedOn,
    delistCode,
    delistReturn,
    kind,
    firstIndex,
    lastIndex,
    spans,
    halts: new Set(),
    pinned: false,
  };
}

/** The code and the vendor's return: present for most mergers, missing for about half of the performance delistings. */
function vendorDelisting(kind: Kind, rng: Random): { delistCode: number; delistReturn: number | null } {
  switch (kind) {
    case 'merger':
      return { delistCode: rng.pick(MERGER_CODES), delistReturn: rng.chance(0.88) ? round(0.004 + 0.03 * rng.normal(), 6) : null };
    case 'liquidation':
      return { delistCode: rng.pick(LIQUIDATION_CODES), delistReturn: round(rng.uniform(-0.6, 0.2), 6) };
    case 'performance':
      return {
        delistCode: rng.pick(PERFORMANCE_CODES),
        delistReturn: rng.chance(0.45) ? (rng.chance(0.1) ? -1 : round(rng.uniform(-0.9, 0.1), 6)) : null,
      };
    case 'survivor':
      throw new RangeError('a survivor has no delisting');
  }
}

const NAME_FIRST = [
  'Atlas', 'Beacon', 'Cedar', 'Summit', 'Harbor', 'Pioneer', 'Northern', 'Pacific', 'Silver', 'Evergreen',
  'Liberty', 'Keystone', 'Frontier', 'Sterling', 'Horizon', 'Crescent', 'Apex', 'Blue Ridge', 'Iron', 'Golden',
  'Prairie', 'Coastal', 'United', 'Allied', 'First', 'National', 'American', 'Continental', 'Redwood', 'Falcon',
  'Lakeshore', 'Vector', 'Orion', 'Bright', 'Trinity', 'Patriot', 'Hudson', 'Mesa', 'Sierra', 'Delta',
];
const NAME_SECOND = [
  'Energy', 'Bancorp', 'Pharmaceuticals', 'Software', 'Networks', 'Industries', 'Foods', 'Retail', 'Biosciences',
  'Semiconductor', 'Materials', 'Logistics', 'Media', 'Insurance', 'Realty', 'Health', 'Motors', 'Chemicals',
  'Capital', 'Systems', 'Devices', 'Airlines', 'Utilities', 'Mining', 'Brands', 'Telecom', 'Therapeutics', 'Steel',
  'Textiles', 'Instruments',
];
const NAME_SUFFIX = ['Inc', 'Inc', 'Corp', 'Co', 'Holdings Inc', 'Group Inc', 'Ltd', 'Corporation'];

/** No commas: the files are read by plain split-based CSV readers too. */
function companyName(rng: Random): string {
  return `${rng.pick(NAME_FIRST)} ${rng.pick(NAME_SECOND)} ${rng.pick(NAME_SUFFIX)}`;
}

/**
 * Who holds which ticker when. A ticker is unique at any one time; a random IPO sometimes
 * takes a ticker that a dead company gave up (as real exchanges do). Hand-placed tickers are
 * reserved: no random security ever takes them.
 */
class TickerBook {
  private readonly held = new Map<string, { reserved: boolean; spans: [number, number][] }>();

  add(span: TickerSpan, reserved: boolean): void {
    const entry = this.held.get(span.ticker) ?? { reserved, spans: [] };
    entry.spans.push([dayNumber(span.from), span.to === null ? Infinity : dayNumber(span.to)]);
    this.held.set(span.ticker, entry);
  }

  take(rng: Random, exchange: DemoExchange, from: string, to: string | null, reuse: boolean): TickerSpan {
    const start = dayNumber(from);
    const freed = reuse
      ? [...this.held].filter(([, e]) => !e.reserved && e.spans.every(([, end]) => end < start - 30)).map(([t]) => t)
      : [];
    let ticker = freed.length > 0 ? rng.pick(freed) : freshTicker(rng, exchange);
    while (freed.length === 0 && this.held.has(ticker)) ticker = freshTicker(rng, exchange);
    const span = { ticker, from, to };
    this.add(span, false);
    return span;
  }
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** NASDAQ tickers have four letters; NYSE and AMEX mostly three, a few one or two. */
function freshTicker(rng: Random, exchange: DemoExchange): string {
  const v = rng.next();
  const length = exchange === 'NASDAQ' ? 4 : v < 0.03 ? 1 : v < 0.2 ? 2 : 3;
  let ticker = '';
  for (let i = 0; i < length; i++) ticker += LETTERS[rng.int(0, 25)];
  return ticker;
}

// ---------------------------------------------------------------------------------------
// Prices

/** Market regimes, so the cross-section moves together (2008, 2011, 2020) as real panels do. */
const MARKET_REGIMES: readonly { from: string; to: string; drift: number; vol: number }[] = [
  { from: '2008-09-15', to: '2009-03-09', drift: -0.0028, vol: 2.8 },
  { from: '2009-03-10', to: '2009-12-31', drift: 0.0018, vol: 1.6 },
  { from: '2011-08-01', to: '2011-10-31', drift: -0.0006, vol: 1.8 },
  { from: '2020-02-24', to: '2020-03-23', drift: -0.013, vol: 3.5 },
  { from: '2020-03-24', to: '2020-08-31', drift: 0.0035, vol: 1.8 },
];

function marketReturns(seed: number, days: readonly string[]): Float64Array {
  const rng = new Random(streamSeed(seed, STREAM.market, 0));
  return Float64Array.from(days, (day) => {
    const regime = MARKET_REGIMES.find((r) => r.from <= day && day <= r.to);
    return (regime?.drift ?? 0.0003) + 0.009 * (regime?.vol ?? 1) * rng.normal();
  });
}

const ANNUAL_VOL: Record<DemoExchange, readonly [number, number]> = {
  NYSE: [0.15, 0.4],
  AMEX: [0.25, 0.6],
  NASDAQ: [0.3, 0.75],
};

/** Market caps at each rebalance: `caps[q * n + ordinal]`, NaN when not eligible; and what fundamentals scale with. */
interface MarketCaps {
  readonly rebalances: readonly number[];
  readonly caps: Float64Array;
  /** Cap on the last trading day of each QUARTER_ENDS quarter: `periodCaps[ordinal * QUARTER_ENDS.length + k]`, NaN when not listed then. */
  readonly periodCaps: Float64Array;
  /** Cap on the first prices row, and the (constant) share count, by ordinal. */
  readonly firstCaps: Float64Array;
  readonly shares: Float64Array;
}

/** The first trading day of each quarter (index reconstitution dates). */
function rebalanceIndices(days: readonly string[]): number[] {
  const quarterOf = (d: string) => d.slice(0, 4) + Math.floor((Number(d.slice(5, 7)) - 1) / 3);
  return days.flatMap((d, i) => (i === 0 || quarterOf(days[i - 1]!) !== quarterOf(d) ? [i] : []));
}

/**
 * Geometric random walk per security (beta × market + idiosyncratic, with rare jumps),
 * written row by row in sid order. Performance delisters slide in their last year; merger
 * targets jump on the announcement and then trade flat. The walk goes on through a halt:
 * the next day's ret spans the gap (close / last printed close − 1).
 */
async function writePrices(path: string, securities: readonly Security[], calendar: Calendar, seed: number): Promise<MarketCaps> {
  const { days } = calendar;
  const market = marketReturns(seed, days);
  const rebalances = rebalanceIndices(days);
  const quarterAt = new Int32Array(days.length + 1).fill(-1);
  rebalances.forEach((dayIndex, q) => (quarterAt[dayIndex] = q));
  const n = securities.length;
  const caps = new Float64Array(rebalances.length * n).fill(Number.NaN);
  const periods = QUARTER_ENDS.length;
  const periodCaps = new Float64Array(periods * n).fill(Number.NaN);
  const firstCaps = new Float64Array(n);
  const shareCounts = new Float64Array(n);
  // The quarter a day closes (it is the quarter's last trading day), else -1.
  const quarterClosed = Int32Array.from(days, (d, i) => (i === days.length - 1 || quarterIndex(days[i + 1]!) !== quarterIndex(d) ? quarterIndex(d) : -1));

  const file = await open(path, 'w');
  try {
    let chunk = `${DEMO_HEADERS.prices}\n`;
    for (const s of securities) {
      const rng = new Random(streamSeed(seed, STREAM.prices, s.ordinal));
      const ipo = s.firstIndex > 0;
      const price0 = ipo ? rng.uniform(8, 30) : Math.min(400, Math.max(1.5, Math.exp(Math.log(30) + 0.9 * rng.normal())));
      const [volLo, volHi] = ANNUAL_VOL[s.exchange];
      const sigma = rng.uniform(volLo, volHi) / Math.sqrt(252);
      const mu = (0.06 + 0.08 * rng.normal()) / 252;
      const beta = rng.uniform(0.6, 1.4);
      const typicalCap = ipo ? 8e8 : s.exchange === 'NYSE' ? 6e9 : 2e9;
      const shares = Math.exp(Math.log(typicalCap) + 1.3 * rng.normal()) / price0;
      const dailyVolume = shares * rng.uniform(0.002, 0.012);
      const announced = s.kind === 'merger' ? s.lastIndex - MIN_TRADING_DAYS : -1;
      firstCaps[s.ordinal] = price0 * shares;
      shareCounts[s.ordinal] = shares;

      let logPrice = Math.log(price0);
      let lastClose = Number.NaN;
      for (let i = s.firstIndex; i <= s.lastIndex; i++) {
        let z = 0;
        if (i > s.firstIndex) {
          z = rng.normal() * (rng.chance(0.01) ? 4 : 1);
          let drift = mu;
          let sd = sigma;
          if (s.kind === 'performance' && s.lastIndex - i < 250) {
            drift -= 0.003;
            sd *= 1.4;
          }
          if (i === announced) drift += 0.25;
          else if (announced > 0 && i > announced) sd *= 0.2;
          logPrice += drift - 0.5 * sd * sd + beta * market[i]! + sd * z;
          if (logPrice < LOG_PRICE_FLOOR) logPrice = 2 * LOG_PRICE_FLOOR - logPrice;
          else if (logPrice > LOG_PRICE_CEILING) logPrice = 2 * LOG_PRICE_CEILING - logPrice;
        }
        const volume = Math.max(100, Math.round(dailyVolume * Math.exp(0.5 * rng.normal()) * (1 + 0.3 * Math.abs(z))));

        // Ranked on the close before the rebalance day (the first day: its own close).
        const q = i === 0 ? 0 : quarterAt[i + 1]!;
        const rankedOn = i === 0 ? 0 : i + 1;
        if (q >= 0 && s.lastIndex > rankedOn) caps[q * n + s.ordinal] = Math.exp(logPrice) * shares;
        const k = quarterClosed[i]!;
        if (k >= 0 && k < periods) periodCaps[s.ordinal * periods + k] = Math.exp(logPrice) * shares;

        if (s.halts.has(i)) continue;
        const close = round(Math.exp(logPrice), 4);
        const ret = Number.isNaN(lastClose) ? '' : format(close / lastClose - 1, 6);
        lastClose = close;
        chunk += `${s.sid},${days[i]},${close},${ret},${volume}\n`;
      }
      if (chunk.length >= 1 << 20) {
        await file.write(chunk);
        chunk = '';
      }
    }
    await file.write(chunk);
  } finally {
    await file.close();
  }
  return { rebalances, caps, periodCaps, firstCaps, shares: shareCounts };
}

// ---------------------------------------------------------------------------------------
// Index memberships

interface Membership {
  indexName: string;
  sid: string;
  addedOn: string;
  removedOn: string | null;
}

/**
 * Quarterly reconstitution by market cap with a buffer (members stay while they rank within
 * 125% / 130% of the index size), so membership churns slowly as in real indices: LARGECAP
 * takes the top ranks, SMALLCAP the next ones. A member that delists leaves on the first
 * trading day after its delisting. The hand-placed memberships of DEMO_FACTS are added as
 * given and count towards LARGECAP's size.
 */
function reconstitute(securities: readonly Security[], calendar: Calendar, marketCaps: MarketCaps, scale: number): Membership[] {
  const { days } = calendar;
  const n = securities.length;
  const pinned = [DEMO_FACTS.largecapRemoval, DEMO_FACTS.largecapDelisting];
  const rows: Membership[] = pinned.map((m) => ({ indexName: m.indexName, sid: m.sid, addedOn: m.addedOn, removedOn: m.removedOn }));
  const indices = [
    { name: 'LARGECAP', size: Math.max(1, Math.round(LARGECAP_PER_SCALE * scale)), buffer: 1.25 },
    { name: 'SMALLCAP', size: Math.max(1, Math.round(SMALLCAP_PER_SCALE * scale)), buffer: 1.3 },
  ];
  const members = indices.map(() => new Map<number, string>());

  const leave = (k: number, ordinal: number, removedOn: string | null) => {
    rows.push({ indexName: indices[k]!.name, sid: securities[ordinal]!.sid, addedOn: members[k]!.get(ordinal)!, removedOn });
    members[k]!.delete(ordinal);
  };

  marketCaps.rebalances.forEach((dayIndex, q) => {
    const day = days[dayIndex]!;
    members.forEach((current, k) => {
      for (const ordinal of [...current.keys()]) {
        const s = securities[ordinal]!;
        if (s.delistedOn !== null && s.lastIndex < dayIndex) leave(k, ordinal, nextTradingDay(s.delistedOn));
      }
    });

    let ranked = securities
      .filter((s) => !s.pinned && !Number.isNaN(marketCaps.caps[q * n + s.ordinal]!))
      .map((s) => s.ordinal)
      .sort((a, b) => marketCaps.caps[q * n + b]! - marketCaps.caps[q * n + a]! || a - b);
    const pinnedNow = pinned.filter((m) => m.addedOn <= day && day < m.removedOn).length;

    indices.forEach((index, k) => {
      const size = index.size - (k === 0 ? pinnedNow : 0);
      const rank = new Map(ranked.map((ordinal, r) => [ordinal, r]));
      const chosen = new Set(
        [...members[k]!.keys()]
          .filter((o) => (rank.get(o) ?? Infinity) < Math.floor(index.buffer * size))
          .sort((a, b) => rank.get(a)! - rank.get(b)!)
          .slice(0, size),
      );
      for (const ordinal of ranked) {
        if (chosen.size >= size) break;
        chosen.add(ordinal);
      }
      for (const ordinal of [...members[k]!.keys()]) if (!chosen.has(ordinal)) leave(k, ordinal, day);
      for (const ordinal of chosen) if (!members[k]!.has(ordinal)) members[k]!.set(ordinal, day);
      ranked = ranked.filter((o) => !chosen.has(o));
    });
  });

  members.forEach((current, k) => {
    for (const ordinal of [...current.keys()]) {
      const s = securities[ordinal]!;
      leave(k, ordinal, s.delistedOn === null ? null : nextTradingDay(s.delistedOn));
    }
  });
  return rows.sort(
    (a, b) => cmp(a.indexName, b.indexName) || cmp(a.addedOn, b.addedOn) || cmp(a.sid, b.sid),
  );
}

// ---------------------------------------------------------------------------------------
// CSV text

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function round(x: number, decimals: 4 | 6): number {
  const f = decimals === 4 ? 1e4 : 1e6;
  return Math.round(x * f) / f;
}

/** At most `decimals` decimals, no exponent, no trailing zeros (String(-0) is '0'). */
function format(x: number, decimals: 4 | 6): string {
  return String(round(x, decimals));
}

function cell(value: string | number | null): string {
  return value === null ? '' : String(value);
}

function csv(header: string, lines: readonly string[]): string {
  return `${header}\n${lines.map((l) => `${l}\n`).join('')}`;
}

function securityLine(s: Security): string {
  const ticker = s.spans[s.spans.length - 1]!.ticker;
  return [s.sid, ticker, s.name, s.exchange, s.listedOn, s.delistedOn, s.delistCode, s.delistReturn].map(cell).join(',');
}

function symbolLines(s: Security): string[] {
  return s.spans.map((span) => [s.sid, span.ticker, span.from, span.to].map(cell).join(','));
}

function membershipLine(m: Membership): string {
  return [m.indexName, m.sid, m.addedOn, m.removedOn].map(cell).join(',');
}
