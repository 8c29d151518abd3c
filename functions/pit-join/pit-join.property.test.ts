import { DuckDBInstance, quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PitParams } from './params.ts';
import { pitJoinToTable } from './pit-join.test-support.ts';
import { availableAt, cutoffAt, referencePitJoin, wallToInstant, type PanelKey, type ReferenceParams, type SourceRow } from './reference.test-support.ts';

interface Ctx { db: DuckDBInstance; c: DuckDBConnection }
/**
 * Random lakes and panels around DST changes, date-only and timestamped publications near
 * the cutoff, restatements, equal instants written differently, equal published_at with
 * different recorded_at: every output cell of `writePitJoin` (as the step writes it) must equal the brute-force
 * reference (`reference.test-support.ts`, no SQL), and every chosen row must have been available by the
 * cutoff. Seeded, so a failure names its case and replays.
 */
const test = suite<Ctx>('pit-join matches the brute-force reference');

const CASES = 200;
const SEED = 0x5eed_2024;

/** mulberry32: small, fast, good enough to spread test cases. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const pickOne = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, int, pick: pickOne, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

const ZONES = ['America/New_York', 'Europe/London', 'Asia/Tokyo', 'UTC'] as const;
/** 16:00 the usual; 01:30 and 02:30 fall in the spring gap or the autumn repeat in New York or London. */
const CUTOFFS = ['16:00', '16:00', '09:30', '00:00', '23:59', '01:30', '02:30'] as const;
/** US and EU DST changes of 2021, and a leap day. */
const ANCHORS = ['2021-03-14', '2021-11-07', '2021-03-28', '2021-10-31', '2020-02-29'] as const;
const MAX_AGES = [undefined, undefined, '0d', '30d', '90d', '200d'] as const;
const FIELDS = ['eps', 'revenue', 'x"; DROP TABLE panel; --'] as const;
const SERIES = ['GDP', 'CPI'] as const;
const SIDS = ['S1', 'S2', 'S3', 'S4'] as const;
/** Offsets a vendor may write an instant in, minutes east of UTC. */
const WRITTEN_OFFSETS = [0, -300, -240, 60, 540, 330] as const;
const RECORDED = ['2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'] as const;

const DAY_MS = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const addDays = (date: string, n: number): string => iso(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS);
const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

/** An instant (µs) written as vendor text in some offset and layout. */
function writeInstant(r: Rng, micros: number): string {
  const offset = r.pick(WRITTEN_OFFSETS);
  const local = new Date(Math.floor(micros / 1000) + offset * 60_000);
  const sep = r.chance(0.5) ? 'T' : ' ';
  const fraction = micros % 1_000_000 === 0 ? '' : `.${pad(micros % 1_000_000, 6)}`;
  const body = `${local.toISOString().slice(0, 10)}${sep}${local.toISOString().slice(11, 19)}${fraction}`;
  if (offset === 0 && r.chance(0.6)) return `${body}Z`;
  const sign = offset < 0 ? '-' : '+';
  const [h, m] = [Math.floor(Math.abs(offset) / 60), Math.abs(offset) % 60];
  const layout = m === 0 ? r.int(0, 2) : r.int(0, 1);
  return `${body}${sign}${pad(h)}${layout === 0 ? `:${pad(m)}` : layout === 1 ? pad(m) : ''}`;
}

interface Case {
  seed: number;
  panel: PanelKey[];
  fundamentals: SourceRow[];
  macro: SourceRow[];
  params: Omit<PitParams, 'kind' | 'names'>;
  fields: string[];
  series: string[];
}

