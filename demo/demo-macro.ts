/**
 * Synthetic ALFRED-style macro vintages (DESIGN §5 `macro`, §7.2): each observation is first
 * released some days or weeks after its period and revised later, each vintage a row with its
 * own realtime_start. Levels follow the broad shape of the real series (2008–09, 2020), with
 * seeded noise; DEMO_FACTS.macroVintage is written exactly as given.
 *
 * | series | period | released (realtime_start) | revised |
 * |---|---|---|---|
 * | `CPI` (index, SA) | month | mid next month, 08:30 ET (timestamp) | 1–3 times, with the January CPI release each February |
 * | `UNRATE` (%) | month | first Friday of next month (date) | 1–3 times, with the December release each January |
 * | `GDP` (USD bn, annual) | year | last Thursday of March of the next year (date) | 1–3 annual updates, last Friday of July |
 * | `GDPQ` (USD bn SAAR) | quarter | last Thursday of the month after (08:30 ET) | second and third estimates, sometimes the July annual update |
 *
 * Nothing is released after LAST_PUBLICATION_DATE (the most recent observations have fewer
 * revisions). recorded_at = when it became available (a date: the end of that day in New York)
 * plus a few minutes.
 */
import { DEMO_FACTS } from './demo-facts.ts';
import { LAST_PUBLICATION_DATE } from './demo-fundamentals.ts';
import { addMinutes, availableAt, newYorkTimestamp, utcTimestamp } from './new-york-time.ts';
import { Random, STREAM, streamSeed } from './random.ts';
import { dayNumber, isoDate, isTradingDay, tradingDayOnOrAfter } from './trading-calendar.ts';

export const MACRO_HEADER = 'series,period,value,realtime_start,recorded_at';

const RELEASE_MINUTE = 8 * 60 + 30;

interface Vintage {
  value: number;
  realtimeStart: string;
}

interface Observation {
  series: string;
  period: string;
  vintages: Vintage[];
}

