/**
 * Earnings-call transcripts for the `transcripts` dataset (DESIGN §5, §6.2, §7.3): the
 * hand-written SAMPLE_CALLS first, then seeded synthetic calls, in the two layouts of §7.3
 * (Motley Fool and Seeking Alpha), as JSON Lines with exactly the keys TRANSCRIPT_KEYS.
 *
 * Every synthetic call comes with the turns §7.3 makes of it (section, speaker, role, title,
 * firm, words), recorded while the text is written, so a splitter can be checked against
 * thousands of calls without a second parser. The generator sprinkles in the hard cases of the
 * samples: analysts from several firms, `Unidentified Analyst` and the other placeholders,
 * `[Operator Instructions]`, a question from the webcast read out inside the CFO's turn, an
 * operator announcing one analyst while the speaker line names another (the label wins), text
 * after the Q&A header before any speaker line, titles with commas, `Corporate Participants`
 * with three-part entries and a `Presentation` header, en and em dashes in the lists, upper-case
 * speaker names, \r\n and \r line ends, padded and blank lines, and some long calls (~50 KB).
 * Prose never contains a `Name -- …` line, a bare participant name or a header.
 *
 * @example
 *   const { lines, expected } = generateTranscripts(securities, 42);
 *   // lines[0] is SAMPLE_CALLS[0] as JSON; at seed 42, expected.get('S00003-2019-05-13') → that call's turns
 *   for (const call of syntheticTranscripts(7, 1000)) bench(call.text); // ≈ 18 MB, no universe needed
 */
import {
  SAMPLE_CALLS,
  type SampleTurn,
  type TranscriptLayout,
  type TranscriptSection,
  type TurnSpeaker,
} from './demo-transcript-samples.ts';
import { newYorkTimestamp } from './new-york-time.ts';
import { Random, STREAM, streamSeed } from './random.ts';
import { dayNumber, isoDate, tradingDayOnOrAfter } from './trading-calendar.ts';

export { SAMPLE_CALLS } from './demo-transcript-samples.ts';
export type {
  SampleCall,
  SampleTurn,
  TranscriptLayout,
  TranscriptRole,
  TranscriptSection,
  TurnSpeaker,
} from './demo-transcript-samples.ts';

/** The keys of every transcripts.jsonl object, in the order they are written. */
export const TRANSCRIPT_KEYS = ['transcript_id', 'sid', 'call_start', 'published_at', 'text'] as const;

/** A turn as §7.3 splits it: a SampleTurn plus its whitespace-separated word count. */
export interface ExpectedTurn extends SampleTurn {
  readonly words: number;
}

/** One call, with the turns its text must split into. */
export interface DemoTranscript {
  /** `<sid>-<call date>`, e.g. `S00003-2019-05-13`. */
  readonly transcriptId: string;
  readonly sid: string;
  readonly layout: TranscriptLayout;
  /** ISO 8601 with the New York offset (DST-correct), e.g. `2019-05-13T17:00:00-04:00`. */
  readonly callStart: string;
  /** Later than callStart, same form. */
  readonly publishedAt: string;
  readonly text: string;
  readonly turns: readonly ExpectedTurn[];
}

/** What the generator needs to know of a demo security. */
export interface TranscriptSecurity {
  readonly sid: string;
  readonly name: string;
  /** symbols.csv spans; a call's title line shows the ticker valid on its day. */
  readonly tickers: readonly { readonly ticker: string; readonly from: string; readonly to: string | null }[];
  readonly listedOn: string;
  /** Last trading day; null = still listed. No call falls after it. */
  readonly delistedOn: string | null;
}

export interface TranscriptOptions {
  /** Open the file with SAMPLE_CALLS (their sid and calendar quarter get no synthetic call). */
  samples?: boolean;
  /** Mean size of a synthetic call's text in characters; one call in ten is about 2.75 times that. */
  averageBytes?: number;
}

export const DEFAULT_TRANSCRIPT_OPTIONS: Required<TranscriptOptions> = { samples: true, averageBytes: 18_000 };

export interface DemoTranscripts {
  /** transcripts.jsonl lines without their `\n`: the samples, then each security's calls by date. */
  readonly lines: string[];
  /** The turns of every synthetic call by transcript_id (the samples' are in SAMPLE_CALLS). */
  readonly expected: Map<string, readonly ExpectedTurn[]>;
}

/**
 * transcripts.jsonl for a demo universe: about two quarterly calls (1–3, consecutive quarters)
 * per security that was listed when they were held, between 2019-01-18 and 2020-11-16.
 * `securities[i]` draws from stream item `i`, so pass them in sid order: a security's calls
 * depend on the seed and its position only, not on the size of the universe. At scale 1
 * (300 securities) that is 410 calls after the 3 samples, 8.3 MB, in about 0.3 s.
 *
 * @example
 *   const { lines, expected } = generateTranscripts(securities, 42);
 *   await writeFile('transcripts.jsonl', lines.map((l) => `${l}\n`).join(''));
 */
export function generateTranscripts(
  securities: readonly TranscriptSecurity[],
  seed: number,
  options: TranscriptOptions = {},
): DemoTranscripts {
  const { samples, averageBytes } = { ...DEFAULT_TRANSCRIPT_OPTIONS, ...options };
  checkAverage(averageBytes);
  const lines = samples ? SAMPLE_CALLS.map(transcriptJson) : [];
  const taken = new Set(samples ? SAMPLE_CALLS.map((c) => `${c.sid} ${calendarQuarter(c.callStart)}`) : []);
  const expected = new Map<string, readonly ExpectedTurn[]>();
  securities.forEach((security, ordinal) => {
    for (const call of securityCalls(security, new Random(streamSeed(seed, STREAM.transcripts, ordinal)), averageBytes, taken)) {
      lines.push(transcriptJson(call));
      expected.set(call.transcriptId, call.turns);
    }
  });
  return { lines, expected };
}

/**
 * `count` synthetic calls of random companies (sids `B000001`, `B000002`, …), alternating
 * layouts, about `averageBytes` characters each on average: `count × averageBytes` in all.
 * For benchmarks; needs no demo universe. Each call draws from its own stream, so the first
 * `n` calls are the same for any `count ≥ n`.
 *
 * @example
 *   const jsonl = [...syntheticTranscripts(1, 500, { averageBytes: 40_000 })].map(transcriptJson).join('\n'); // ≈ 20 MB
 */
