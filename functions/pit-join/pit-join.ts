import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { InputError, ValidationError, type ErrorDetail } from '../../shared/errors.ts';
import type { PitParams } from './params.ts';

/** The vendor columns of each kind in one vocabulary (DESIGN §7.2: "Macro: the same rule…"). */
const SOURCES = {
  fundamentals: { table: 'fundamentals', name: 'field', period: 'period_end', published: 'published_at', entity: 'sid' },
  macro: { table: 'macro', name: 'series', period: 'period', published: 'realtime_start', entity: undefined },
} as const;
type Source = (typeof SOURCES)[keyof typeof SOURCES];

/** Working columns added to the panel inside the statement; a panel must not already use them. */
const ROW = '__pit_row';
const SLOT = '__pit_slot';

/** A timestamp that says its offset (the ingest rule): a bare local time would be a guess. */
const WITH_OFFSET = String.raw`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$`;

/**
 * `540d` → 540. Whole days only: the panel is daily and "D − period_end" counts days.
 *
 * @example parseMaxAgeDays('90d') // 90
 */
export function parseMaxAgeDays(s: string): number {
  const days = /^\d+d$/.test(s) ? Number(s.slice(0, -1)) : NaN;
  if (!Number.isSafeInteger(days)) {
    throw new ValidationError(`maxAge "${s}" is not a number of days like 540d`, [
      { field: 'params.maxAge', value: s, message: 'must be a whole number of days followed by d, e.g. 540d' },
    ], { status: 422 });
  }
  return days;
}

/**
 * Adds point-in-time values to the panel in the Parquet file `panelPath` (DESIGN §7.2): hands
 * `write` one SELECT (and its bound values) of the panel's columns and rows, in the file's row
 * order, then one DOUBLE column per name (named exactly as requested), then — with `audit` —
 * for each name in turn `<name>__period_end` DATE and `<name>__published_at` TIMESTAMPTZ, and
 * returns what `write` returns. The step streams it into its Parquet output (`COPY (select) TO
 * …`): the panel is read from its file as the join runs, never loaded as a table, and the
 * joined panel is never held as a second one. `write` runs with the join order pinned
 * (`inWrittenJoinOrder`). Reads TABLE `fundamentals` or `macro` as the lake loader leaves it
 * (recorded by `asOf`, latest correction per key).
 *
 * The visible rows for (sid, D) are those available by cutoff(D) = D at `cutoff` in
 * `timezone`; an instant is available when it happens, a date-only value at the end of its
 * day in `timezone`. The value is the visible row with the greatest period_end, then the
 * latest availability, then the latest `recorded_at` (then the greater value, so equal
 * inputs always give equal bytes). With `maxAge`, a value whose period_end is more than that
 * many days before D is empty, but its audit columns still name the row: "too old" and
 * "nothing published yet" stay distinguishable. `__published_at` is the availability
 * instant, i.e. the end of the day for a date-only value. Macro series ignore the sid.
 *
 * @example
 * await writePitJoin(c, 'panel.parquet', { kind: 'fundamentals', names: ['eps'], cutoff: '16:00', timezone: 'America/New_York', audit: false },
 *   (select, values) => c.run(`COPY (${select}) TO 'joined.parquet' (FORMAT parquet)`, values));
 * // eps published '2019-07-18T16:05:00-04:00': empty on 2019-07-18, shown from 2019-07-19
 */
