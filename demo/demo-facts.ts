export type DemoExchange = 'NYSE' | 'AMEX' | 'NASDAQ';

/** One hand-placed securities.csv row (null = empty cell). */
export interface DemoSecurityFact {
  readonly sid: string;
  /** The current ticker (the last symbols span). */
  readonly ticker: string;
  readonly name: string;
  readonly exchange: DemoExchange;
  readonly listedOn: string;
  readonly delistedOn: string | null;
  readonly delistCode: number | null;
  readonly delistReturn: number | null;
}

export interface DemoTickerSpan {
  readonly sid: string;
  readonly ticker: string;
  readonly validFrom: string;
  /** Inclusive last day; null = open. */
  readonly validTo: string | null;
}

/** A delisting and what §7.1 makes of it in an `equity-panel` covering the whole span. */
export interface DemoDelistingFact {
  readonly case: string;
  readonly sid: string;
  readonly ticker: string;
  readonly exchange: DemoExchange;
  /** securities.delisted_on as the vendor wrote it (may be a non-trading day). */
  readonly delistedOn: string;
  /** The last prices row: the panel date the delisting return applies on. */
  readonly lastPriceDate: string;
  readonly delistCode: number;
  /** The vendor's delist_return; null = empty cell. */
  readonly delistReturn: number | null;
  /** `delist_ret` under `delisting = shumway` (null = empty). */
  readonly shumwayDlret: number | null;
  readonly imputed: boolean;
}

export interface DemoMembershipFact {
  readonly indexName: string;
  readonly sid: string;
  readonly ticker: string;
  readonly addedOn: string;
  /** First day NOT a member. */
  readonly removedOn: string;
  /** The last trading day the sid is a member. */
  readonly lastMemberDay: string;
}

/** The fundamentals fields: revenue, net_income and book_value in USD millions, eps in USD per share. */
export type DemoFundamentalField = 'book_value' | 'eps' | 'net_income' | 'revenue';

/** One fundamentals.csv row, exactly as written (the value printed with `String(value)`). */
export interface DemoFundamentalRow {
  readonly sid: string;
  readonly field: DemoFundamentalField;
  readonly periodEnd: string;
  readonly value: number;
  /** A timestamp with its New York offset, or a date (available at the end of that day). */
  readonly publishedAt: string;
}

/** A panel date and the value §7.2 gives that field (or series) on it. */
export interface DemoExpectation {
  readonly date: string;
  readonly value: number;
}

/**
 * A quarterly report whose publication time decides the first panel date that shows it. The
 * whole report (all four fields of that sid and period) has this published_at.
 */
export interface DemoPublicationFact extends DemoFundamentalRow {
  readonly case: string;
  /** The last panel date on which the report is not visible yet: the panel shows `previous.value`. */
  readonly absentOn: string;
  /** The first panel date that shows `value`. */
  readonly presentOn: string;
  /** The same field for the quarter before: the latest visible value on `absentOn`. */
  readonly previous: DemoFundamentalRow;
}

/** A restatement: another row for the same sid, field and period_end with a later published_at. */
export interface DemoRestatementFact {
  readonly case: string;
  readonly original: DemoFundamentalRow;
  readonly restated: DemoFundamentalRow;
  /** A later period of the same field, visible before the restatement is published (null: none). */
  readonly newer: DemoFundamentalRow | null;
  readonly expect: readonly DemoExpectation[];
}

/**
 * A vendor correction: fundamentals-correction.csv re-states the key (sid, field, period_end,
 * published_at) of a fundamentals.csv row with another value and a later recorded_at.
 */