function makeCase(seed: number): Case {
  const r = rng(seed);
  const timezone = r.pick(ZONES);
  const cutoff = r.pick(CUTOFFS);
  const anchor = r.pick(ANCHORS);
  const first = addDays(anchor, -r.int(3, 10));
  const span = r.int(5, 16);
  const calendar = Array.from({ length: span }, (_, i) => addDays(first, i));
  const dates = calendar.filter(() => r.chance(0.75));
  if (dates.length === 0) dates.push(calendar[0]!);
  const sids = SIDS.slice(0, r.int(1, SIDS.length));
  const panel: PanelKey[] = [];
  for (const date of dates) for (const sid of sids) if (r.chance(0.9)) panel.push({ date, sid });
  if (panel.length === 0) panel.push({ date: dates[0]!, sid: sids[0]! });

  // A moment near some day's cutoff, or anywhere in that day.
  const near = (): number => {
    const day = addDays(first, r.int(-4, span + 1));
    if (r.chance(0.7)) {
      const delta = r.pick([-61, -60, -1, 0, 0, 1, 59, 60, 61]) * 60_000_000;
      return cutoffAt(day, cutoff, timezone) + delta + (r.chance(0.1) ? r.int(1, 999_999) : 0);
    }
    const wall = Date.parse(`${day}T00:00:00Z`) + r.int(0, 1439) * 60_000;
    return wallToInstant(timezone, wall) * 1000;
  };
  const published = (): string => (r.chance(0.35) ? addDays(first, r.int(-4, span + 1)) : writeInstant(r, near()));
  const periodsBack = (n: number): string[] => Array.from({ length: n }, (_, i) => addDays(first, -15 - 30 * i + r.int(-3, 3))).concat(addDays(first, r.int(0, 3)));

  const rows = (entities: readonly (string | null)[], names: readonly string[], count: number): SourceRow[] => {
    const out: SourceRow[] = [];
    const periods = periodsBack(8);
    for (let i = 0; i < count; i++) {
      const prev = out.length > 0 && r.chance(0.45) ? r.pick(out) : undefined;
      const base: SourceRow = prev
        ? { ...prev }
        : { entity: r.pick(entities), name: r.pick(names), periodEnd: r.pick(periods), value: 0, published: published(), recordedAt: null };
      if (prev) {
        const how = r.int(0, 3);
        if (how === 0) base.published = published(); // a restatement, earlier or later
        else if (how === 1) base.published = writeInstant(r, availableAt(prev.published, timezone)); // the same instant, written otherwise
        else if (how === 2) base.periodEnd = r.pick(periods); // another period, same publication
        // how === 3: the very same published_at, told apart only by recorded_at
      }
      base.value = r.chance(0.05) ? null : r.int(-500, 500) / 4;
      base.recordedAt = Date.parse(r.pick(RECORDED)) * 1000;
      out.push(base);
    }
    return out;
  };
  const fields = FIELDS.filter(() => r.chance(0.7));
  if (fields.length === 0) fields.push(FIELDS[0]);
  const series = SERIES.filter(() => r.chance(0.7));
  if (series.length === 0) series.push(SERIES[0]);
  return {
    seed,
    panel,
    fundamentals: rows([...sids, 'OTHER'], [...FIELDS, 'unrequested'], r.int(0, 40)),
    macro: rows([null], [...SERIES, 'UNRATE'], r.int(0, 15)),
    params: { cutoff, timezone, maxAge: r.pick(MAX_AGES), audit: true },
    fields,
    series,
  };
}

async function load(c: DuckDBConnection, k: Case): Promise<void> {
  for (const t of ['panel', 'fundamentals', 'macro', 'joined']) await c.run(`DROP TABLE IF EXISTS ${t}`);
  const lit = (v: string | number | null, type: string) => (v === null ? `CAST(NULL AS ${type})` : `CAST(${typeof v === 'string' ? quotedString(v) : v} AS ${type})`);
  const values = (tuples: string[][]) => tuples.map((t) => `(${t.join(', ')})`).join(', ');
  await c.run(`CREATE TABLE panel AS SELECT * FROM (VALUES ${values(k.panel.map((p, i) => [lit(p.date, 'DATE'), lit(p.sid, 'VARCHAR'), lit(i, 'INTEGER')]))}) v(date, sid, seq)`);
  const source = (rows: SourceRow[]) => rows.map((s) => [
    lit(s.entity, 'VARCHAR'), lit(s.name, 'VARCHAR'), lit(s.periodEnd, 'DATE'), lit(s.value, 'DOUBLE'), lit(s.published, 'VARCHAR'),
    `make_timestamptz(${s.recordedAt})`,
  ]);
  const create = async (name: string, cols: string, rows: SourceRow[]) => {
    const body = rows.length > 0 ? values(source(rows)) : values([[lit(null, 'VARCHAR'), lit(null, 'VARCHAR'), lit(null, 'DATE'), lit(null, 'DOUBLE'), lit(null, 'VARCHAR'), 'CAST(NULL AS TIMESTAMPTZ)']]);
    await c.run(`CREATE TABLE ${name} AS SELECT ${cols} FROM (VALUES ${body}) v(e, n, p, val, pub, rec)${rows.length > 0 ? '' : ' WHERE false'}`);
  };
  await create('fundamentals', 'e AS sid, n AS field, p AS period_end, val AS value, pub AS published_at, rec AS recorded_at', k.fundamentals);
  await create('macro', 'n AS series, p AS period, val AS value, pub AS realtime_start, rec AS recorded_at', k.macro);
}

interface Out { date: string | null; sid: string | null; seq: number; cells: { value: number | null; periodEnd: string | null; at: number | null }[] }

