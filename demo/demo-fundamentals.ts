/**
 * Synthetic quarterly fundamentals (DESIGN §5 `fundamentals`, §7.2): one report per security
 * and calendar quarter while it is listed, with realistic report lags and publication times in
 * New York (before the open, after the close, a few right at the 16:00 cutoff, some known only
 * by date — weekends included), restatements published months (or days) later, and a second
 * file of vendor corrections recorded 2024-06-01 that re-state the key of some rows.
 *
 * Magnitudes hang together: quarterly revenue tracks the company's market cap at the quarter
 * end (sales yield), net income = margin × revenue, eps = net income / shares (the shares of
 * its prices stream, so P/E and book-to-market are plausible), and book value accumulates
 * retained earnings. revenue, net_income and book_value are in USD millions (3 decimals), eps in
 * USD per share (2 decimals).
 *
 * The hand-placed securities of DEMO_FACTS get fundamentals that do not depend on the seed, and
 * the reports, restatements and correction the facts name are written exactly as given.
 */
import {
  DEMO_FACTS,
  type DemoFundamentalField,
  type DemoFundamentalRow,
} from './demo-facts.ts';
import { addMinutes, availableAt, newYorkTimestamp, utcTimestamp } from './new-york-time.ts';
import { Random, STREAM, streamSeed } from './random.ts';
import { dayNumber, isoDate, tradingDayOnOrAfter } from './trading-calendar.ts';

export const FUNDAMENTALS_HEADER = 'sid,field,period_end,value,published_at,recorded_at';
/** recorded_at of every row of fundamentals-correction.csv. */
export const CORRECTION_RECORDED_AT = '2024-06-01T00:00:00Z';
/** The vendor history ends here: nothing in fundamentals.csv or macro.csv is published later. */
export const LAST_PUBLICATION_DATE = '2021-01-29';

const FIRST_YEAR = 2004;
const LAST_YEAR = 2020;

/** Every calendar quarter end from 2004-03-31 to 2020-12-31: the period_end values. */
export const QUARTER_ENDS: readonly string[] = Array.from({ length: (LAST_YEAR - FIRST_YEAR + 1) * 4 }, (_, k) => {
  const year = FIRST_YEAR + Math.floor(k / 4);
  return `${year}-${['03-31', '06-30', '09-30', '12-31'][k % 4]}`;
});

/** Index in QUARTER_ENDS of the quarter that contains `iso` (negative before 2004). */
export function quarterIndex(iso: string): number {
  return (Number(iso.slice(0, 4)) - FIRST_YEAR) * 4 + Math.floor((Number(iso.slice(5, 7)) - 1) / 3);
}

export interface FundamentalsSecurity {
  readonly sid: string;
  readonly ordinal: number;
  readonly listedOn: string;
  readonly delistedOn: string | null;
  /** A performance delisting: margins slide in its last year and a half. */
  readonly performance: boolean;
  /** Hand-placed (DEMO_FACTS): fundamentals from a seed-independent stream, not from its prices. */
  readonly handPlaced: boolean;
  /** Market cap on the last trading day of each quarter, in QUARTER_ENDS order (NaN: not trading then). */
  readonly caps: Float64Array;
  /** Market cap on its first prices row. */
  readonly firstCap: number;
  readonly shares: number;
}

export interface FundamentalsText {
  fundamentals: string;
  correction: string;
}

const FIELDS: readonly DemoFundamentalField[] = DEMO_FACTS.fundamentalFields;
const RESTATEMENT_RATE = 0.05;
const CORRECTION_RATE = 0.005;