export interface DemoCorrectionFact {
  readonly case: string;
  readonly sid: string;
  readonly field: DemoFundamentalField;
  readonly periodEnd: string;
  readonly publishedAt: string;
  /** The value in fundamentals.csv, recorded at `originalRecordedAt`. */
  readonly originalValue: number;
  readonly originalRecordedAt: string;
  /** The value in fundamentals-correction.csv, recorded at `recordedAt`. */
  readonly correctedValue: number;
  readonly recordedAt: string;
  /**
   * Panel dates on which this report is the latest visible one: a run with
   * `originalRecordedAt ≤ asOf < recordedAt` shows `originalValue`, with `asOf ≥ recordedAt`
   * (or no asOf) `correctedValue`.
   */
  readonly checkOn: readonly string[];
}

export interface DemoMacroVintage {
  readonly value: number;
  /** realtime_start exactly as written. */
  readonly realtimeStart: string;
}

/** An ALFRED-style observation released once and revised later (macro.csv). */
export interface DemoMacroVintageFact {
  readonly case: string;
  readonly series: string;
  readonly period: string;
  readonly first: DemoMacroVintage;
  readonly revised: DemoMacroVintage;
  /** The series' value on panel dates (the observation is the latest visible period there). */
  readonly expect: readonly DemoExpectation[];
}

export interface DemoFacts {
  /** First and last trading day of the prices file. */
  readonly firstDate: string;
  readonly lastDate: string;
  /** Every hand-placed security; they take the first sids, before the random ones. */
  readonly securities: readonly DemoSecurityFact[];
  /** Case 1: a performance delisting in 2007, vendor return missing, NYSE. */
  readonly delisted2007: DemoDelistingFact;
  /** Case 2: `ACME` is company A's ticker until it delists, then company B's after its IPO. */
  readonly tickerReuse: { readonly ticker: string; readonly first: DemoTickerSpan; readonly second: DemoTickerSpan };
  /** Case 3: one sid changes ticker; securities.ticker holds the new one. */
  readonly tickerChange: { readonly sid: string; readonly old: DemoTickerSpan; readonly new: DemoTickerSpan };
  /** Case 4: trading days on which a listed security has no prices row. */
  readonly halts: readonly { readonly sid: string; readonly date: string }[];
  /** Case 5: delisted_on is a Saturday; prices stop on the Friday before. */
  readonly saturdayDelisting: DemoDelistingFact;
  /** Case 6 (and 1, 5): every hand-placed delisting. */
  readonly delistings: readonly DemoDelistingFact[];
  /** Case 7: removed from LARGECAP while still listed (it keeps trading to the end). */
  readonly largecapRemoval: DemoMembershipFact;
  /** A LARGECAP member that leaves the index because it delists (a merger). */
  readonly largecapDelisting: DemoMembershipFact;

  /** fundamentals.csv has one row per field for each quarterly report. */
  readonly fundamentalFields: readonly DemoFundamentalField[];
  /** Published 16:05 EDT, after the cutoff: absent that day, present the next trading day. */
  readonly afterClose: DemoPublicationFact;
  /** Published 15:59 EST on the Monday after daylight time ended: present the same day. */
  readonly beforeCutoff: DemoPublicationFact;
  /** Published exactly 16:00:00 (≤ cutoff): present the same day. */
  readonly atCutoff: DemoPublicationFact;
  /** Published 16:01 EST: absent that day, present the next. */
  readonly justAfterCutoff: DemoPublicationFact;
  /** Published 07:30, before the open: present the same day. */
  readonly beforeOpen: DemoPublicationFact;
  /** Published as a date only, on a Thursday: available at the end of that day, so first shown on Friday. */
  readonly dateOnly: DemoPublicationFact;
  /** Published as a date only, on a Saturday: first shown on the Monday. */
  readonly saturdayDateOnly: DemoPublicationFact;
  /** Every publication fact above. */
  readonly publications: readonly DemoPublicationFact[];
  /** An old period restated after a newer period was published: the newer period's value stays. */
  readonly restatement: DemoRestatementFact;
  /** The latest visible period restated before the next report: the restated value replaces it from its publication on. */
  readonly restatementLatest: DemoRestatementFact;
  /** A vendor correction recorded 2024-06-01 in a later file. */
  readonly vendorCorrection: DemoCorrectionFact;
  /** The series in macro.csv: CPI and UNRATE monthly, GDP annual, GDPQ quarterly. */
  readonly macroSeries: readonly string[];
  /** GDP for 2018 (period 2018-01-01), first released 2019-03-28 and revised 2019-07-26. */
  readonly macroVintage: DemoMacroVintageFact;
}