export function* syntheticTranscripts(
  seed: number,
  count: number,
  options: Pick<TranscriptOptions, 'averageBytes'> = {},
): Generator<DemoTranscript> {
  const { averageBytes } = { ...DEFAULT_TRANSCRIPT_OPTIONS, ...options };
  checkAverage(averageBytes);
  for (let i = 0; i < count; i++) {
    const rng = new Random(streamSeed(seed, STREAM.syntheticTranscripts, i));
    const name = `${rng.pick(COMPANY_FIRST)} ${rng.pick(COMPANY_SECOND)}`;
    const company: Company = { name: `${name} ${rng.pick(['Inc.', 'Corp.', 'Holdings Inc.', 'Co.'])}`, short: name, ticker: randomTicker(rng) };
    const slot = schedule(rng, rng.pick(CALL_PERIODS));
    const layout: TranscriptLayout = i % 2 === 0 ? 'fool' : 'sa';
    yield writeCall(rng, `B${String(i + 1).padStart(6, '0')}`, company, castOf(rng), slot, layout, callSize(rng, averageBytes));
  }
}

/**
 * One transcripts.jsonl line (no `\n`): exactly TRANSCRIPT_KEYS, in that order.
 *
 * @example
 *   transcriptJson(SAMPLE_CALLS[0]) // '{"transcript_id":"S00008-2020-02-20","sid":"S00008","call_start":…,"text":"Prepared Remarks:\\n\\nOperator…"}'
 */
export function transcriptJson(call: Pick<DemoTranscript, 'transcriptId' | 'sid' | 'callStart' | 'publishedAt' | 'text'>): string {
  return JSON.stringify({
    transcript_id: call.transcriptId,
    sid: call.sid,
    call_start: call.callStart,
    published_at: call.publishedAt,
    text: call.text,
  });
}

/** Whitespace-separated words (§6.2 `words`): `countWords('[Operator Instructions] Go ahead.') === 4`. */
export function countWords(text: string): number {
  let n = 0;
  for (const word of text.split(/\s+/)) if (word.length > 0) n++;
  return n;
}

function checkAverage(averageBytes: number): void {
  if (!(averageBytes >= 1000 && Number.isFinite(averageBytes))) throw new RangeError(`averageBytes must be a number ≥ 1000, got ${averageBytes}`);
}

// ---------------------------------------------------------------------------------------
// Schedule: one call per reported quarter, three to seven weeks after the quarter ends

/** The quarters whose calls are held in 2019–2020: Q4 2018 (called in January–February 2019) to Q3 2020. */
const CALL_PERIODS = ['2018-12-31', '2019-03-31', '2019-06-30', '2019-09-30', '2019-12-31', '2020-03-31', '2020-06-30', '2020-09-30'] as const;
/** Local New York start times: before the open, around noon, after the close. */
const CALL_MINUTES = [8 * 60, 8 * 60 + 30, 9 * 60, 10 * 60, 11 * 60, 13 * 60, 16 * 60 + 30, 17 * 60, 17 * 60 + 30];
const ORDINALS = ['first', 'second', 'third', 'fourth'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

interface Slot {
  /** Quarter-end date of the reported period. */
  period: string;
  date: string;
  minute: number;
}

function schedule(rng: Random, period: string): Slot {
  return { period, date: tradingDayOnOrAfter(isoDate(dayNumber(period) + rng.int(18, 46))), minute: rng.pick(CALL_MINUTES) };
}

/** `2020Q1` for any date or timestamp in it. */
function calendarQuarter(iso: string): string {
  return `${iso.slice(0, 4)}Q${Math.floor((Number(iso.slice(5, 7)) - 1) / 3) + 1}`;
}

/**
 * A vendor publishes the transcript hours after the call, or in the next two days, between
 * 06:00 and 23:30 local time: never in the hour a DST switch skips, and always after the call.
 */
function publication(rng: Random, slot: Slot, minutes: number): string {
  const earliest = slot.minute + minutes + 45;
  const latest = 23 * 60 + 30;
  if (earliest <= latest && rng.chance(0.6)) return newYorkTimestamp(slot.date, rng.int(earliest, Math.min(latest, earliest + 8 * 60)));
  return newYorkTimestamp(isoDate(dayNumber(slot.date) + rng.int(1, 2)), rng.int(6 * 60, latest));
}

// ---------------------------------------------------------------------------------------
// Who is on a call

interface Company {
  /** As the title line prints it, e.g. `Atlas Energy Inc`. */
  name: string;
  /** As people say it, e.g. `Atlas Energy`. */
  short: string;
  ticker: string;
}

interface Executive {
  name: string;
  title: string;
  /** The first name, as colleagues address them. */
  first: string;
}

interface Analyst {
  name: string;
  firm: string;
  first: string;
}

/** The same people across a company's calls; each call invites some of the analysts. */
interface Cast {
  ceo: Executive;
  cfo: Executive;
  ir: Executive;
  coo: Executive | null;
  analysts: Analyst[];
}

const FIRST_NAMES = [
  'James', 'Mary', 'Robert', 'Patricia', 'Michael', 'Jennifer', 'William', 'Linda', 'David', 'Elizabeth', 'Richard',
  'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Christopher', 'Karen', 'Daniel', 'Nancy', 'Matthew', 'Lisa',
  'Anthony', 'Betty', 'Mark', 'Sandra', 'Steven', 'Ashley', 'Andrew', 'Emily', 'Brian', 'Michelle', 'Kevin', 'Amanda',
  'Priya', 'Wei', 'Hiroshi', 'Aisha', 'Carlos', 'Fatima', 'Olusegun', 'Ingrid', 'Rajesh', 'Mei', 'Santiago', 'Anya',
  'Pieter', 'Sean', 'Mary-Kate', 'Jean-Luc', 'Dmitri', 'Chloe', 'Tariq', 'Yuki', 'Lars', 'Gabriela', 'Kwame', 'Noor',
];
const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Wilson', 'Anderson', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark',
  'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Green', 'Baker', 'Adams', 'Nelson',
  'Chen', 'Wang', 'Patel', 'Nakamura', 'Okafor', 'Kowalski', 'Schmidt', 'Rossi', 'Novak', 'Haddad', 'Kim', 'Singh',
  "O'Brien", "O'Connor", 'McAllister', 'Fitzgerald', 'Lindqvist', 'Ivanova', 'Mensah', 'Takahashi', 'Dubois',
  'van Dijk', 'van der Berg', 'de Souza', 'von Steuben', 'Abernathy-Cole', 'Oyelaran', 'Castellano', 'Whitfield',
];
const SUFFIXES = ['Jr.', 'III', 'Sr.', 'II'];

