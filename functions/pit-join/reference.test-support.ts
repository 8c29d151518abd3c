// A brute-force statement of DESIGN §7.2 for tests only: no SQL, no DuckDB. For every panel
// row and name it looks at every vendor row, keeps the visible ones and picks the winner, and
// it does its own time-zone arithmetic with `Intl.DateTimeFormat`. Instants are epoch
// microseconds (DuckDB's TIMESTAMPTZ resolution), safe integers for centuries around 1970.

/** One vendor row (fundamentals or macro) in the reference's own vocabulary. */
export interface SourceRow {
  /** sid for fundamentals; null for macro (one timeline for every sid). */
  entity: string | null;
  /** field or series. */
  name: string;
  /** period_end or period, `YYYY-MM-DD`. */
  periodEnd: string;
  value: number | null;
  /** published_at or realtime_start, as the vendor wrote it. */
  published: string;
  /** recorded_at as epoch µs; null sorts first. */
  recordedAt: number | null;
}

export interface PanelKey {
  date: string | null;
  sid: string | null;
}

export interface ReferenceParams {
  kind: 'fundamentals' | 'macro';
  names: readonly string[];
  cutoff: string;
  timezone: string;
  maxAgeDays?: number;
}

export interface ReferenceCell {
  value: number | null;
  /** The chosen row's period_end, also when maxAge empties the value. */
  periodEnd: string | null;
  /** The chosen row's availability instant (µs). */
  availableAt: number | null;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** UTC offset (ms) of `timeZone` at an instant (ms), from the wall clock Intl shows there. */
export function offsetAt(timeZone: string, instantMs: number): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  const part: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(whole))) if (p.type !== 'literal') part[p.type] = Number(p.value);
  return Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!) - whole;
}

/**
 * The instant (ms) when the wall clock of `timeZone` shows `wallMs` (a wall time written as if
 * UTC). Where the wall time happens twice (autumn) the later instant; where it never happens
 * (spring) the offset in force before the change, i.e. pushed forward by the gap — ICU's
 * defaults (WALLTIME_LAST), which DuckDB's `timezone()` uses.
 */
export function wallToInstant(timeZone: string, wallMs: number): number {
  const before = offsetAt(timeZone, wallMs - DAY_MS);
  const after = offsetAt(timeZone, wallMs + DAY_MS);
  const valid = [...new Set([before, after])].map((o) => wallMs - o).filter((t) => offsetAt(timeZone, t) === wallMs - t);
  return valid.length > 0 ? Math.max(...valid) : wallMs - before;
}

function dateParts(date: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** cutoff(D): D at `HH:MM` in `timeZone`, in µs. */
export function cutoffAt(date: string, cutoff: string, timeZone: string): number {
  const [y, mo, d] = dateParts(date);
  const [h, mi] = cutoff.split(':').map(Number) as [number, number];
  return wallToInstant(timeZone, Date.UTC(y, mo - 1, d, h, mi)) * 1000;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** avail(t) in µs: the instant itself, or the end of a date-only value's day in `timeZone`. */
export function availableAt(published: string, timeZone: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(published)) {
    const [y, mo, d] = dateParts(published);
    return wallToInstant(timeZone, Date.UTC(y, mo - 1, d + 1)) * 1000;
  }
  const m = TIMESTAMP.exec(published);
  if (!m) throw new Error(`not a date or a timestamp with an offset: ${published}`);
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const digits = zone!.slice(1).replace(':', '');
    offsetMinutes = (zone![0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
  }
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMinutes * 60_000;
  // DuckDB keeps microseconds and drops further digits.
  const micros = Number((fraction ?? '').slice(0, 6).padEnd(6, '0'));
  return ms * 1000 + micros;
}

/** D − period_end in days. */
export function daysBetween(later: string, earlier: string): number {
  const [y1, m1, d1] = dateParts(later);
  const [y0, m0, d0] = dateParts(earlier);
  return Math.round((Date.UTC(y1, m1 - 1, d1) - Date.UTC(y0, m0 - 1, d0)) / DAY_MS);
}

/** Nulls first, then ascending. */
function compareNullable(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** > 0 when `a` beats `b`: greater period_end, then later availability, then later recorded_at, then greater value. */
function beats(a: SourceRow & { avail: number }, b: SourceRow & { avail: number }): number {
  if (a.periodEnd !== b.periodEnd) return a.periodEnd > b.periodEnd ? 1 : -1;
  return compareNullable(a.avail, b.avail) || compareNullable(a.recordedAt, b.recordedAt) || compareNullable(a.value, b.value);
}

/** One cell per panel row and name, in order: what DESIGN §7.2 says the value is. */
export function referencePitJoin(panel: readonly PanelKey[], rows: readonly SourceRow[], params: ReferenceParams): ReferenceCell[][] {
  const withAvail = rows.map((r) => ({ ...r, avail: availableAt(r.published, params.timezone) }));
  const cutoffs = new Map<string, number>();
  return panel.map((p) => {
    if (p.date === null) return params.names.map(() => ({ value: null, periodEnd: null, availableAt: null }));
    const date = p.date;
    let cutoff = cutoffs.get(date);
    if (cutoff === undefined) cutoffs.set(date, (cutoff = cutoffAt(date, params.cutoff, params.timezone)));
    return params.names.map((name) => {
      let best: (typeof withAvail)[number] | undefined;
      for (const r of withAvail) {
        if (r.name !== name || r.avail > cutoff) continue;
        if (params.kind === 'fundamentals' && (p.sid === null || r.entity !== p.sid)) continue;
        if (!best || beats(r, best) > 0) best = r;
      }
      if (!best) return { value: null, periodEnd: null, availableAt: null };
      const tooOld = params.maxAgeDays !== undefined && daysBetween(date, best.periodEnd) > params.maxAgeDays;
      return { value: tooOld ? null : best.value, periodEnd: best.periodEnd, availableAt: best.avail };
    });
  });
}