const securities: readonly DemoSecurityFact[] = [
  { sid: 'S00001', ticker: 'FALN', name: 'Fallon Textile Mills Inc', exchange: 'NYSE', listedOn: '1996-04-15', delistedOn: '2007-06-15', delistCode: 552, delistReturn: null },
  { sid: 'S00002', ticker: 'ACME', name: 'Acme Holdings Corp', exchange: 'NYSE', listedOn: '1989-09-05', delistedOn: '2008-10-15', delistCode: 574, delistReturn: -0.35 },
  { sid: 'S00003', ticker: 'ACME', name: 'Acme Robotics Inc', exchange: 'NASDAQ', listedOn: '2011-05-12', delistedOn: null, delistCode: null, delistReturn: null },
  { sid: 'S00004', ticker: 'NEWC', name: 'Newco Brands Inc', exchange: 'NYSE', listedOn: '2001-07-09', delistedOn: null, delistCode: null, delistReturn: null },
  { sid: 'S00005', ticker: 'DRFT', name: 'Driftwood Networks Inc', exchange: 'NASDAQ', listedOn: '2006-03-14', delistedOn: '2014-05-17', delistCode: 560, delistReturn: null },
  { sid: 'S00006', ticker: 'MRDN', name: 'Meridian Software Corp', exchange: 'NASDAQ', listedOn: '1998-02-17', delistedOn: '2016-08-31', delistCode: 231, delistReturn: null },
  { sid: 'S00007', ticker: 'QBIT', name: 'Quantum Bit Systems Inc', exchange: 'NASDAQ', listedOn: '2007-10-24', delistedOn: '2009-11-20', delistCode: 584, delistReturn: null },
  { sid: 'S00008', ticker: 'GRNT', name: 'Granite Utilities Co', exchange: 'NYSE', listedOn: '1993-06-01', delistedOn: null, delistCode: null, delistReturn: null },
  { sid: 'S00009', ticker: 'PLNK', name: 'Plank Energy Corp', exchange: 'AMEX', listedOn: '2002-11-18', delistedOn: '2012-08-10', delistCode: 580, delistReturn: null },
];

// Shumway (1997) for NYSE/AMEX, Shumway & Warther (1999) for NASDAQ: DESIGN §7.1.
const delisted2007: DemoDelistingFact = {
  case: 'NYSE performance delisting (552), vendor return missing: imputed -0.30',
  sid: 'S00001', ticker: 'FALN', exchange: 'NYSE', delistedOn: '2007-06-15', lastPriceDate: '2007-06-15',
  delistCode: 552, delistReturn: null, shumwayDlret: -0.3, imputed: true,
};

const saturdayDelisting: DemoDelistingFact = {
  case: 'NASDAQ performance delisting (560) dated a Saturday, vendor return missing: imputed -0.55 on the Friday',
  sid: 'S00005', ticker: 'DRFT', exchange: 'NASDAQ', delistedOn: '2014-05-17', lastPriceDate: '2014-05-16',
  delistCode: 560, delistReturn: null, shumwayDlret: -0.55, imputed: true,
};

// Fundamentals (DESIGN §7.2). Each publication fact pins its sid's report for that quarter
// and the one before; the values sit inside the range the generator gives those sids.
const afterClose: DemoPublicationFact = {
  case: 'reported 16:05 EDT, after the 16:00 cutoff: absent on 2019-07-18, present on 2019-07-19',
  sid: 'S00004', field: 'eps', periodEnd: '2019-06-30', value: 0.27, publishedAt: '2019-07-18T16:05:00-04:00',
  absentOn: '2019-07-18', presentOn: '2019-07-19',
  previous: { sid: 'S00004', field: 'eps', periodEnd: '2019-03-31', value: 0.21, publishedAt: '2019-04-25T16:05:00-04:00' },
};