/** Both files' text, rows sorted by sid, period_end, field, published_at. */
export function fundamentalsCsv(securities: readonly FundamentalsSecurity[], seed: number): FundamentalsText {
  const pins = pinnedRows();
  const fundamentals: string[] = [FUNDAMENTALS_HEADER];
  const correction: string[] = [FUNDAMENTALS_HEADER];
  for (const s of securities) {
    const rows = securityRows(s, seed, pins);
    for (const r of rows) fundamentals.push(line(s.sid, r, r.recordedAt, r.value));
    if (s.handPlaced) {
      for (const c of pins.corrections.filter((p) => p.sid === s.sid)) {
        const r = rows.find((x) => x.field === c.field && x.periodEnd === c.periodEnd && x.publishedAt === c.publishedAt);
        if (!r) throw new Error(`vendor correction ${c.sid} ${c.field} ${c.periodEnd} names no fundamentals row`);
        correction.push(line(s.sid, r, CORRECTION_RECORDED_AT, c.value));
      }
    } else {
      const rng = new Random(streamSeed(seed, STREAM.corrections, s.ordinal));
      for (const r of rows) {
        if (!rng.chance(CORRECTION_RATE)) continue;
        const factor = 1 + (rng.chance(0.5) ? -1 : 1) * rng.uniform(0.003, 0.06);
        correction.push(line(s.sid, r, CORRECTION_RECORDED_AT, differ(r.field, r.value, rounded(r.field, r.value * factor), factor)));
      }
    }
  }
  return { fundamentals: `${fundamentals.join('\n')}\n`, correction: `${correction.join('\n')}\n` };
}

interface Row {
  field: DemoFundamentalField;
  periodEnd: string;
  /** As written (rounded). */
  value: number;
  publishedAt: string;
  recordedAt: string;
}

function line(sid: string, r: Row, recordedAt: string, value: number): string {
  return `${sid},${r.field},${r.periodEnd},${value},${r.publishedAt},${recordedAt}`;
}

/** eps in USD with 2 decimals; the rest in USD millions with 3. */
function rounded(field: DemoFundamentalField, x: number): number {
  return field === 'eps' ? Math.round(x * 100) / 100 : Math.round(x * 1000) / 1000;
}

function toUnits(field: DemoFundamentalField, usd: number): number {
  return rounded(field, field === 'eps' ? usd : usd / 1e6);
}

/** `candidate`, moved one unit away from `original` (in the factor's direction) when rounding made them equal. */
function differ(field: DemoFundamentalField, original: number, candidate: number, factor: number): number {
  if (candidate !== original) return candidate;
  const step = field === 'eps' ? 0.01 : 0.001;
  const sign = (factor < 1) === (original >= 0) ? -1 : 1;
  return rounded(field, original + sign * step);
}

// ---------------------------------------------------------------------------------------
// The rows DEMO_FACTS pins

interface Pins {
  /** `sid period_end` → published_at of that report. */
  reports: Map<string, string>;
  /** `sid field period_end published_at` → value. */
  values: Map<string, number>;
  restatements: readonly DemoFundamentalRow[];
  corrections: readonly (Omit<DemoFundamentalRow, 'value'> & { value: number })[];
}

const pinKey = (sid: string, field: string, periodEnd: string, publishedAt: string) => `${sid} ${field} ${periodEnd} ${publishedAt}`;

function pinnedRows(): Pins {
  const f = DEMO_FACTS;
  const c = f.vendorCorrection;
  const originals: DemoFundamentalRow[] = [
    ...f.publications.flatMap((p) => [p, p.previous]),
    ...[f.restatement, f.restatementLatest].flatMap((r) => (r.newer ? [r.original, r.newer] : [r.original])),
    { sid: c.sid, field: c.field, periodEnd: c.periodEnd, publishedAt: c.publishedAt, value: c.originalValue },
  ];
  const handPlaced = new Set(f.securities.map((s) => s.sid));
  const reports = new Map<string, string>();
  const values = new Map<string, number>();
  for (const r of originals) {
    if (!handPlaced.has(r.sid)) throw new Error(`DEMO_FACTS pins a report of ${r.sid}, which is not hand-placed`);
    const report = `${r.sid} ${r.periodEnd}`;
    const known = reports.get(report);
    if (known !== undefined && known !== r.publishedAt) throw new Error(`DEMO_FACTS: report ${report} published both ${known} and ${r.publishedAt}`);
    reports.set(report, r.publishedAt);
    values.set(pinKey(r.sid, r.field, r.periodEnd, r.publishedAt), r.value);
  }
  return {
    reports,
    values,
    restatements: [f.restatement.restated, f.restatementLatest.restated],
    corrections: [{ sid: c.sid, field: c.field, periodEnd: c.periodEnd, publishedAt: c.publishedAt, value: c.correctedValue }],
  };
}

