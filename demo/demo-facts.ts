/**
 * The hand-placed special cases of the demo data set. They do not depend on seed or scale:
 * the generator writes these securities, ticker spans, halts and index changes exactly as
 * given here, and tests elsewhere can assert the rules of DESIGN §7.1 against them by sid
 * and date, e.g. `DEMO_FACTS.saturdayDelisting.lastPriceDate === '2014-05-16'`.
 */
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
};