export async function writePitJoin<T>(
  c: DuckDBConnection,
  panelPath: string,
  params: PitParams,
  write: (select: string, values: (string | number)[]) => Promise<T>,
): Promise<T> {
  const { kind, names, cutoff, audit } = params;
  if (!Object.hasOwn(SOURCES, kind)) {
    throw new ValidationError(`kind "${kind}" is not fundamentals or macro`, [{ field: 'params.kind', value: kind, message: 'unknown kind' }], { status: 422 });
  }
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(cutoff)) {
    throw new ValidationError(`cutoff "${cutoff}" is not a time of day HH:MM`, [
      { field: 'params.cutoff', value: cutoff, message: 'must be HH:MM, e.g. 16:00' },
    ], { status: 422 });
  }
  const maxAgeDays = params.maxAge === undefined ? undefined : parseMaxAgeDays(params.maxAge);
  const timezone = await canonicalTimeZone(c, params.timezone);
  const source = SOURCES[kind];
  const file = `read_parquet(${quotedString(panelPath)})`;
  assertColumns(await columnsOf(c, file), names, audit, source.entity);
  // The file's own row numbers keep its order (DuckDB's virtual column; `*` leaves it out).
  const panel = `(SELECT file_row_number AS ${ROW}, * FROM ${file})`;

  if (names.length === 0) return write(`SELECT * EXCLUDE (${ROW}) FROM ${panel} ORDER BY ${ROW}`, []);
  // Everything the user chose is a bound value; names reach the SQL text only through quotedIdentifier.
  const values: (string | number)[] = [timezone, `${cutoff}:00`, ...names];
  if (maxAgeDays !== undefined) values.push(maxAgeDays);
  const select = joinSql(source, panel, names, audit, {
    timezone: '$1',
    cutoff: '$2',
    names: names.map((_, i) => `$${i + 3}`),
    maxAge: maxAgeDays === undefined ? undefined : `$${names.length + 3}`,
  });
  return inWrittenJoinOrder(c, () => write(select, values));
}

/** Placeholders of the bound values. */
interface Bound { timezone: string; cutoff: string; names: string[]; maxAge: string | undefined }

/**
 * The one SELECT of the joined panel. The information set only grows with time, so the
 * winner for (entity, name) changes only at a row that beats every earlier-available row on
 * (period_end, avail, recorded_at) — a running arg-max, computed once over the vendor rows.
 * A change takes effect on the first panel date whose cutoff reaches it (cutoffs increase
 * with the date) and holds until the next one. Spreading those steps over each entity's
 * panel days, one BIGINT key per (entity, day), turns the as-of lookup into an equality
 * hash join that streams the panel: measured faster than an ASOF JOIN, which sorts the wide
 * panel once for the join and again to restore its order.
 */