const CEO_TITLES = [
  'Chief Executive Officer', 'President and Chief Executive Officer', 'President, Chief Executive Officer and Director',
  'Chairman and Chief Executive Officer', 'Chairman, President and Chief Executive Officer', 'Chief Executive Officer and Director',
];
const CFO_TITLES = [
  'Chief Financial Officer', 'Chief Financial Officer', 'Executive Vice President and Chief Financial Officer',
  'Senior Vice President, Chief Financial Officer', 'Chief Financial Officer and Treasurer', 'Executive Vice President, Finance and Chief Financial Officer',
];
const IR_TITLES = [
  'Vice President, Investor Relations', 'Director, Investor Relations', 'Head of Investor Relations',
  'Senior Director of Investor Relations', 'Vice President of Investor Relations and Treasurer', 'Investor Relations',
];
const COO_TITLES = ['Chief Operating Officer', 'President and Chief Operating Officer', 'Executive Vice President, Operations', 'President, International'];
const FIRMS = [
  'Morgan Stanley', 'Goldman Sachs', 'JPMorgan', 'Bank of America', 'Citigroup', 'Wells Fargo', 'Barclays', 'UBS',
  'Credit Suisse', 'Deutsche Bank', 'Jefferies', 'Evercore ISI', 'Raymond James', 'RBC Capital Markets',
  'KeyBanc Capital Markets', 'Piper Sandler', 'Cowen', 'Stifel', 'Baird', 'Oppenheimer', 'Needham & Company',
  'William Blair', 'BMO Capital Markets', 'Wolfe Research', 'Bernstein', 'Mizuho', 'Truist Securities',
  'Keefe, Bruyette & Woods', 'Loop Capital', 'D.A. Davidson', 'Macquarie', 'Guggenheim Partners', 'Wedbush Securities',
];

const COMPANY_FIRST = ['Northwind', 'Bluestone', 'Kestrel', 'Ridgeline', 'Larkspur', 'Copperfield', 'Westbrook', 'Ironwood', 'Solace', 'Tidewater', 'Marigold', 'Halcyon'];
const COMPANY_SECOND = ['Industries', 'Therapeutics', 'Software', 'Logistics', 'Foods', 'Energy', 'Semiconductor', 'Financial', 'Networks', 'Brands'];

/** Distinct names within a company: a bare-name speaker line must identify one person. */
function castOf(rng: Random): Cast {
  const used = new Set<string>();
  const person = (): { name: string; first: string } => {
    for (;;) {
      const first = rng.pick(FIRST_NAMES);
      const name = `${first} ${rng.pick(LAST_NAMES)}${rng.chance(0.03) ? ` ${rng.pick(SUFFIXES)}` : ''}`;
      if (used.has(name.toLowerCase())) continue;
      used.add(name.toLowerCase());
      return { name, first };
    }
  };
  const executive = (titles: readonly string[]): Executive => ({ ...person(), title: rng.pick(titles) });
  const ceo = executive(CEO_TITLES);
  const cfo = executive(CFO_TITLES);
  const ir = executive(IR_TITLES);
  const coo = rng.chance(0.3) ? executive(COO_TITLES) : null;
  const firms = shuffled(rng, FIRMS).slice(0, rng.int(4, 10));
  return { ceo, cfo, ir, coo, analysts: firms.map((firm) => ({ ...person(), firm })) };
}