// ---------------------------------------------------------------------------------------
// One security's reports

type Habit = 'bmo' | 'amc' | 'date';

/** Before-the-open release times (minutes after midnight): 06:00 to 09:15, mostly on the half hour. */
const BEFORE_OPEN = [360, 390, 405, 420, 420, 450, 450, 450, 480, 480, 510, 540, 555];
/** Quarters with a margin squeeze across the market. */
const SQUEEZED = new Set(['2008-12-31', '2009-03-31', '2009-06-30', '2020-06-30']);

/** Local release minute of a report, or null for a date-only publication. */
function releaseMinute(rng: Random, habit: Habit): number | null {
  const v = rng.next();
  if (v < 0.005) return 15 * 60 + 59;
  if (v < 0.01) return 16 * 60;
  if (v < 0.015) return 16 * 60 + 1;
  if (v < 0.04) return 600 + 5 * rng.int(0, 66); // intraday, 10:00–15:30
  const style = v < 0.9 ? habit : rng.pick<Habit>(['bmo', 'amc', 'date']);
  if (style === 'bmo') return rng.pick(BEFORE_OPEN);
  if (style === 'amc') return 965 + 5 * rng.int(0, 17); // 16:05–17:30
  return null;
}

/**
 * published_at of a report released `lag` days after `from`: a timed release moves to the next
 * trading day; a date-only one stays on a weekend or holiday now and then (vendor dates do).
 */