const beforeCutoff: DemoPublicationFact = {
  case: 'reported 15:59 EST on the Monday after daylight time ended: present the same day',
  sid: 'S00008', field: 'revenue', periodEnd: '2018-09-30', value: 1287.915, publishedAt: '2018-11-05T15:59:00-05:00',
  absentOn: '2018-11-02', presentOn: '2018-11-05',
  previous: { sid: 'S00008', field: 'revenue', periodEnd: '2018-06-30', value: 1212.406, publishedAt: '2018-08-02T07:30:00-04:00' },
};

const atCutoff: DemoPublicationFact = {
  case: 'reported at exactly 16:00:00 EDT, equal to the cutoff: present the same day',
  sid: 'S00003', field: 'net_income', periodEnd: '2017-03-31', value: 41.87, publishedAt: '2017-05-04T16:00:00-04:00',
  absentOn: '2017-05-03', presentOn: '2017-05-04',
  previous: { sid: 'S00003', field: 'net_income', periodEnd: '2016-12-31', value: 38.214, publishedAt: '2017-02-23T16:05:00-05:00' },
};

const justAfterCutoff: DemoPublicationFact = {
  case: 'annual report at 16:01 EST, one minute after the cutoff: absent that day, present the next',
  sid: 'S00008', field: 'eps', periodEnd: '2014-12-31', value: 1.22, publishedAt: '2015-02-19T16:01:00-05:00',
  absentOn: '2015-02-19', presentOn: '2015-02-20',
  previous: { sid: 'S00008', field: 'eps', periodEnd: '2014-09-30', value: 1.31, publishedAt: '2014-10-30T16:10:00-04:00' },
};

const beforeOpen: DemoPublicationFact = {
  case: 'reported 07:30 EDT, before the open: present the same day',
  sid: 'S00004', field: 'revenue', periodEnd: '2013-09-30', value: 1598.27, publishedAt: '2013-10-24T07:30:00-04:00',
  absentOn: '2013-10-23', presentOn: '2013-10-24',
  previous: { sid: 'S00004', field: 'revenue', periodEnd: '2013-06-30', value: 1531.402, publishedAt: '2013-07-25T07:30:00-04:00' },
};

const dateOnly: DemoPublicationFact = {
  case: 'published as a date only (a Thursday): available at the end of the day, first shown on Friday',
  sid: 'S00004', field: 'net_income', periodEnd: '2012-06-30', value: 33.406, publishedAt: '2012-08-09',
  absentOn: '2012-08-09', presentOn: '2012-08-10',
  previous: { sid: 'S00004', field: 'net_income', periodEnd: '2012-03-31', value: 28.915, publishedAt: '2012-05-03' },
};

const saturdayDateOnly: DemoPublicationFact = {
  case: 'annual report published as a date only on a Saturday: first shown on the Monday',
  sid: 'S00008', field: 'book_value', periodEnd: '2007-12-31', value: 3752.804, publishedAt: '2008-03-01',
  absentOn: '2008-02-29', presentOn: '2008-03-03',
  previous: { sid: 'S00008', field: 'book_value', periodEnd: '2007-09-30', value: 3671.25, publishedAt: '2007-11-01T16:05:00-04:00' },
};

const restatedQ1: readonly [DemoFundamentalRow, DemoFundamentalRow, DemoFundamentalRow] = [
  { sid: 'S00004', field: 'net_income', periodEnd: '2018-03-31', value: 52.18, publishedAt: '2018-04-26T16:10:00-04:00' },
  { sid: 'S00004', field: 'net_income', periodEnd: '2018-03-31', value: 47.93, publishedAt: '2018-09-14T17:00:00-04:00' },
  { sid: 'S00004', field: 'net_income', periodEnd: '2018-06-30', value: 55.604, publishedAt: '2018-07-26T16:10:00-04:00' },
];