function shuffled<T>(rng: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function randomTicker(rng: Random): string {
  let ticker = '';
  for (let i = rng.int(3, 4); i > 0; i--) ticker += LETTERS[rng.int(0, 25)];
  return ticker;
}

/** Most calls vary around the mean; one in ten is a long one (~2.75×, about 50 KB at the default). */
function callSize(rng: Random, averageBytes: number): number {
  return Math.round(averageBytes * (rng.chance(0.1) ? rng.uniform(2.4, 3.1) : rng.uniform(0.4, 1.2)));
}

function securityCalls(security: TranscriptSecurity, rng: Random, averageBytes: number, taken: ReadonlySet<string>): DemoTranscript[] {
  const short = security.name.replace(/\s+(Holdings Inc|Group Inc|Inc|Corp|Co|Ltd|Corporation)\.?$/, '');
  const cast = castOf(rng);
  const slots = CALL_PERIODS.map((period) => schedule(rng, period)).filter(
    (s) =>
      security.listedOn <= s.date &&
      (security.delistedOn === null || s.date <= security.delistedOn) &&
      !taken.has(`${security.sid} ${calendarQuarter(s.date)}`),
  );
  const count = Math.min(slots.length, rng.pick([1, 2, 2, 2, 3]));
  const first = rng.int(0, slots.length - count);
  let layout: TranscriptLayout = rng.chance(0.5) ? 'fool' : 'sa';
  return slots.slice(first, first + count).map((slot) => {
    const span = security.tickers.find((t) => t.from <= slot.date && (t.to === null || slot.date <= t.to)) ?? security.tickers.at(-1);
    const company: Company = { name: security.name, short, ticker: span?.ticker ?? security.sid };
    const call = writeCall(rng, security.sid, company, cast, slot, layout, callSize(rng, averageBytes));
    layout = layout === 'fool' ? 'sa' : 'fool';
    return call;
  });
}

// ---------------------------------------------------------------------------------------
// Writing a call: the text and, line by line, the turns §7.3 makes of it

type MutableTurn = { -readonly [K in keyof ExpectedTurn]: ExpectedTurn[K] };

const OPERATOR: TurnSpeaker = { speaker: 'Operator', role: 'operator', title: null, firm: null };
const NO_SPEAKER: TurnSpeaker = { speaker: null, role: 'unknown', title: null, firm: null };

/**
 * Appends lines and keeps the §7.3 state a splitter keeps: the section, the current speaker
 * and the open turn. A speaker line or a header closes the turn; text opens one when none is
 * open (so text right after a header continues the previous speaker in a new turn); list
 * lines and `Duration:` lines are neither.
 */
class CallWriter {
  private readonly out: string[] = [];
  private chars = 0;
  readonly turns: MutableTurn[] = [];
  private section: TranscriptSection = 'prepared';
  private who: TurnSpeaker = NO_SPEAKER;
  private open: MutableTurn | undefined;

  constructor(
    private readonly rng: Random,
    /** Chance of a blank line between two lines (the Fool layout has one everywhere). */
    private readonly blankLines: number,
  ) {}

  get size(): number {
    return this.chars;
  }

  header(line: string, section: TranscriptSection): void {
    this.push(line);
    this.section = section;
    this.open = undefined;
  }

  speaker(line: string, who: TurnSpeaker): void {
    this.push(line);
    this.who = who;
    this.open = undefined;
  }

  text(paragraph: string): void {
    this.push(paragraph);
    if (this.open === undefined) {
      this.open = { section: this.section, turn: this.turns.length, ...this.who, words: 0 };
      this.turns.push(this.open);
    }
    this.open.words += countWords(paragraph);
  }

  /** A participant-list line or `Duration:`: no text, and the open turn stays open. */
  silent(line: string): void {
    this.push(line);
  }

  finish(eol: string): string {
    return this.out.join(eol);
  }

  private push(line: string): void {
    if (this.out.length > 0 && this.rng.chance(this.blankLines)) this.out.push(this.rng.chance(0.02) ? ' \t' : '');
    // Vendors leave stray spaces; §7.3 trims every line.
    const padded = this.rng.chance(0.015) ? (this.rng.chance(0.5) ? `  ${line}` : `${line} `) : line;
    this.out.push(padded);
    this.chars += padded.length + 1;
  }
}

/** How a layout labels people, and which variant of it this call uses. */
interface Style {
  layout: TranscriptLayout;
  /** Seeking Alpha: `Corporate Participants` with a `Presentation` header (a Thomson-style variant). */
  corporate: boolean;
  /** Seeking Alpha: list entries `Name - Firm - Title` instead of `Name - Title` / `Name - Firm`. */
  threePart: boolean;
  /** Seeking Alpha: the separator in list entries. */
  dash: string;
  /** Seeking Alpha: speaker lines in capitals (a bare name matches its list entry case-insensitively). */
  capitals: boolean;
}

interface Context {
  rng: Random;
  company: Company;
  cast: Cast;
  slot: Slot;
  quarter: string;
  year: string;
  /** Quarterly revenue in USD millions. */
  revenue: number;
  /** The headline figures, the same every time someone repeats them. */
  growth: number;
  grossMargin: number;
  eps: number;
  /** What is left of each sentence bank this call: sentences are dealt like cards, so they repeat only once a bank is used up. */
  decks: Map<readonly Sentence[], Sentence[]>;
}

function writeCall(rng: Random, sid: string, company: Company, cast: Cast, slot: Slot, layout: TranscriptLayout, target: number): DemoTranscript {
  const q = Math.floor((Number(slot.period.slice(5, 7)) - 1) / 3);
  const x: Context = {
    rng,
    company,
    cast,
    slot,
    quarter: ORDINALS[q]!,
    year: slot.period.slice(0, 4),
    revenue: Math.exp(rng.uniform(Math.log(40), Math.log(6000))),
    growth: Math.round(rng.uniform(-12, 25) * 10) / 10,
    grossMargin: Math.round(rng.uniform(20, 65) * 10) / 10,
    eps: Math.round(rng.uniform(-0.4, 3.5) * 100) / 100,
    decks: new Map(),
  };
  const corporate = layout === 'sa' && rng.chance(0.25);
  const style: Style = {
    layout,
    corporate,
    threePart: corporate && rng.chance(0.5),
    dash: layout === 'sa' && rng.chance(0.15) ? rng.pick([' – ', ' — ']) : ' - ',
    capitals: layout === 'sa' && rng.chance(0.05),
  };
  const w = new CallWriter(rng, layout === 'fool' ? 1 : 0.12);
  const invited = shuffled(rng, cast.analysts).slice(0, rng.int(Math.min(3, cast.analysts.length), cast.analysts.length));
  const executives = [cast.ir, cast.ceo, cast.cfo, ...(cast.coo ? [cast.coo] : [])];
  const label = labeller(style, company, executives, invited);

  if (layout === 'sa') {
    w.text(titleLine(x));
    participantLists(w, rng, style, company, executives, invited);
    if (corporate) w.header(caseVariant(rng, 'Presentation'), 'prepared');
  } else {
    w.header('Prepared Remarks:', 'prepared');
  }
  prepared(w, x, label, target);
  const spoke = questionsAndAnswers(w, x, style, label, invited, target);
  closing(w, x, label);
  if (layout === 'fool') {
    w.silent(`Duration: ${Math.min(95, Math.max(18, Math.round(w.turns.reduce((n, t) => n + t.words, 0) / 130)))} minutes`);
    w.silent(rng.chance(0.9) ? 'Call participants:' : 'Call Participants:');
    for (const e of executives) w.silent(`${e.name} -- ${e.title}`);
    for (const a of spoke) w.silent(`${a.name} -- ${a.firm} -- Analyst`);
  }

  const eol = rng.chance(0.1) ? '\r\n' : rng.chance(0.02) ? '\r' : '\n';
  const text = w.finish(eol);
  const callStart = newYorkTimestamp(slot.date, slot.minute);
  const publishedAt = publication(rng, slot, Math.round(w.size / 900) + 20);
  return { transcriptId: `${sid}-${slot.date}`, sid, layout, callStart, publishedAt, text, turns: w.turns };
}

/** Speaker lines and the speakers they make, per layout. */
interface Labeller {
  executive(e: Executive): [string, TurnSpeaker];
  analyst(a: Analyst): [string, TurnSpeaker];
}

function labeller(style: Style, company: Company, executives: readonly Executive[], analysts: readonly Analyst[]): Labeller {
  if (style.layout === 'fool') {
    return {
      executive: (e) => [`${e.name} -- ${e.title}`, { speaker: e.name, role: 'executive', title: e.title, firm: null }],
      analyst: (a) => [`${a.name} -- ${a.firm} -- Analyst`, { speaker: a.name, role: 'analyst', title: 'Analyst', firm: a.firm }],
    };
  }
  const bare = (name: string) => (style.capitals ? name.toUpperCase() : name);
  const known = new Set([...executives, ...analysts]);
  return {
    executive: (e) => {
      if (!known.has(e)) throw new RangeError(`${e.name} is not in the participant list`);
      return [bare(e.name), { speaker: e.name, role: 'executive', title: e.title, firm: style.threePart ? company.short : null }];
    },
    analyst: (a) => {
      if (!known.has(a)) throw new RangeError(`${a.name} is not in the participant list`);
      return [bare(a.name), { speaker: a.name, role: 'analyst', title: style.threePart ? 'Analyst' : null, firm: a.firm }];
    },
  };
}

function caseVariant(rng: Random, header: string): string {
  const v = rng.next();
  return v < 0.05 ? header.toUpperCase() : v < 0.12 ? `${header}:` : header;
}

function participantLists(w: CallWriter, rng: Random, style: Style, company: Company, executives: readonly Executive[], analysts: readonly Analyst[]): void {
  const { dash } = style;
  w.silent(caseVariant(rng, style.corporate ? 'Corporate Participants' : 'Company Participants'));
  for (const e of executives) w.silent(style.threePart ? `${e.name}${dash}${company.short}${dash}${e.title}` : `${e.name}${dash}${e.title}`);
  w.silent(caseVariant(rng, 'Conference Call Participants'));
  for (const a of analysts) w.silent(style.threePart ? `${a.name}${dash}${a.firm}${dash}Analyst` : `${a.name}${dash}${a.firm}`);
}

function titleLine(x: Context): string {
  const { company, slot, rng } = x;
  const q = `Q${ORDINALS.indexOf(x.quarter) + 1} ${x.year}`;
  if (rng.chance(0.3)) return `${company.name} (${company.ticker}) CEO ${x.cast.ceo.name} on ${q} Results - Earnings Call Transcript`;
  const [y, m, d] = slot.date.split('-').map(Number) as [number, number, number];
  const hour = Math.floor(slot.minute / 60);
  const clock = `${((hour + 11) % 12) + 1}:${String(slot.minute % 60).padStart(2, '0')} ${hour < 12 ? 'AM' : 'PM'}`;
  return `${company.name} (${company.ticker}) ${q} Earnings Conference Call ${MONTHS[m - 1]} ${d}, ${y} ${clock} ET`;
}

// ---------------------------------------------------------------------------------------
// The sections

function prepared(w: CallWriter, x: Context, label: Labeller, target: number): void {
  const { rng, cast } = x;
  w.speaker('Operator', OPERATOR);
  w.text(operatorWelcome(x));
  const [irLine, ir] = label.executive(cast.ir);
  w.speaker(irLine, ir);
  w.text(`Thank you${rng.chance(0.5) ? ', operator' : ''}, and good ${dayPart(x)}, everyone. ${sentence(x, JOINED_BY)}`);
  w.text(sentence(x, SAFE_HARBOR));
  if (rng.chance(0.5)) w.text(sentence(x, SAFE_HARBOR_MORE));
  w.text(`With that, I'll turn the call over to ${cast.ceo.first}.`);

  // Prepared remarks take 35–55% of the call, split between the CEO, the COO and the CFO.
  const budget = w.size + target * rng.uniform(0.35, 0.55);
  const speakers = [cast.ceo, ...(cast.coo ? [cast.coo] : []), cast.cfo];
  speakers.forEach((e, i) => {
    const [line, who] = label.executive(e);
    w.speaker(line, who);
    w.text(`Thanks, ${i === 0 ? cast.ir.first : speakers[i - 1]!.first}. ${sentence(x, e === cast.cfo ? CFO : CEO)}`);
    const until = w.size + (budget - w.size) / (speakers.length - i);
    do w.text(paragraph(x, e === cast.cfo ? CFO : CEO));
    while (w.size < until);
    if (i < speakers.length - 1) w.text(`I'll now hand the call over to ${speakers[i + 1]!.first}.`);
  });
}

/** The Q&A section; returns the analysts who spoke, in order of their first question. */
function questionsAndAnswers(w: CallWriter, x: Context, style: Style, label: Labeller, invited: readonly Analyst[], target: number): Analyst[] {
  const { rng, cast } = x;
  const header = style.layout === 'fool' ? rng.pick(['Questions & Answers:', 'Questions and Answers:']) : caseVariant(rng, 'Question-and-Answer Session');
  // Some transcripts give the operator's hand-over before the header and no speaker line after it.
  const continued = rng.chance(style.layout === 'sa' ? 0.35 : 0.1);
  w.text(`That concludes our prepared remarks. ${rng.pick(['Operator, please open the line for questions.', "Operator, we're ready for questions.", "We'll now take your questions."])}`);
  if (continued) {
    w.speaker('Operator', OPERATOR);
    w.text(`Thank you. We will now begin the question-and-answer session.`);
  }
  w.header(header, 'qa');
  if (!continued) w.speaker('Operator', OPERATOR);

  const spoke: Analyst[] = [];
  let webcast = rng.chance(0.25);
  const queue = [...invited];
  for (let n = 0; n === 0 || w.size < target - 600; n++) {
    const analyst = queue.length > 0 ? queue.shift()! : rng.pick(invited);
    // The label wins: the operator may announce someone else than who then speaks.
    const announced = invited.length > 1 && rng.chance(0.06) ? rng.pick(invited.filter((a) => a !== analyst)) : analyst;
    if (n > 0) w.speaker('Operator', OPERATOR);
    const instructions = n === 0 && (continued || rng.chance(0.5)) ? '[Operator Instructions] ' : '';
    const unidentified = rng.chance(0.04);
    w.text(instructions + (unidentified ? sentence(x, ANNOUNCE_UNKNOWN) : announce(x, announced, n === 0)));

    let who: [string, TurnSpeaker];
    if (unidentified) {
      who = ['Unidentified Analyst', { speaker: 'Unidentified Analyst', role: 'analyst', title: null, firm: null }];
    } else {
      who = label.analyst(analyst);
      if (!spoke.includes(analyst)) spoke.push(analyst);
    }
    const rounds = rng.chance(0.35) ? 2 : 1;
    for (let r = 0; r < rounds; r++) {
      w.speaker(...who);
      w.text(r === 0 ? question(x) : `${rng.pick(['Thanks.', 'Got it.', "That's helpful.", 'Okay.'])} ${sentence(x, QUESTIONS)}`);
      if (r === 0 && rng.chance(0.35)) w.text(sentence(x, QUESTIONS));
      const answerers = rng.chance(0.25) ? [cast.ceo, cast.cfo] : [rng.pick([cast.ceo, cast.cfo, cast.coo ?? cast.ceo])];
      for (const e of answerers) {
        w.speaker(...label.executive(e));
        const addressed = unidentified ? '' : `, ${analyst.first}`;
        w.text(`${rng.pick(['Sure', 'Thanks', 'Yes', 'Good question', 'Great question'])}${addressed}. ${sentence(x, ANSWERS)}`);
        for (let k = rng.int(0, 3); k > 0; k--) w.text(paragraph(x, ANSWERS));
        if (webcast && e === cast.cfo && rng.chance(0.4)) {
          // Management reads a question from the webcast: still the CFO's turn.
          w.text(sentence(x, WEBCAST));
          w.text(paragraph(x, ANSWERS));
          webcast = false;
        }
      }
      if (rng.chance(0.03)) {
        const placeholder = rng.pick(['Unknown Speaker', 'Unidentified Participant', 'Unidentified Company Representative']);
        w.speaker(placeholder, { speaker: placeholder, role: 'unknown', title: null, firm: null });
        w.text(rng.pick(["Yes, that's right.", 'And just to add to that, the timing has not changed.', 'Sorry, we were on mute. Go ahead.']));
      }
    }
  }
  return spoke;
}

function closing(w: CallWriter, x: Context, label: Labeller): void {
  const { rng, cast } = x;
  w.speaker('Operator', OPERATOR);
  const handBack = rng.chance(0.6);
  w.text(
    handBack
      ? `There are no further questions at this time. I'd like to turn the call back over to ${cast.ceo.name} for closing remarks.`
      : "There are no further questions. This concludes today's conference call. Thank you for participating, and you may now disconnect.",
  );
  if (!handBack) return;
  w.speaker(...label.executive(cast.ceo));
  w.text(sentence(x, CLOSING));
  w.speaker('Operator', OPERATOR);
  w.text(rng.pick([
    "The conference has now concluded. Thank you for attending today's presentation. You may now disconnect.",
    "Ladies and gentlemen, this concludes today's call. Thank you for your participation.",
    'This concludes the program. You may all disconnect, and have a wonderful day.',
  ]));
}

// ---------------------------------------------------------------------------------------
// Prose: sentences with the company's numbers. No dashes with spaces, no line that is a name
// or a header, so nothing here is ever a speaker line, a list entry or a section header.

type Sentence = (x: Context) => string;

function sentence(x: Context, bank: readonly Sentence[]): string {
  let deck = x.decks.get(bank);
  if (deck === undefined || deck.length === 0) {
    deck = shuffled(x.rng, bank);
    x.decks.set(bank, deck);
  }
  return deck.pop()!(x);
}

function paragraph(x: Context, bank: readonly Sentence[]): string {
  const out: string[] = [];
  for (let n = x.rng.int(2, 6); n > 0; n--) out.push(sentence(x, bank));
  return out.join(' ');
}

function dayPart(x: Context): string {
  return x.slot.minute < 12 * 60 ? 'morning' : 'afternoon';
}

function pct(x: Context, lo = 1, hi = 25): string {
  return `${x.rng.uniform(lo, hi).toFixed(1)}%`;
}

function usd(millions: number): string {
  return millions >= 1000 ? `$${(millions / 1000).toFixed(2)} billion` : `$${millions.toFixed(millions < 100 ? 1 : 0)} million`;
}

function share(x: Context, of: number): string {
  return usd(x.revenue * of * x.rng.uniform(0.7, 1.3));
}

const SEGMENTS = ['our commercial segment', 'the consumer business', 'services', 'our international operations', 'the industrial segment', 'our software platform', 'the wholesale channel', 'our healthcare customers', 'the aftermarket business', 'North America'];
const TOPICS = ['pricing', 'gross margin', 'the order backlog', 'free cash flow', 'inventory levels', 'capital allocation', 'the supply chain', 'labor costs', 'the competitive environment', 'share repurchases', 'working capital', 'the acquisition pipeline', 'customer retention', 'freight costs', 'the guidance range'];
const PERIODS = ['the back half of the year', 'the next couple of quarters', 'next year', 'the fourth quarter', 'the medium term', 'the balance of the year'];

const operatorWelcome: Sentence = (x) =>
  [
    `Good ${dayPart(x)}, and welcome to the ${x.company.short} ${capitalised(x.quarter)} Quarter ${x.year} Earnings Conference Call.`,
    x.rng.chance(0.6) ? 'At this time, all participants are in a listen-only mode.' : '',
    x.rng.chance(0.5) ? '[Operator Instructions]' : '',
    x.rng.pick(['Please note this event is being recorded.', 'As a reminder, this conference call is being recorded.', 'This call is being recorded.']),
    `I would now like to turn the conference over to ${x.cast.ir.name}, ${x.cast.ir.title}. Please go ahead.`,
  ]
    .filter((s) => s.length > 0)
    .join(' ');

function capitalised(word: string): string {
  return word[0]!.toUpperCase() + word.slice(1);
}

const JOINED_BY: readonly Sentence[] = [
  (x) => `With me today are ${x.cast.ceo.name}, our ${x.cast.ceo.title}, and ${x.cast.cfo.name}, our ${x.cast.cfo.title}.`,
  (x) => `Joining me on the call are ${x.cast.ceo.first} and ${x.cast.cfo.first}${x.cast.coo ? `, as well as ${x.cast.coo.name}` : ''}.`,
  (x) => `Thank you for joining us to discuss ${x.company.short}'s results for the ${x.quarter} quarter of ${x.year}.`,
];
const SAFE_HARBOR: readonly Sentence[] = [
  () => "Before we begin, let me remind you that today's remarks include forward-looking statements. Actual results may differ materially, and we undertake no obligation to update them.",
  () => 'Some of the statements we make today are forward-looking and are subject to risks and uncertainties described in our filings with the SEC.',
  () => 'Our comments today contain forward-looking statements, which are based on current expectations and involve risks that could cause actual results to differ.',
];
const SAFE_HARBOR_MORE: readonly Sentence[] = [
  () => 'We will also refer to non-GAAP financial measures. A reconciliation to the most comparable GAAP measures is included in our earnings release.',
  () => 'The earnings release and the slides that accompany this call are available on the investor relations section of our website.',
];

const CEO: readonly Sentence[] = [
  (x) => `Revenue for the ${x.quarter} quarter was ${usd(x.revenue)}, ${x.growth >= 0 ? 'up' : 'down'} ${Math.abs(x.growth).toFixed(1)}% from a year ago.`,
  (x) => `We are pleased with the performance of ${x.rng.pick(SEGMENTS)}, which grew ${pct(x, 3, 30)} in the quarter.`,
  (x) => `Demand in ${x.rng.pick(SEGMENTS)} remained ${x.rng.pick(['solid', 'resilient', 'soft', 'healthy', 'uneven'])} throughout the quarter.`,
  (x) => `We continue to invest in ${x.rng.pick(['automation', 'our digital capabilities', 'new product development', 'capacity expansion', 'our sales force', 'data and analytics'])}, and we expect those investments to pay off over ${x.rng.pick(PERIODS)}.`,
  (x) => `Our team executed well despite ${x.rng.pick(['a difficult macro environment', 'supply chain disruptions', 'higher input costs', 'unfavorable weather', 'currency headwinds', 'the effects of the pandemic'])}.`,
  (x) => `We launched ${x.rng.int(2, 9)} new products during the quarter, and early customer feedback has been encouraging.`,
  (x) => `Our backlog ended the quarter at ${share(x, 2.5)}, a record for ${x.company.short}.`,
  () => 'I want to thank our employees for their hard work and dedication this quarter.',
  (x) => `We returned ${share(x, 0.12)} to shareholders through dividends and share repurchases.`,
  (x) => `Looking ahead to ${x.rng.pick(PERIODS)}, we remain focused on disciplined execution and margin expansion.`,
  (x) => `We closed the acquisition we announced last quarter, and integration is ${x.rng.pick(['on track', 'ahead of plan', 'progressing well'])}.`,
  (x) => `Customer retention stayed above ${x.rng.int(85, 98)}%, and we added ${x.rng.int(20, 900)} new customers.`,
  (x) => `Across ${x.rng.pick(SEGMENTS)}, pricing held up well and volumes ${x.rng.pick(['improved sequentially', 'were stable', 'declined modestly', 'recovered in the final month'])}.`,
  () => 'Safety remains our first priority, and our recordable incident rate improved again this year.',
  (x) => `We are ${x.rng.pick(['raising', 'reaffirming', 'narrowing'])} our full year outlook, reflecting the strength we saw in the quarter.`,
  (x) => `Our strategy is working. We are gaining share in ${x.rng.pick(SEGMENTS)} and building a more resilient business.`,
  (x) => `In ${x.rng.pick(SEGMENTS)}, we signed ${x.rng.int(2, 12)} multiyear agreements with large customers, including two new logos.`,
  () => 'We made good progress on our cost program, and we are now ahead of the savings target we set at the start of the year.',
  (x) => `Our pipeline of new opportunities is the strongest it has been in ${x.rng.int(3, 10)} years.`,
  (x) => `We opened ${x.rng.int(2, 40)} new locations this quarter and plan to open about the same number in ${x.rng.pick(PERIODS)}.`,
  () => 'We remain committed to our sustainability goals, and we published our first climate report this quarter.',
  (x) => `Order trends in the final weeks of the quarter were ${x.rng.pick(['encouraging', 'better than we expected', 'in line with our plan', 'a little softer than we hoped'])}.`,
];
const CFO: readonly Sentence[] = [
  (x) => `Gross margin was ${x.grossMargin.toFixed(1)}%, ${x.growth >= 0 ? 'an improvement' : 'a decline'} of ${x.rng.int(10, 250)} basis points from the prior year.`,
  (x) => `Operating expenses were ${share(x, 0.25)}, or ${pct(x, 12, 35)} of revenue.`,
  (x) => `Earnings per share were ${x.eps < 0 ? 'a loss of ' : ''}$${Math.abs(x.eps).toFixed(2)} on a GAAP basis and $${Math.max(0.05, x.eps + 0.12).toFixed(2)} on an adjusted basis.`,
  (x) => `Free cash flow for the quarter was ${share(x, 0.1)}, and we ended the period with ${share(x, 0.8)} of cash and equivalents.`,
  (x) => `Our net leverage ratio stood at ${x.rng.uniform(0.2, 3.8).toFixed(1)} times at the end of the quarter.`,
  (x) => `For the full year, we now expect revenue between ${usd(x.revenue * 3.9)} and ${usd(x.revenue * 4.1)}.`,
  (x) => `Capital expenditures were ${share(x, 0.06)}, and we still expect full year capital spending of about ${share(x, 0.25)}.`,
  (x) => `The effective tax rate was ${pct(x, 12, 27)}, in line with our expectations.`,
  (x) => `Inventory ended the quarter at ${share(x, 0.5)}, ${x.rng.pick(['up', 'down'])} ${pct(x, 1, 15)} sequentially.`,
  (x) => `Foreign exchange reduced revenue growth by about ${x.rng.int(10, 200)} basis points.`,
  (x) => `We repurchased ${(x.rng.uniform(0.2, 4)).toFixed(1)} million shares during the quarter for ${share(x, 0.05)}.`,
  (x) => `Our outlook assumes ${x.rng.pick(['no further deterioration in demand', 'stable pricing', 'current exchange rates', 'a gradual recovery in volumes'])} over ${x.rng.pick(PERIODS)}.`,
  () => 'Our balance sheet remains strong, and we have ample liquidity to fund our plans.',
  (x) => `Interest expense was ${share(x, 0.015)}, reflecting ${x.rng.pick(['lower borrowings', 'the refinancing we completed', 'higher rates'])}.`,
  (x) => `Selling, general and administrative expenses rose ${pct(x, 1, 12)}, mainly on higher incentive compensation.`,
  (x) => `Restructuring charges in the quarter were ${share(x, 0.01)}, and we expect the program to be complete by the end of ${x.year}.`,
  (x) => `Days sales outstanding improved by ${x.rng.int(1, 9)} days compared with last year.`,
  (x) => `We declared a quarterly dividend of $${x.rng.uniform(0.05, 1.2).toFixed(2)} per share.`,
  (x) => `Adjusted operating margin was ${pct(x, 4, 30)} for the quarter.`,
];
const QUESTIONS: readonly Sentence[] = [
  (x) => `Can you talk about ${x.rng.pick(TOPICS)} and how you expect it to trend into ${x.rng.pick(PERIODS)}?`,
  (x) => `How should we think about ${x.rng.pick(TOPICS)} in the context of the guidance?`,
  (x) => `I wanted to ask about ${x.rng.pick(SEGMENTS)}. What drove the ${x.rng.pick(['acceleration', 'slowdown', 'margin change'])} this quarter?`,
  (x) => `Could you give us a sense of how much of the growth came from ${x.rng.pick(['price versus volume', 'new customers versus existing ones', 'acquisitions versus organic growth'])}?`,
  (x) => `Are you seeing any change in ${x.rng.pick(TOPICS)} so far this quarter?`,
  (x) => `What are the puts and takes on ${x.rng.pick(TOPICS)} for ${x.rng.pick(PERIODS)}?`,
  () => 'Is there anything unusual in the quarter that we should adjust for in our models?',
  (x) => `How are you prioritizing ${x.rng.pick(['buybacks versus acquisitions', 'growth investments versus margins', 'debt reduction versus dividends'])}?`,
  (x) => `Could you quantify the impact of ${x.rng.pick(['the weather', 'currency', 'the strike', 'the plant outage', 'tariffs'])} on the quarter?`,
  (x) => `Where do you see the most upside to the plan, ${x.rng.pick(['volumes or pricing', 'costs or revenue', 'the core business or the new products'])}?`,
  () => 'Can you remind us how seasonality typically plays out between the third and fourth quarters?',
  (x) => `Has anything changed in how customers are making decisions about ${x.rng.pick(TOPICS)}?`,
  () => 'How much visibility do you have into next year at this point?',
];
const ANSWERS: readonly Sentence[] = [
  (x) => `We expect ${x.rng.pick(TOPICS)} to ${x.rng.pick(['improve gradually', 'stay roughly flat', 'normalize', 'remain a headwind'])} over ${x.rng.pick(PERIODS)}.`,
  () => "I'd say we're cautiously optimistic, but it's still early.",
  (x) => `The biggest driver was ${x.rng.pick(SEGMENTS)}, where we saw ${x.rng.pick(['strong demand', 'better pricing', 'a favorable mix', 'easier comparisons'])}.`,
  (x) => `Roughly ${x.rng.int(20, 80)}% of that came from ${x.rng.pick(['price', 'volume', 'new customers', 'the acquisition'])}, and the rest was organic.`,
  () => "We haven't changed our long-term targets, and we feel good about the trajectory.",
  () => "That's something we watch closely, and we'll update you as we learn more.",
  (x) => `We built the guidance with some conservatism for ${x.rng.pick(TOPICS)}, given what we see today.`,
  () => 'Our priorities have not changed: invest in the business first, then return excess cash to shareholders.',
  (x) => `The impact was about ${x.rng.int(1, 9)} cents per share, and we don't expect it to repeat.`,
  () => 'We are seeing early signs of improvement, particularly in the last few weeks.',
  (x) => `On ${x.rng.pick(TOPICS)}, we feel we are well positioned relative to our peers.`,
  () => "I would not read too much into one quarter. The underlying trends remain healthy.",
  (x) => `We have about ${x.rng.int(50, 90)}% of next year's volume under contract already.`,
  () => "Seasonality should look fairly normal this year, with the fourth quarter a bit stronger than the third.",
  (x) => `We think the upside is mostly in ${x.rng.pick(SEGMENTS)}, where the new products are getting traction.`,
  () => "Customers are taking a little longer to sign, but we haven't lost deals because of it.",
  () => 'We will give more detail on that at our investor day, but the short answer is yes.',
];
const WEBCAST: readonly Sentence[] = [
  (x) => `We also have a question from the webcast, from an investor asking about ${x.rng.pick(TOPICS)}.`,
  (x) => `Let me take a question that came in through the webcast. An investor asks how we think about ${x.rng.pick(TOPICS)}.`,
  (x) => `We have a question from the webcast as well, from a shareholder asking whether ${x.rng.pick(TOPICS)} will change next year.`,
];
const ANNOUNCE_UNKNOWN: readonly Sentence[] = [
  () => 'Our next question comes from an analyst whose name we did not catch. Please go ahead.',
  () => 'We have another question. Please state your name and company. Your line is open.',
];
const CLOSING: readonly Sentence[] = [
  (x) => `Thank you all for joining us today. We look forward to updating you on our progress next quarter${x.rng.chance(0.4) ? ', and to seeing many of you at our investor day' : ''}.`,
  () => 'Thanks, everyone, for your time and your questions. Stay safe, and we will talk to you next quarter.',
  (x) => `I want to thank our teams around the world once again. We are confident in the path ahead for ${x.company.short}.`,
];

function announce(x: Context, a: Analyst, first: boolean): string {
  const which = first ? 'first' : x.rng.chance(0.1) ? 'final' : 'next';
  return x.rng.pick([
    `Our ${which} question comes from ${a.name} with ${a.firm}. Please go ahead.`,
    `Our ${which} question comes from the line of ${a.name} with ${a.firm}. Your line is open.`,
    `Your ${which} question comes from ${a.name} of ${a.firm}.`,
    `We'll take our ${which} question from ${a.name} at ${a.firm}.`,
  ]);
}

function question(x: Context): string {
  const greeting = x.rng.pick(['Hi, thanks for taking my question.', `Good ${dayPart(x)}, everyone.`, 'Hey, guys. Congrats on the quarter.', 'Thanks for taking the question.', 'Hi, everyone.']);
  return `${greeting} ${sentence(x, QUESTIONS)}`;
}
