// The demo's exchange calendar: weekdays minus New Year's Day, Independence Day and
// Christmas. A holiday that falls on a weekend is simply not observed (no Friday/Monday
// substitute) — the demo only needs a calendar that is fixed and has gaps, not NYSE's.

const MS_PER_DAY = 86_400_000;
const HOLIDAYS = new Set(['01-01', '07-04', '12-25']);

/** Days since 1970-01-01 of an ISO date: `dayNumber('1970-01-02') === 1`. */
export function dayNumber(iso: string): number {
  return Date.parse(`${iso}T00:00:00Z`) / MS_PER_DAY;
}

/** ISO date of a day number: `isoDate(1) === '1970-01-02'`. */
export function isoDate(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

export function isTradingDay(iso: string): boolean {
  const weekday = new Date(`${iso}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6 && !HOLIDAYS.has(iso.slice(5));
}

/** Every trading day in `[first, last]`, ascending: `tradingDays('2005-01-01', '2005-01-04')` → `['2005-01-03', '2005-01-04']`. */
export function tradingDays(first: string, last: string): string[] {
  const days: string[] = [];
  for (let d = dayNumber(first), end = dayNumber(last); d <= end; d++) {
    const iso = isoDate(d);
    if (isTradingDay(iso)) days.push(iso);
  }
  return days;
}

/** The first trading day strictly after `iso`: `nextTradingDay('2014-05-17') === '2014-05-19'`. */
export function nextTradingDay(iso: string): string {
  let d = dayNumber(iso) + 1;
  while (!isTradingDay(isoDate(d))) d++;
  return isoDate(d);
}

/** The first trading day on or after `iso`. */
export function tradingDayOnOrAfter(iso: string): string {
  return isTradingDay(iso) ? iso : nextTradingDay(iso);
}