function joinSql(source: Source, panelRelation: string, names: string[], audit: boolean, $: Bound): string {
  const slots = names.map((_, i) => i);
  const list = (f: (i: number) => string, sep = ',\n              ') => slots.map(f).join(sep);
  const entity = source.entity;
  const published = quotedIdentifier(source.published);
  // §7.2 avail(t): an instant as given; a date-only value at the end of its day, i.e. the next
  // local midnight in `timezone` (ICU: DST-correct).
  const avail = `CASE
         WHEN length(${published}) = 10 THEN timezone(${$.timezone}, CAST(${published} AS DATE) + INTERVAL 1 DAY)
         WHEN regexp_matches(${published}, '${WITH_OFFSET}') THEN CAST(${published} AS TIMESTAMPTZ)
         ELSE error('${source.table}.${source.published} ' || ${published} || ' is neither a date nor a timestamp with an offset')
       END`;
  // What a winning row carries to the panel; its availability only for audit.
  // (period_end only when maxAge or audit reads it: every carried column widens the join's build side.)
  const withPeriod = audit || $.maxAge !== undefined;
  const carried = `'v': value${withPeriod ? `, 'pe': period_end` : ''}${audit ? `, 'at': avail` : ''}`;
  // §7.2 maxAge: D − period_end above the limit empties the value (exactly the limit is kept).
  const valueOf = (i: number) =>
    $.maxAge === undefined ? `d.v${i}` : `CASE WHEN CAST(p.date AS DATE) - d.pe${i} > ${$.maxAge} THEN NULL ELSE d.v${i} END`;
  const outputs = [
    ...slots.map((i) => `CAST(${valueOf(i)} AS DOUBLE) AS ${quotedIdentifier(names[i]!)}`),
    ...(audit
      ? slots.flatMap((i) => [
          `CAST(d.pe${i} AS DATE) AS ${quotedIdentifier(`${names[i]}__period_end`)}`,
          `CAST(d.at${i} AS TIMESTAMPTZ) AS ${quotedIdentifier(`${names[i]}__published_at`)}`,
        ])
      : []),
  ];
  const entities = entity
    ? `-- Each ${entity} of the panel, numbered, with its first and last panel day.
     entities AS MATERIALIZED (
       SELECT s.${entity}, CAST(row_number() OVER (ORDER BY s.${entity}) AS BIGINT) AS entity_no, lo.day AS lo, hi.day AS hi
       FROM (SELECT ${entity}, min(CAST(date AS DATE)) AS first, max(CAST(date AS DATE)) AS last
             FROM panel WHERE ${entity} IS NOT NULL AND date IS NOT NULL GROUP BY ${entity}) s
       JOIN days lo ON lo.date = s.first
       JOIN days hi ON hi.date = s.last
     )`
    : `-- Macro: one timeline shared by every sid (§7.2).
     entities AS (SELECT CAST(0 AS BIGINT) AS entity_no, CAST(1 AS INTEGER) AS lo, max(day) AS hi FROM days)`;

  return `WITH panel AS NOT MATERIALIZED ${panelRelation},
     days AS MATERIALIZED (
       SELECT date, timezone(${$.timezone}, date + CAST(${$.cutoff} AS TIME)) AS cutoff_at,
              CAST(row_number() OVER (ORDER BY date) AS INTEGER) AS day
       FROM (SELECT DISTINCT CAST(date AS DATE) AS date FROM panel WHERE date IS NOT NULL)
     ),
     ${entities},
     source AS (
       SELECT e.entity_no, ${quotedIdentifier(source.name)} AS name, ${quotedIdentifier(source.period)} AS period_end, value, recorded_at,
       ${avail} AS avail
       FROM ${quotedIdentifier(source.table)} f ${entity ? `JOIN entities e ON e.${entity} = f.${entity}` : 'CROSS JOIN entities e'}
       WHERE ${quotedIdentifier(source.name)} IN (${$.names.join(', ')})
         AND ${quotedIdentifier(source.period)} IS NOT NULL AND ${published} IS NOT NULL
     ),
     -- Rows in the order they became available, the better of equal instants last. A row
     -- changes the winner when no earlier row has a later period_end (§7.2: an old period's
     -- restatement never replaces a newer period); of rows available at the same instant only
     -- the last can be the winner from that instant on.
     changes AS (
       SELECT entity_no, name, period_end, value, avail
       FROM source
       WINDOW w AS (PARTITION BY entity_no, name ORDER BY avail, period_end, recorded_at NULLS FIRST, value NULLS FIRST)
       QUALIFY coalesce(period_end >= max(period_end) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), true)
           AND coalesce(lead(avail) OVER w <> avail, true)
     ),
     -- The first panel day whose cutoff reaches the change; a change after the last cutoff never shows.
     effective AS (
       SELECT ch.*, days.day
       FROM changes ch ASOF JOIN days ON ch.avail <= days.cutoff_at
     ),
     -- One row per (entity, day) on which any name changes: that name's last change by then.
     steps AS (
       SELECT entity_no, day,
              ${list((i) => `arg_max({${carried}}, avail) FILTER (WHERE name = ${$.names[i]}) AS s${i}`)}
       FROM effective
       GROUP BY entity_no, day
     ),
     -- Each entity's span as marks: kind 0 opens at its first panel day (carrying the state
     -- reached by then), kind 2 closes after its last. Only steps inside the span are spread.
     timeline AS (
       SELECT entity_no, day, 1 AS kind, ${list((i) => `s${i}`, ', ')} FROM steps
       UNION ALL
       SELECT entity_no, lo, 0, ${list(() => 'NULL', ', ')} FROM entities
       UNION ALL
       SELECT entity_no, hi + 1, 2, ${list(() => 'NULL', ', ')} FROM entities
     ),
     held AS (
       SELECT entity_no, day, lead(day) OVER w AS until,
              count(*) FILTER (WHERE kind = 0) OVER w = 1 AND count(*) FILTER (WHERE kind = 2) OVER w = 0 AS inside,
              ${list((i) => `last_value(s${i} IGNORE NULLS) OVER w AS s${i}`)}
       FROM timeline
       WINDOW w AS (PARTITION BY entity_no ORDER BY day, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
     ),
     dense AS (
       SELECT unnest(range((entity_no << 32) + day, (entity_no << 32) + until)) AS slot,
              ${list((i) => `s${i}.v AS v${i}${withPeriod ? `, s${i}.pe AS pe${i}` : ''}${audit ? `, s${i}.at AS at${i}` : ''}`)}
       FROM held
       WHERE inside AND (${list((i) => `s${i} IS NOT NULL`, ' OR ')})
     )
     SELECT p.* EXCLUDE (${ROW}, ${SLOT}),
            ${outputs.join(',\n            ')}
     FROM (SELECT panel.*, ${entity ? '(e.entity_no << 32) + days.day' : 'CAST(days.day AS BIGINT)'} AS ${SLOT}
           FROM panel
           LEFT JOIN days ON days.date = CAST(panel.date AS DATE)
           ${entity ? `LEFT JOIN entities e ON e.${entity} = panel.${entity}` : ''}) p
     LEFT JOIN dense d ON d.slot = p.${SLOT}
     ORDER BY p.${ROW}`;
}