const restatement: DemoRestatementFact = {
  case: 'Q1 2018 net income restated in September, after Q2 was published: the panel keeps showing Q2',
  original: restatedQ1[0],
  restated: restatedQ1[1],
  newer: restatedQ1[2],
  expect: [
    { date: '2018-04-27', value: restatedQ1[0].value },
    { date: '2018-07-26', value: restatedQ1[0].value },
    { date: '2018-07-27', value: restatedQ1[2].value },
    { date: '2018-09-14', value: restatedQ1[2].value },
    { date: '2018-09-17', value: restatedQ1[2].value },
  ],
};

const restatedQ4: readonly [DemoFundamentalRow, DemoFundamentalRow] = [
  { sid: 'S00008', field: 'eps', periodEnd: '2019-12-31', value: 1.47, publishedAt: '2020-02-20T07:30:00-05:00' },
  { sid: 'S00008', field: 'eps', periodEnd: '2019-12-31', value: 1.41, publishedAt: '2020-03-19T16:30:00-04:00' },
];

const restatementLatest: DemoRestatementFact = {
  case: 'Q4 2019 eps restated 2020-03-19 after the close, before Q1 2020 is out: the restated value shows from 2020-03-20',
  original: restatedQ4[0],
  restated: restatedQ4[1],
  newer: null,
  expect: [
    { date: '2020-02-20', value: restatedQ4[0].value },
    { date: '2020-03-19', value: restatedQ4[0].value },
    { date: '2020-03-20', value: restatedQ4[1].value },
    { date: '2020-04-01', value: restatedQ4[1].value },
  ],
};

const vendorCorrection: DemoCorrectionFact = {
  case: 'a revenue with transposed digits (513.62 for 531.62), fixed by the vendor in a later file recorded 2024-06-01',
  sid: 'S00003', field: 'revenue', periodEnd: '2019-09-30', publishedAt: '2019-10-31T16:05:00-04:00',
  originalValue: 513.62, originalRecordedAt: '2019-10-31T20:10:00Z',
  correctedValue: 531.62, recordedAt: '2024-06-01T00:00:00Z',
  checkOn: ['2019-11-01', '2019-12-31'],
};

const GDP_2018 = { first: { value: 20494.1, realtimeStart: '2019-03-28' }, revised: { value: 20580.2, realtimeStart: '2019-07-26' } } as const;

const macroVintage: DemoMacroVintageFact = {
  case: 'GDP for 2018 (annual, USD billions, date-only vintages): first released 2019-03-28, revised in the annual update of 2019-07-26',
  series: 'GDP', period: '2018-01-01',
  ...GDP_2018,
  expect: [
    { date: '2019-03-29', value: GDP_2018.first.value },
    { date: '2019-05-01', value: GDP_2018.first.value },
    { date: '2019-07-26', value: GDP_2018.first.value },
    { date: '2019-07-29', value: GDP_2018.revised.value },
    { date: '2019-08-01', value: GDP_2018.revised.value },
    { date: '2020-03-26', value: GDP_2018.revised.value },
  ],
};

/**
 * The hand-placed special cases of the demo data set. They do not depend on seed or scale:
 * the generator writes these securities, ticker spans, halts, index changes, fundamentals
 * reports, restatements, vendor corrections and macro vintages exactly as given here, and
 * tests elsewhere can assert the rules of DESIGN §7.1 and §7.2 against them by sid and date,
 * e.g. `DEMO_FACTS.saturdayDelisting.lastPriceDate === '2014-05-16'` or
 * `DEMO_FACTS.afterClose.presentOn === '2019-07-19'`.
 *
 * Point-in-time expectations (`absentOn`, `presentOn`, `expect`) assume the `equity-panel`
 * defaults: cutoff 16:00, timezone America/New_York, no `maxAge`, and an `asOf` after every
 * row's recorded_at unless a fact says otherwise.
 */