function publication(rng: Random, from: string, lag: number, minute: number | null): string {
  const raw = isoDate(dayNumber(from) + lag);
  const keepRaw = rng.chance(0.35);
  if (minute === null) return keepRaw ? raw : tradingDayOnOrAfter(raw);
  return newYorkTimestamp(tradingDayOnOrAfter(raw), minute);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function securityRows(s: FundamentalsSecurity, seed: number, pins: Pins): Row[] {
  const rng = new Random(s.handPlaced ? streamSeed(0, STREAM.handPlaced, s.ordinal) : streamSeed(seed, STREAM.fundamentals, s.ordinal));
  // Company traits.
  const salesYield = Math.exp(Math.log(0.7) + 0.45 * rng.normal()); // annual revenue / market cap
  const bookToMarket = Math.exp(Math.log(0.55) + 0.45 * rng.normal());
  const marginMean = clamp(0.07 + 0.05 * rng.normal(), -0.08, 0.25);
  const seasonal = [0, 1, 2, 3].map(() => 0.04 * rng.normal());
  const lagQuarter = rng.int(22, 45);
  const lagAnnual = clamp(lagQuarter + rng.int(12, 35), 45, 86);
  const h = rng.next();
  const habit: Habit = h < 0.4 ? 'amc' : h < 0.75 ? 'bmo' : 'date';

  let logCap = Math.log(s.firstCap);
  let shares = s.shares;
  if (s.handPlaced) {
    logCap = Math.log(4e9) + 0.6 * rng.normal();
    shares = Math.exp(logCap) / rng.uniform(15, 60);
  }
  const first = Math.max(0, quarterIndex(s.listedOn));
  const last = Math.min(QUARTER_ENDS.length - 1, s.delistedOn === null ? QUARTER_ENDS.length - 1 : quarterIndex(s.delistedOn));
  const until = s.delistedOn !== null && s.delistedOn < LAST_PUBLICATION_DATE ? s.delistedOn : LAST_PUBLICATION_DATE;
  const delistQuarter = s.delistedOn === null ? Infinity : quarterIndex(s.delistedOn);

  const rows: Row[] = [];
  let logRevenue = 0;
  let margin = 0;
  let book = 0;
  let book0 = 0;
  for (let k = first; k <= last; k++) {
    const periodEnd = QUARTER_ENDS[k]!;
    if (s.handPlaced) {
      if (k > first) logCap += 0.015 + 0.08 * rng.normal();
    } else if (s.caps[k]! > 0) {
      logCap = Math.log(s.caps[k]!);
    }
    const target = logCap + Math.log(salesYield / 4);
    logRevenue = k === first ? target : 0.7 * logRevenue + 0.3 * target + 0.03 * rng.normal();
    const revenue = Math.exp(logRevenue + seasonal[k % 4]!);
    const marginTarget = marginMean - (s.performance && delistQuarter - k < 6 ? 0.12 : 0) - (SQUEEZED.has(periodEnd) ? 0.04 : 0);
    margin = k === first ? marginTarget + 0.02 * rng.normal() : marginTarget + 0.6 * (margin - marginTarget) + 0.015 * rng.normal();
    const netIncome = margin * revenue;
    if (k === first) book = book0 = Math.exp(logCap) * bookToMarket;
    else book = Math.max(0.05 * book0, book + (netIncome > 0 ? 0.6 * netIncome : netIncome));
    const usd: Record<DemoFundamentalField, number> = { book_value: book, eps: netIncome / shares, net_income: netIncome, revenue };

    const annual = k % 4 === 3;
    const lag = clamp((annual ? lagAnnual : lagQuarter) + rng.int(-4, 4), annual ? 45 : 20, annual ? 86 : 56);
    const minute = releaseMinute(rng, habit);
    let publishedAt = publication(rng, periodEnd, lag, minute);
    let recordMinutes = rng.int(2, 25);
    const pinned = pins.reports.get(`${s.sid} ${periodEnd}`);
    if (pinned !== undefined) {
      publishedAt = pinned;
      recordMinutes = 5;
    }
    if (publishedAt.slice(0, 10) > until) break;
    const recordedAt = utcTimestamp(addMinutes(availableAt(publishedAt), recordMinutes));

    const restated = restatement(rng, s, publishedAt, until, habit);
    for (const field of FIELDS) {
      const value = pins.values.get(pinKey(s.sid, field, periodEnd, publishedAt)) ?? toUnits(field, usd[field]);
      rows.push({ field, periodEnd, value, publishedAt, recordedAt });
      const factor = restated?.factors[field];
      if (restated && factor !== undefined) {
        const candidate = toUnits(field, usd[field] * factor);
        rows.push({ field, periodEnd, value: differ(field, value, candidate, factor), publishedAt: restated.publishedAt, recordedAt: restated.recordedAt });
      }
      for (const r of pins.restatements) {
        if (r.sid === s.sid && r.field === field && r.periodEnd === periodEnd) {
          rows.push({ field, periodEnd, value: r.value, publishedAt: r.publishedAt, recordedAt: utcTimestamp(addMinutes(availableAt(r.publishedAt), 5)) });
        }
      }
    }
  }
  return rows;
}

/**
 * Whether this report gets restated, and how: most restatements come months later (when newer
 * quarters are already out), a quarter of them within days (before the next report). Net
 * income and eps move together; revenue and book value sometimes. Hand-placed securities get
 * only the restatements DEMO_FACTS names.
 */
function restatement(
  rng: Random,
  s: FundamentalsSecurity,
  original: string,
  until: string,
  habit: Habit,
): { publishedAt: string; recordedAt: string; factors: Partial<Record<DemoFundamentalField, number>> } | null {
  if (s.handPlaced || !rng.chance(RESTATEMENT_RATE)) return null;
  const delay = rng.chance(0.25) ? rng.int(8, 18) : rng.int(75, 320);
  const minute = releaseMinute(rng, habit);
  const publishedAt = publication(rng, original.slice(0, 10), delay, minute);
  const earnings = 1 + (rng.chance(0.7) ? -1 : 1) * rng.uniform(0.02, 0.12);
  const factors: Partial<Record<DemoFundamentalField, number>> = { eps: earnings, net_income: earnings };
  if (rng.chance(0.4)) factors.revenue = 1 + (rng.chance(0.6) ? -1 : 1) * rng.uniform(0.005, 0.04);
  if (rng.chance(0.25)) factors.book_value = 1 + (rng.chance(0.7) ? -1 : 1) * rng.uniform(0.01, 0.05);
  const recordedAt = utcTimestamp(addMinutes(availableAt(publishedAt), rng.int(2, 25)));
  return publishedAt.slice(0, 10) > until ? null : { publishedAt, recordedAt, factors };
}