/** macro.csv text, sorted by series, period, realtime_start. */
export function macroCsv(seed: number): string {
  const rng = new Random(streamSeed(seed, STREAM.macro, 0));
  const observations = [...cpi(rng), ...gdp(rng), ...gdpQuarterly(rng), ...unemployment(rng)];
  const lines = [MACRO_HEADER];
  for (const o of observations) {
    for (const v of o.vintages) {
      const recordedAt = utcTimestamp(addMinutes(availableAt(v.realtimeStart), rng.int(1, 10)));
      lines.push(`${o.series},${o.period},${v.value},${v.realtimeStart},${recordedAt}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------
// Dates

function weekday(iso: string): number {
  return new Date(`${iso}T00:00:00Z`).getUTCDay();
}

function monthStart(year: number, month: number): string {
  const y = year + Math.floor((month - 1) / 12);
  const m = ((((month - 1) % 12) + 12) % 12) + 1;
  return `${y}-${String(m).padStart(2, '0')}-01`;
}

/** `monthStart` shifted by `months`. */
function addMonths(period: string, months: number): string {
  return monthStart(Number(period.slice(0, 4)), Number(period.slice(5, 7)) + months);
}

/** The last `day` (0 = Sunday) of the month starting `first`. */
function lastWeekday(first: string, day: number): string {
  const last = dayNumber(addMonths(first, 1)) - 1;
  return isoDate(last - ((weekday(isoDate(last)) - day + 7) % 7));
}

/** The last Thursday of the month, or the Wednesday before when that is Thanksgiving or a holiday. */
function lastThursday(first: string): string {
  const d = lastWeekday(first, 4);
  const thanksgiving = d.slice(5, 7) === '11' && Number(d.slice(8)) <= 28;
  return thanksgiving || !isTradingDay(d) ? isoDate(dayNumber(d) - 1) : d;
}

/** The first Friday on or after the 2nd of the month that is a trading day. */
function firstFriday(first: string): string {
  let d = dayNumber(first) + 1;
  while (weekday(isoDate(d)) !== 5 || !isTradingDay(isoDate(d))) d++;
  return isoDate(d);
}

function released(v: Vintage): boolean {
  return v.realtimeStart.slice(0, 10) <= LAST_PUBLICATION_DATE;
}

function months(from: string, to: string): string[] {
  const out: string[] = [];
  for (let p = from; p <= to; p = addMonths(p, 1)) out.push(p);
  return out;
}

// ---------------------------------------------------------------------------------------
// Levels

/** Piecewise interpolation between anchor months (`log` = geometric). */
function interpolate(anchors: readonly (readonly [string, number])[], period: string, log: boolean): number {
  const month = (p: string) => Number(p.slice(0, 4)) * 12 + Number(p.slice(5, 7));
  const t = month(period);
  let i = 0;
  while (i < anchors.length - 2 && month(anchors[i + 1]![0]) <= t) i++;
  const [p0, v0] = anchors[i]!;
  const [p1, v1] = anchors[i + 1]!;
  const w = (t - month(p0)) / (month(p1) - month(p0));
  return log ? Math.exp(Math.log(v0) + w * (Math.log(v1) - Math.log(v0))) : v0 + w * (v1 - v0);
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/**
 * Vintages of one observation: a first release within noise of the final value, then
 * revisions that close in on it (the last one is the final value). Consecutive vintages differ.
 */
function vintages(rng: Random, final: number, dates: readonly string[], relNoise: number, decimals: number): Vintage[] {
  const step = 10 ** -decimals;
  const out: Vintage[] = [];
  dates.forEach((realtimeStart, j) => {
    const left = dates.length - 1 - j;
    let value = round(final * (1 + (relNoise * left * rng.normal()) / Math.max(1, dates.length - 1)), decimals);
    const previous = out[j - 1]?.value;
    if (value === previous) value = round(value + (rng.chance(0.5) ? step : -step), decimals);
    out.push({ value, realtimeStart });
  });
  return out;
}

const CPI_ANCHORS: readonly (readonly [string, number])[] = [
  ['2004-01-01', 186.3], ['2005-01-01', 190.7], ['2006-01-01', 198.3], ['2007-01-01', 203.4],
  ['2008-01-01', 212.2], ['2008-07-01', 219.1], ['2008-12-01', 211.4], ['2010-01-01', 217.5],
  ['2011-01-01', 221.2], ['2012-01-01', 227.8], ['2013-01-01', 231.7], ['2014-01-01', 235.3],
  ['2014-07-01', 238.3], ['2015-01-01', 234.7], ['2016-01-01', 237.7], ['2017-01-01', 243.6],
  ['2018-01-01', 248.9], ['2019-01-01', 252.6], ['2020-01-01', 258.7], ['2020-05-01', 255.9],
  ['2020-12-01', 262.0],
];

function cpi(rng: Random): Observation[] {
  const periods = months('2004-01-01', '2020-12-01');
  // One release per month of data, 08:30 ET on a weekday mid next month.
  const release = new Map(periods.concat(months('2021-01-01', '2023-12-01')).map((p) => {
    const day = addMonths(p, 1).slice(0, 8) + String(rng.int(10, 18)).padStart(2, '0');
    return [p, newYorkTimestamp(tradingDayOnOrAfter(day), RELEASE_MINUTE)] as const;
  }));
  let noise = 0;
  return periods.map((period) => {
    noise = 0.6 * noise + 0.12 * rng.normal();
    const year = Number(period.slice(0, 4));
    // Seasonal factors are revised with the January release (published in February).
    const revisions = [1, 2, 3].map((n) => release.get(`${year + n}-01-01`)!).filter((d) => d > release.get(period)!);
    const dates = [release.get(period)!, ...revisions.slice(0, rng.int(1, 3))];
    const final = interpolate(CPI_ANCHORS, period, true) + noise;
    return { series: 'CPI', period, vintages: vintages(rng, final, dates, 0.0008, 3).filter(released) };
  });
}

const UNRATE_ANCHORS: readonly (readonly [string, number])[] = [
  ['2004-01-01', 5.7], ['2007-03-01', 4.4], ['2008-12-01', 7.3], ['2009-10-01', 10.0], ['2012-01-01', 8.3],
  ['2015-01-01', 5.7], ['2019-09-01', 3.5], ['2020-02-01', 3.5], ['2020-03-01', 4.4], ['2020-04-01', 14.7],
  ['2020-12-01', 6.7],
];

function unemployment(rng: Random): Observation[] {
  return months('2004-01-01', '2020-12-01').map((period) => {
    const final = round(interpolate(UNRATE_ANCHORS, period, false) + 0.08 * rng.normal(), 1);
    const first = firstFriday(addMonths(period, 1));
    const year = Number(period.slice(0, 4));
    const januaries = [1, 2, 3].map((n) => firstFriday(`${year + n}-01-01`)).filter((d) => d > first);
    const dates = [first, ...januaries.slice(0, rng.int(1, 3))];
    // Revisions move the rate by a tenth of a point; the last vintage is the final value.
    const values: number[] = [final];
    for (let j = 1; j < dates.length; j++) values.unshift(round(Math.max(0.1, values[0]! + (rng.chance(0.5) ? 0.1 : -0.1)), 1));
    return { series: 'UNRATE', period, vintages: dates.map((realtimeStart, j) => ({ value: values[j]!, realtimeStart })).filter(released) };
  });
}

/** Final annual GDP, USD billions (close to the real series). */
const GDP_ANNUAL: Readonly<Record<number, number>> = {
  2003: 11456.5, 2004: 12217.2, 2005: 13039.2, 2006: 13815.6, 2007: 14474.2, 2008: 14769.9, 2009: 14478.1,
  2010: 15049.0, 2011: 15599.7, 2012: 16254.0, 2013: 16843.2, 2014: 17550.7, 2015: 18206.0, 2016: 18695.1,
  2017: 19479.6, 2018: 20611.9, 2019: 21380.9, 2020: 20893.7,
};

function gdp(rng: Random): Observation[] {
  const fact = DEMO_FACTS.macroVintage;
  const out: Observation[] = [];
  for (let year = 2003; year <= 2019; year++) {
    const period = `${year}-01-01`;
    const first = lastThursday(`${year + 1}-03-01`);
    const updates = [1, 2, 3].map((n) => lastWeekday(`${year + n}-07-01`, 5));
    const dates = [first, ...updates.slice(0, rng.int(1, 3))];
    let list = vintages(rng, GDP_ANNUAL[year]!, dates, 0.006, 1);
    if (fact.series === 'GDP' && fact.period === period) {
      if (dates[0] !== fact.first.realtimeStart || dates[1] !== fact.revised.realtimeStart) {
        throw new Error(`DEMO_FACTS.macroVintage dates do not match the GDP release calendar (${dates.join(', ')})`);
      }
      list[0] = { ...fact.first };
      list[1] = { ...fact.revised };
      if (list[2]?.value === fact.revised.value) list[2] = { ...list[2], value: round(fact.revised.value + 0.1, 1) };
    }
    list = list.filter(released);
    out.push({ series: 'GDP', period, vintages: list });
  }
  return out;
}

/** The real 2020 quarters (SAAR), which interpolation of annual levels would miss. */
const GDP_2020: readonly number[] = [21561.1, 19520.1, 21170.3, 21494.7];

function gdpQuarterly(rng: Random): Observation[] {
  const out: Observation[] = [];
  for (let year = 2004; year <= 2020; year++) {
    const level = GDP_ANNUAL[year]!;
    const growth = year >= 2019 ? 0.04 : GDP_ANNUAL[year + 1]! / level - 1;
    for (let q = 0; q < 4; q++) {
      const period = monthStart(year, 3 * q + 1);
      const final = year === 2020 ? GDP_2020[q]! : level * (1 + ((q - 1.5) / 4) * growth) * (1 + 0.002 * rng.normal());
      const after = addMonths(period, 3);
      const estimates = [0, 1, 2].map((m) => newYorkTimestamp(lastThursday(addMonths(after, m)), RELEASE_MINUTE));
      const annual = newYorkTimestamp(lastWeekday(`${year + 1}-07-01`, 5), RELEASE_MINUTE);
      const dates = rng.chance(0.5) && annual.slice(0, 10) > estimates[2]!.slice(0, 10) ? [...estimates, annual] : estimates;
      const list = vintages(rng, round(final, 1), dates, 0.004, 1).filter(released);
      if (list.length > 0) out.push({ series: 'GDPQ', period, vintages: list });
    }
  }
  return out;
}
