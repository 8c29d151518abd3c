/**
 * Wall-clock time in America/New_York for the demo's vendor timestamps, computed from the US
 * daylight-saving rules themselves (no dependency on the machine's tz database), so the files
 * are the same bytes everywhere. Rules: from 2007 daylight time runs from the second Sunday of
 * March to the first Sunday of November; 1987–2006 from the first Sunday of April to the last
 * Sunday of October; the switch happens at 02:00 local time.
 *
 * @example
 *   newYorkTimestamp('2019-07-18', 16 * 60 + 5) // '2019-07-18T16:05:00-04:00'
 *   newYorkTimestamp('2015-02-19', 16 * 60 + 1) // '2015-02-19T16:01:00-05:00'
 */
import { dayNumber, isoDate } from './trading-calendar.ts';

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;

function weekday(iso: string): number {
  return new Date(`${iso}T00:00:00Z`).getUTCDay();
}

/** The `n`-th Sunday (1-based) of `month` (1–12). */
function nthSunday(year: number, month: number, n: number): string {
  const first = `${year}-${String(month).padStart(2, '0')}-01`;
  return isoDate(dayNumber(first) + ((7 - weekday(first)) % 7) + 7 * (n - 1));
}

function lastSunday(year: number, month: number): string {
  const next = month === 12 ? `${year + 1}-01-01` : `${year}-${String(month + 1).padStart(2, '0')}-01`;
  const last = dayNumber(next) - 1;
  return isoDate(last - weekday(isoDate(last)));
}

/** Whether New York is on daylight time (UTC−4) at local minute `minute` (0–1439) of `iso`. */
export function isNewYorkDaylightTime(iso: string, minute = 12 * 60): boolean {
  const year = Number(iso.slice(0, 4));
  if (year < 1987) throw new RangeError(`no New York daylight-time rule for ${iso}`);
  const [start, end] = year >= 2007 ? [nthSunday(year, 3, 2), nthSunday(year, 11, 1)] : [nthSunday(year, 4, 1), lastSunday(year, 10)];
  // 02:00–02:59 on the start day does not exist; 01:00–01:59 on the end day happens twice (the first one is EDT).
  if (iso === start) return minute >= 120;
  if (iso === end) return minute < 120;
  return start < iso && iso < end;
}

/** `-04:00` or `-05:00`. */
export function newYorkOffset(iso: string, minute = 12 * 60): string {
  return isNewYorkDaylightTime(iso, minute) ? '-04:00' : '-05:00';
}

function hhmm(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** ISO timestamp of local minute `minute` of `iso` in New York, with its offset. */
export function newYorkTimestamp(iso: string, minute: number): string {
  return `${iso}T${hhmm(minute)}:00${newYorkOffset(iso, minute)}`;
}

/** Epoch milliseconds of local minute `minute` of `iso` in New York. */
export function newYorkInstant(iso: string, minute: number): number {
  const offsetMinutes = isNewYorkDaylightTime(iso, minute) ? -240 : -300;
  return dayNumber(iso) * MS_PER_DAY + (minute - offsetMinutes) * MS_PER_MINUTE;
}

/**
 * When a vendor value becomes available (DESIGN §7.2): a timestamp at its instant, a date-only
 * value at the end of that day in New York (midnight starting the next day).
 */
export function availableAt(publishedAt: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(publishedAt)) return newYorkInstant(isoDate(dayNumber(publishedAt) + 1), 0);
  const ms = Date.parse(publishedAt);
  if (Number.isNaN(ms)) throw new RangeError(`not a date or timestamp: ${publishedAt}`);
  return ms;
}

/** `2019-07-18T20:10:00Z` (UTC, whole seconds). */
export function utcTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function addMinutes(ms: number, minutes: number): number {
  return ms + minutes * MS_PER_MINUTE;
}