/**
 * Runs `fn` with DuckDB's join reordering off, so each hash join builds on the side written
 * on its right — always the small one here — and the panel streams through as the probe
 * side (DuckDB guide "How to force a join order"). The default choice rests on cardinality
 * guesses over CTEs that flip between runs and cost up to 40 %. The setting is
 * instance-wide (a step owns its instance) and is restored whatever happens.
 */
async function inWrittenJoinOrder<T>(c: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  const before = String((await c.runAndReadAll(`SELECT current_setting('disabled_optimizers')`)).getRowsJS()[0]![0] ?? '');
  const pinned = new Set([...before.split(',').map((o) => o.trim()).filter(Boolean), 'join_order', 'build_side_probe_side']);
  await c.run(`SET disabled_optimizers = ${quotedString([...pinned].join(','))}`);
  try {
    return await fn();
  } finally {
    await c.run(`SET disabled_optimizers = ${quotedString(before)}`);
  }
}

/** ICU's spellings of the zones asked so far (its zone list does not change while a process runs). */
const knownZones = new Map<string, string>();

/** ICU's spelling of an IANA zone, matched case-insensitively; an unknown zone is a 422. */
async function canonicalTimeZone(c: DuckDBConnection, timezone: string): Promise<string> {
  const known = knownZones.get(timezone);
  if (known) return known;
  const found = await c.runAndReadAll('SELECT name FROM pg_timezone_names() WHERE lower(name) = lower($1) ORDER BY name = $1 DESC LIMIT 1', [timezone]);
  const name = found.getRowsJS()[0]?.[0];
  if (typeof name !== 'string') {
    throw new ValidationError(`timezone "${timezone}" is not an IANA time zone`, [
      { field: 'params.timezone', value: timezone, message: 'unknown time zone (e.g. America/New_York)' },
    ], { status: 422 });
  }
  knownZones.set(timezone, name);
  return name;
}

async function columnsOf(c: DuckDBConnection, relation: string): Promise<string[]> {
  return (await c.runAndReadAll(`SELECT * FROM ${relation} LIMIT 0`)).columnNames();
}

/** The panel has what the join needs, and every output column is new. DuckDB names are case-insensitive: `EPS` is `eps`. */
function assertColumns(panel: string[], names: string[], audit: boolean, entity: string | undefined): void {
  const taken = new Set(panel.map((n) => n.toLowerCase()));
  const missing = ['date', ...(entity ? [entity] : [])].filter((n) => !taken.has(n));
  // A real `file_row_number` column would shadow the virtual one that keeps the panel's order.
  const reserved = [ROW, SLOT, 'file_row_number'].filter((n) => taken.has(n));
  if (missing.length || reserved.length) {
    throw new InputError(`panel ${missing.length ? `lacks ${missing.join(', ')}` : `uses pit-join's working columns ${reserved.join(', ')}`}`, [
      ...missing.map((column) => ({ column, message: 'required by pit-join' })),
      ...reserved.map((column) => ({ column, message: 'reserved by pit-join' })),
    ]);
  }
  const owner = new Map<string, string>();
  const problems: ErrorDetail[] = [];
  for (const name of names) {
    if (name.length === 0) problems.push({ field: 'params.names', value: name, message: 'a name must not be empty' });
    for (const column of audit ? [name, `${name}__period_end`, `${name}__published_at`] : [name]) {
      const key = column.toLowerCase();
      const clash = taken.has(key) ? 'a panel column' : owner.get(key);
      if (clash) problems.push({ field: 'params.names', value: name, message: `output column "${column}" collides with ${clash}` });
      owner.set(key, `the output column of "${name}"`);
    }
  }
  if (problems.length) {
    throw new ValidationError(`bad names: ${problems.map((p) => p.message).join('; ')}`, problems, { status: 422 });
  }
}