export const DEMO_FACTS: DemoFacts = {
  firstDate: '2005-01-03',
  lastDate: '2020-12-31',
  securities,
  delisted2007,
  tickerReuse: {
    ticker: 'ACME',
    first: { sid: 'S00002', ticker: 'ACME', validFrom: '1989-09-05', validTo: '2008-10-15' },
    second: { sid: 'S00003', ticker: 'ACME', validFrom: '2011-05-12', validTo: null },
  },
  tickerChange: {
    sid: 'S00004',
    old: { sid: 'S00004', ticker: 'OLDC', validFrom: '2001-07-09', validTo: '2012-02-29' },
    new: { sid: 'S00004', ticker: 'NEWC', validFrom: '2012-03-01', validTo: null },
  },
  halts: [
    { sid: 'S00004', date: '2009-03-10' },
    { sid: 'S00004', date: '2009-03-11' },
    { sid: 'S00008', date: '2010-05-06' },
    { sid: 'S00003', date: '2016-02-09' },
  ],
  saturdayDelisting,
  delistings: [
    delisted2007,
    {
      case: 'NYSE bankruptcy delisting (574) with the vendor return present: -0.35, no imputation',
      sid: 'S00002', ticker: 'ACME', exchange: 'NYSE', delistedOn: '2008-10-15', lastPriceDate: '2008-10-15',
      delistCode: 574, delistReturn: -0.35, shumwayDlret: -0.35, imputed: false,
    },
    {
      case: 'NASDAQ performance delisting (584), vendor return missing: imputed -0.55',
      sid: 'S00007', ticker: 'QBIT', exchange: 'NASDAQ', delistedOn: '2009-11-20', lastPriceDate: '2009-11-20',
      delistCode: 584, delistReturn: null, shumwayDlret: -0.55, imputed: true,
    },
    {
      case: 'AMEX performance delisting (580), vendor return missing: imputed -0.30',
      sid: 'S00009', ticker: 'PLNK', exchange: 'AMEX', delistedOn: '2012-08-10', lastPriceDate: '2012-08-10',
      delistCode: 580, delistReturn: null, shumwayDlret: -0.3, imputed: true,
    },
    saturdayDelisting,
    {
      case: 'NASDAQ merger (231), vendor return missing: no imputation, delist_ret empty',
      sid: 'S00006', ticker: 'MRDN', exchange: 'NASDAQ', delistedOn: '2016-08-31', lastPriceDate: '2016-08-31',
      delistCode: 231, delistReturn: null, shumwayDlret: null, imputed: false,
    },
  ],
  largecapRemoval: {
    indexName: 'LARGECAP', sid: 'S00008', ticker: 'GRNT',
    addedOn: '2005-01-03', removedOn: '2015-06-22', lastMemberDay: '2015-06-19',
  },
  largecapDelisting: {
    indexName: 'LARGECAP', sid: 'S00006', ticker: 'MRDN',
    addedOn: '2005-01-03', removedOn: '2016-09-01', lastMemberDay: '2016-08-31',
  },
  fundamentalFields: ['book_value', 'eps', 'net_income', 'revenue'],
  afterClose,
  beforeCutoff,
  atCutoff,
  justAfterCutoff,
  beforeOpen,
  dateOnly,
  saturdayDateOnly,
  publications: [afterClose, beforeCutoff, atCutoff, justAfterCutoff, beforeOpen, dateOnly, saturdayDateOnly],
  restatement,
  restatementLatest,
  vendorCorrection,
  macroSeries: ['CPI', 'GDP', 'GDPQ', 'UNRATE'],
  macroVintage,
};