async function readOut(c: DuckDBConnection, names: string[], audit: boolean): Promise<Out[]> {
  const cols = names.flatMap((n) => [
    quotedIdentifier(n),
    audit ? `strftime(${quotedIdentifier(`${n}__period_end`)}, '%Y-%m-%d')` : 'NULL',
    audit ? `epoch_us(${quotedIdentifier(`${n}__published_at`)})` : 'NULL',
  ]);
  const r = await c.runAndReadAll(`SELECT strftime(date, '%Y-%m-%d'), sid, seq, ${cols.join(', ')} FROM joined`);
  return r.getRowsJS().map((row) => ({
    date: row[0] as string | null,
    sid: row[1] as string | null,
    seq: Number(row[2]),
    cells: names.map((_, i) => ({
      value: row[3 + 3 * i] as number | null,
      periodEnd: row[4 + 3 * i] as string | null,
      at: row[5 + 3 * i] === null ? null : Number(row[5 + 3 * i] as bigint),
    })),
  }));
}

async function check(c: DuckDBConnection, k: Case, kind: 'fundamentals' | 'macro', audit: boolean): Promise<number> {
  const names = kind === 'fundamentals' ? k.fields : k.series;
  const label = `seed ${k.seed} ${kind} ${JSON.stringify({ ...k.params, names })}`;
  await c.run('DROP TABLE IF EXISTS joined');
  const count = await pitJoinToTable(c, { kind, names, ...k.params, audit });
  const out = await readOut(c, names, audit);
  assert.is(count, k.panel.length, `${label}: row count`);
  assert.equal(out.map((o) => [o.date, o.sid, o.seq]), k.panel.map((p, i) => [p.date, p.sid, i]), `${label}: panel rows in order`);
  const params: ReferenceParams = {
    kind, names, cutoff: k.params.cutoff, timezone: k.params.timezone,
    ...(k.params.maxAge ? { maxAgeDays: Number(k.params.maxAge.slice(0, -1)) } : {}),
  };
  const expected = referencePitJoin(k.panel, kind === 'fundamentals' ? k.fundamentals : k.macro, params);
  let cells = 0;
  out.forEach((o, i) => {
    names.forEach((name, j) => {
      const got = o.cells[j]!;
      const want = expected[i]![j]!;
      const where = `${label}: ${name} for ${o.sid} on ${o.date}`;
      assert.is(got.value, want.value, `${where}: value`);
      if (audit) {
        assert.is(got.periodEnd, want.periodEnd, `${where}: period_end`);
        assert.is(got.at, want.availableAt, `${where}: published_at`);
        if (got.at !== null) assert.ok(got.at <= cutoffAt(o.date!, k.params.cutoff, k.params.timezone), `${where}: chosen row not available by the cutoff`);
      }
      cells++;
    });
  });
  return cells;
}

test.before(async (ctx) => {
  // Tiny tables: one thread spends less on scheduling than it would gain.
  ctx.db = await DuckDBInstance.create(':memory:', { threads: '1' });
  ctx.c = await ctx.db.connect();
});
test.after((ctx) => {
  ctx.c.closeSync();
  ctx.db.closeSync();
});

test('the reference’s own time-zone arithmetic agrees with ICU around every DST change it is used on', async (ctx) => {
  // The reference must be right on its own terms: wall times across both 2021 changes in each
  // zone, every 15 minutes, including the missing and the repeated hour.
  const days = ['2021-03-13', '2021-03-14', '2021-03-27', '2021-03-28', '2021-10-30', '2021-10-31', '2021-11-06', '2021-11-07'];
  const walls = days.flatMap((d) => Array.from({ length: 96 }, (_, i) => `${d} ${pad(Math.floor(i / 4))}:${pad((i % 4) * 15)}:00`));
  for (const tz of [...ZONES, 'Australia/Lord_Howe', 'America/Sao_Paulo']) {
    const r = await ctx.c.runAndReadAll(
      `SELECT w, epoch_ms(timezone($1, CAST(w AS TIMESTAMP))) FROM unnest([${walls.map(quotedString).join(', ')}]) t(w)`,
      [tz],
    );
    for (const [wall, ms] of r.getRowsJS()) {
      assert.is(wallToInstant(tz, Date.parse(`${String(wall).replace(' ', 'T')}Z`)), Number(ms as bigint), `${tz} ${wall}`);
    }
  }
});

test(`${CASES} random cases: every cell equals the reference and was available by the cutoff`, async (ctx) => {
  const started = performance.now();
  let cells = 0;
  for (let i = 0; i < CASES; i++) {
    const k = makeCase(SEED + i);
    await load(ctx.c, k);
    // Audit on most runs (to check the chosen row), off on some: the values must not change.
    cells += await check(ctx.c, k, 'fundamentals', i % 5 !== 0);
    cells += await check(ctx.c, k, 'macro', i % 7 !== 0);
  }
  assert.ok(cells > 10_000, `only ${cells} cells checked`);
  assert.ok(performance.now() - started < 60_000, 'property run too slow');
});

test.run();
