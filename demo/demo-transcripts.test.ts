import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_FACTS, writeDemoData } from './demo-data.ts';
import {
  SAMPLE_CALLS,
  TRANSCRIPT_KEYS,
  countWords,
  generateTranscripts,
  syntheticTranscripts,
  transcriptJson,
  type DemoTranscripts,
  type ExpectedTurn,
  type SampleTurn,
  type TranscriptSecurity,
} from './demo-transcripts.ts';

/** The whole of transcripts.jsonl at scale 1 stays within this (DESIGN §5 demo budget). */
const MAX_BYTES = 10e6;
const ROLES = ['operator', 'executive', 'analyst', 'unknown'];
const PLACEHOLDERS = ['Unidentified Analyst', 'Unidentified Company Representative', 'Unidentified Participant', 'Unknown Speaker'];

// ---------------------------------------------------------------------------------------
// New York time, computed independently of the generator (tz database via Intl)

const NY = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', timeZoneName: 'longOffset' });
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:00([+-]\d{2}:\d{2})$/;

function nyOffsetAt(ms: number): string {
  return NY.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')!.value.slice(3);
}

/** A timestamp with an offset, and that offset is New York's at that instant. */
function validNewYorkTimestamp(value: string): boolean {
  const m = TIMESTAMP.exec(value);
  return m !== null && !Number.isNaN(Date.parse(value)) && nyOffsetAt(Date.parse(value)) === m[2];
}

/** The line-level facts every turn list must have, whoever wrote it. */
function assertTurnList(id: string, turns: readonly SampleTurn[]): void {
  assert.ok(turns.length > 0, `${id} has turns`);
  turns.forEach((t, i) => {
    assert.is(t.turn, i, `${id}: turn numbers are 0, 1, 2, … over the whole call`);
    assert.ok(ROLES.includes(t.role), `${id} turn ${i}: role ${t.role}`);
    assert.ok(t.section === 'prepared' || t.section === 'qa', `${id} turn ${i}: section ${t.section}`);
    if (i > 0 && turns[i - 1]!.section === 'qa') assert.is(t.section, 'qa', `${id} turn ${i}: no prepared turn after Q&A`);
    if (t.role === 'operator') assert.equal([t.speaker, t.title, t.firm], ['Operator', null, null], `${id} turn ${i}`);
    if (t.speaker === null) assert.equal([t.role, t.title, t.firm], ['unknown', null, null], `${id} turn ${i}`);
    if (t.speaker !== null && PLACEHOLDERS.includes(t.speaker)) {
      assert.equal([t.role, t.title, t.firm], [t.speaker === 'Unidentified Analyst' ? 'analyst' : 'unknown', null, null], `${id} turn ${i}`);
    }
  });
}

function assertExpected(id: string, turns: readonly ExpectedTurn[], text: string): void {
  assertTurnList(id, turns);
  for (const t of turns) assert.ok(Number.isInteger(t.words) && t.words > 0, `${id} turn ${t.turn}: words ${t.words}`);
  // Headers, speaker lines and lists are words of the text but of no turn.
  assert.ok(turns.reduce((n, t) => n + t.words, 0) < countWords(text), `${id}: turn words < text words`);
}

/** §7.3: split on \r\n, \n or \r, trimmed, blank lines dropped. */
function nonBlankLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/).map((l) => l.trim()).filter((l) => l.length > 0);
}

function lineSet(text: string): Set<string> {
  return new Set(nonBlankLines(text));
}

function parseLine(line: string, where: string): Record<string, string> {
  assert.not.ok(/[\r\n]/.test(line), `${where}: one object per line`);
  const o = JSON.parse(line) as Record<string, unknown>;
  assert.equal(Object.keys(o), [...TRANSCRIPT_KEYS], `${where}: keys`);
  for (const k of TRANSCRIPT_KEYS) assert.type(o[k], 'string', `${where}: ${k}`);
  const r = o as Record<string, string>;
  assert.ok(validNewYorkTimestamp(r.call_start!), `${where}: call_start ${r.call_start}`);
  assert.ok(validNewYorkTimestamp(r.published_at!), `${where}: published_at ${r.published_at}`);
  assert.ok(Date.parse(r.published_at!) > Date.parse(r.call_start!), `${where}: published after the call`);
  return r;
}

/** The announced name and the speaker line after each "question comes from X with Y" paragraph. */
function announcements(text: string): { announced: string; label: string }[] {
  const lines = nonBlankLines(text);
  const out: { announced: string; label: string }[] = [];
  lines.forEach((line, i) => {
    const m = /question (?:comes )?from (?:the line of )?((?:\S+ ){1,5}?)(?:with|of|at) /.exec(line);
    if (m && i + 1 < lines.length) out.push({ announced: m[1]!.trim(), label: lines[i + 1]!.split(' -- ')[0]! });
  });
  return out;
}

// ---------------------------------------------------------------------------------------

const Samples = suite('demo-transcripts: SAMPLE_CALLS');

Samples('three calls on hand-placed securities, listed on the call day, with valid New York timestamps', () => {
  assert.equal(SAMPLE_CALLS.map((c) => [c.case, c.layout, c.transcriptId, c.sid]), [
    ['fool', 'fool', 'S00008-2020-02-20', 'S00008'],
    ['sa', 'sa', 'S00003-2020-11-09', 'S00003'],
    ['preparedOnly', 'sa', 'S00004-2020-03-19', 'S00004'],
  ]);
  for (const c of SAMPLE_CALLS) {
    const fact = DEMO_FACTS.securities.find((s) => s.sid === c.sid)!;
    const day = c.callStart.slice(0, 10);
    assert.ok(fact.listedOn <= day && (fact.delistedOn === null || day <= fact.delistedOn), `${c.sid} listed on ${day}`);
    assert.ok(validNewYorkTimestamp(c.callStart) && validNewYorkTimestamp(c.publishedAt), c.transcriptId);
    assert.ok(Date.parse(c.publishedAt) > Date.parse(c.callStart), c.transcriptId);
    assert.is(c.transcriptId, `${c.sid}-${day}`);
  }
  // DST: February is EST, March 19 (after the second Sunday) and November 9 (after the first Sunday) are not the same.
  assert.equal(SAMPLE_CALLS.map((c) => c.callStart), ['2020-02-20T10:00:00-05:00', '2020-11-09T17:00:00-05:00', '2020-03-19T08:30:00-04:00']);
});

Samples('turn lists are self-consistent; the exact texts are lines of the call', () => {
  for (const c of SAMPLE_CALLS) {
    assertTurnList(c.transcriptId, c.turns);
    assert.ok(c.text.split('\n').length >= 30, `${c.case} has at least 30 lines`);
    const lines = lineSet(c.text);
    assert.ok(c.expectedTexts.length >= 3, `${c.case} gives at least three exact texts`);
    for (const e of c.expectedTexts) {
      assert.ok(e.turn >= 0 && e.turn < c.turns.length, `${c.case} turn ${e.turn}`);
      for (const line of e.text.split('\n')) assert.ok(lines.has(line), `${c.case} turn ${e.turn}: "${line}" is a line of the call`);
    }
    // Every named speaker stands on a line of its own, bare or before ` -- `.
    for (const t of c.turns) {
      if (t.speaker === null) continue;
      assert.ok([...lines].some((l) => l === t.speaker || l.startsWith(`${t.speaker} -- `)), `${c.case}: ${t.speaker} has a speaker line`);
    }
  }
});

Samples('between them the samples hold every hard case of §7.3', () => {
  const [fool, sa, preparedOnly] = SAMPLE_CALLS as [(typeof SAMPLE_CALLS)[number], (typeof SAMPLE_CALLS)[number], (typeof SAMPLE_CALLS)[number]];
  const all = SAMPLE_CALLS.flatMap((c) => c.turns);
  const foolLines = nonBlankLines(fool.text);

  // Fool layout: headers, Duration, the participant list at the end.
  assert.is(foolLines[0], 'Prepared Remarks:');
  assert.ok(foolLines.includes('Questions & Answers:') && foolLines.includes('Duration: 58 minutes'));
  assert.ok(foolLines.indexOf('Call participants:') > foolLines.indexOf('Questions & Answers:'));
  assert.ok(foolLines.at(-1)!.endsWith(' -- Analyst'), 'the list ends the text');
  // Seeking Alpha layout: title line, both lists, bare names, its Q&A header.
  const saLines = nonBlankLines(sa.text);
  assert.ok(['Company Participants', 'Conference Call Participants', 'Question-and-Answer Session'].every((l) => saLines.includes(l)));
  assert.equal(sa.turns[0], { section: 'prepared', turn: 0, speaker: null, role: 'unknown', title: null, firm: null });

  // Several analysts from different firms; Unidentified Analyst.
  assert.ok(new Set(all.filter((t) => t.role === 'analyst' && t.firm !== null).map((t) => t.firm)).size >= 5);
  assert.ok(all.some((t) => t.speaker === 'Unidentified Analyst' && t.role === 'analyst'));
  assert.ok(all.some((t) => t.speaker === 'Unidentified Company Representative' && t.role === 'unknown'));
  // A CFO as `Name -- Chief Financial Officer`; a title with commas.
  assert.ok(foolLines.includes('Karen Osei -- Chief Financial Officer'));
  assert.ok(all.some((t) => t.title === 'President, Chief Executive Officer and Director' && t.role === 'executive'));
  // [Operator Instructions] inside an operator paragraph.
  const opText = (c: (typeof SAMPLE_CALLS)[number]) => c.expectedTexts.filter((e) => c.turns[e.turn]!.role === 'operator').map((e) => e.text);
  assert.ok(opText(fool).some((t) => t.startsWith('[Operator Instructions] ')));
  assert.ok(opText(sa).some((t) => t.startsWith('[Operator Instructions] ')));
  // A webcast question read out inside the CFO's turn.
  const webcast = fool.expectedTexts.find((e) => e.text.includes('question from the webcast'))!;
  assert.equal(fool.turns[webcast.turn], { section: 'qa', turn: webcast.turn, speaker: 'Karen Osei', role: 'executive', title: 'Chief Financial Officer', firm: null });
  // The operator announces one analyst, the label names another: the label wins.
  const crossed = SAMPLE_CALLS.flatMap((c) => announcements(c.text)).filter((a) => a.label !== a.announced && a.label !== 'Unidentified Analyst');
  assert.equal(crossed, [
    { announced: 'David Chen', label: 'Luis Moreno' },
    { announced: 'Jane Roe', label: 'Ravi Patel' },
  ]);
  assert.is(fool.turns[10]!.speaker, 'Luis Moreno');
  assert.is(sa.turns[10]!.speaker, 'Ravi Patel');
  // Text after the Q&A header before any speaker line: the operator goes on in a new qa turn.
  assert.equal([sa.turns[5]!.section, sa.turns[5]!.speaker, sa.turns[6]!.section, sa.turns[6]!.speaker], ['prepared', 'Operator', 'qa', 'Operator']);
  // No Q&A header: only prepared turns.
  assert.ok(preparedOnly.turns.every((t) => t.section === 'prepared'));
  assert.not.ok(/question-and-answer session$|questions (and|&) answers:?$/im.test(preparedOnly.text));
});

Samples.run();

// ---------------------------------------------------------------------------------------

const Generated = suite('demo-transcripts: generateTranscripts');

let root = '';
let securities: TranscriptSecurity[] = [];
let demo: DemoTranscripts;
let fileBytes: Buffer;
let generateMs = 0;

/** The scale-1 universe as writeDemoData writes it. */
async function readUniverse(dir: string): Promise<TranscriptSecurity[]> {
  const rows = async (name: string) => {
    const [header, ...lines] = (await readFile(join(dir, name), 'utf8')).trimEnd().split('\n');
    const keys = header!.split(',');
    return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i]!, v])) as Record<string, string>);
  };
  const symbols = await rows('symbols.csv');
  return (await rows('securities.csv')).map((s) => ({
    sid: s.sid!,
    name: s.name!,
    listedOn: s.listed_on!,
    delistedOn: s.delisted_on || null,
    tickers: symbols.filter((y) => y.sid === s.sid).map((y) => ({ ticker: y.ticker!, from: y.valid_from!, to: y.valid_to || null })),
  }));
}

Generated.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hippo-transcripts-'));
  const files = await writeDemoData(root);
  fileBytes = await readFile(files.transcripts);
  securities = await readUniverse(root);
  const started = performance.now();
  demo = generateTranscripts(securities, 42);
  generateMs = performance.now() - started;
});

Generated.after(async () => {
  await rm(root, { recursive: true, force: true });
});

Generated('writeDemoData writes exactly these lines; the samples come first', () => {
  assert.is(securities.length, 300);
  assert.ok(fileBytes.equals(Buffer.from(demo.lines.map((l) => `${l}\n`).join(''))), 'transcripts.jsonl = generateTranscripts(universe, 42)');
  assert.equal(demo.lines.slice(0, SAMPLE_CALLS.length), SAMPLE_CALLS.map(transcriptJson));
  assert.ok(generateMs < 3000, `generation took ${generateMs.toFixed(0)} ms`);
});

Generated('every line is one JSON object with exactly the five keys and New York timestamps', () => {
  const ids = new Set<string>();
  demo.lines.forEach((line, i) => {
    const r = parseLine(line, `line ${i + 1}`);
    assert.not.ok(ids.has(r.transcript_id!), `duplicate ${r.transcript_id}`);
    ids.add(r.transcript_id!);
    assert.is(r.transcript_id, `${r.sid}-${r.call_start!.slice(0, 10)}`);
  });
  assert.is(ids.size, demo.lines.length);
});

Generated('size and count at scale 1: about two calls per security listed in 2019–2020, within budget', () => {
  assert.ok(fileBytes.length > 5e6 && fileBytes.length <= MAX_BYTES, `${fileBytes.length} bytes`);
  const synthetic = demo.lines.length - SAMPLE_CALLS.length;
  const alive = securities.filter((s) => s.listedOn <= '2020-11-16' && (s.delistedOn === null || s.delistedOn >= '2019-01-18'));
  const perSecurity = synthetic / alive.length;
  assert.ok(perSecurity > 1.6 && perSecurity < 2.4, `${perSecurity.toFixed(2)} calls per listed security`);
  const sizes = demo.lines.map((l) => (JSON.parse(l) as { text: string }).text.length);
  assert.ok(sizes.filter((s) => s >= 40_000).length >= 20, 'some long calls (~50 KB)');
  assert.ok(Math.max(...sizes) < 70_000);
});

Generated('calls fall in 2019–2020 while the security is listed; a security alternates layouts', () => {
  const bySid = new Map(securities.map((s) => [s.sid, s]));
  const layouts = new Map<string, boolean[]>();
  for (const line of demo.lines.slice(SAMPLE_CALLS.length)) {
    const r = JSON.parse(line) as Record<string, string>;
    const day = r.call_start!.slice(0, 10);
    const s = bySid.get(r.sid!)!;
    assert.ok(day >= '2019-01-01' && day <= '2020-12-31', day);
    assert.ok(s.listedOn <= day && (s.delistedOn === null || day <= s.delistedOn), `${r.transcript_id} while listed`);
    const fool = /^\s*Prepared Remarks:/.test(r.text!);
    layouts.set(r.sid!, [...(layouts.get(r.sid!) ?? []), fool]);
    if (!fool) assert.ok(/Conference Call Participants/i.test(r.text!), `${r.transcript_id} is one of the two layouts`);
  }
  for (const [sid, l] of layouts) l.forEach((fool, i) => i > 0 && assert.is.not(fool, l[i - 1], `${sid} alternates`));
  const all = [...layouts.values()].flat();
  assert.ok(all.filter(Boolean).length > 0.35 * all.length && all.filter(Boolean).length < 0.65 * all.length);
  // The samples' securities get no second call in the same calendar quarter.
  for (const c of SAMPLE_CALLS) {
    const q = (iso: string) => `${iso.slice(0, 4)}-${Math.floor((Number(iso.slice(5, 7)) - 1) / 3)}`;
    const same = demo.lines.slice(SAMPLE_CALLS.length).map((l) => JSON.parse(l) as Record<string, string>).filter((r) => r.sid === c.sid && q(r.call_start!) === q(c.callStart));
    assert.equal(same, []);
  }
});

Generated('expected turns: one list per synthetic call, self-consistent', () => {
  const synthetic = demo.lines.slice(SAMPLE_CALLS.length).map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal([...demo.expected.keys()], synthetic.map((r) => r.transcript_id));
  for (const r of synthetic) {
    const turns = demo.expected.get(r.transcript_id!)!;
    assertExpected(r.transcript_id!, turns, r.text!);
    assert.ok(turns.some((t) => t.section === 'qa'), `${r.transcript_id} has Q&A`);
    for (const t of turns) {
      if (t.speaker === null || t.role === 'operator' || PLACEHOLDERS.includes(t.speaker)) continue;
      const lines = lineSet(r.text!);
      assert.ok([...lines].some((l) => l.toLowerCase() === t.speaker!.toLowerCase() || l.startsWith(`${t.speaker} -- `)), `${r.transcript_id}: ${t.speaker}`);
    }
  }
});

Generated('the hard cases are sprinkled through the synthetic calls', () => {
  const synthetic = demo.lines.slice(SAMPLE_CALLS.length).map((l) => JSON.parse(l) as Record<string, string>);
  const turns = [...demo.expected.values()].flat();
  const count = (p: (t: ExpectedTurn) => boolean) => turns.filter(p).length;
  const texts = (re: RegExp) => synthetic.filter((r) => re.test(r.text!)).length;
  assert.ok(count((t) => t.speaker === 'Unidentified Analyst') >= 5, 'Unidentified Analyst');
  assert.ok(count((t) => t.role === 'unknown' && t.speaker !== null) >= 5, 'other placeholders');
  assert.ok(count((t) => t.speaker === null) > 50, 'title-line turns');
  assert.ok(count((t) => t.title?.includes(',') === true) > 100, 'titles with commas');
  assert.ok(new Set(turns.map((t) => t.firm).filter((f) => f !== null)).size >= 25, 'many firms');
  assert.ok(texts(/\[Operator Instructions\]/) > 100);
  assert.ok(texts(/question from the webcast|through the webcast/) >= 20, 'webcast questions');
  assert.ok(texts(/^Duration: \d+ minutes$/m) > 100);
  assert.ok(texts(/^Corporate Participants:?$/im) >= 10 && texts(/^Presentation:?$/im) >= 10);
  assert.ok(texts(/ [–—] /) >= 10, 'en and em dashes in the lists');
  assert.ok(texts(/\r\n/) >= 10 && texts(/\r(?!\n)/) >= 1, 'CRLF and CR line ends');
  const continued = [...demo.expected.values()].filter((ts) => ts.some((t, i) => i > 0 && t.section === 'qa' && ts[i - 1]!.section === 'prepared' && ts[i - 1]!.speaker === t.speaker));
  assert.ok(continued.length >= 20, 'text right after the Q&A header continues the previous speaker');
  const crossed = synthetic
    .flatMap((r) => announcements(r.text!))
    .filter((a) => a.label.toLowerCase() !== a.announced.toLowerCase() && a.label !== 'Unidentified Analyst');
  assert.ok(crossed.length >= 20, `the operator announces someone else ${crossed.length} times`);
});

Generated('same seed, same bytes; another seed, other calls; a security does not depend on the universe around it', () => {
  const again = generateTranscripts(securities, 42);
  assert.equal(again.lines, demo.lines);
  const other = generateTranscripts(securities, 7);
  assert.equal(other.lines.slice(0, SAMPLE_CALLS.length), demo.lines.slice(0, SAMPLE_CALLS.length));
  assert.not.equal(other.lines.slice(SAMPLE_CALLS.length, 20), demo.lines.slice(SAMPLE_CALLS.length, 20));
  const half = generateTranscripts(securities.slice(0, 150), 42);
  assert.equal(half.lines, demo.lines.slice(0, half.lines.length));
  const ratio = (demo.lines.length - SAMPLE_CALLS.length) / (half.lines.length - SAMPLE_CALLS.length);
  assert.ok(ratio > 1.6 && ratio < 2.4, `calls scale with the universe: ${ratio.toFixed(2)}`);
  // Without the samples, their securities get a call in those quarters too.
  const bare = generateTranscripts(securities.slice(0, 20), 42, { samples: false });
  assert.not.ok(bare.lines.some((l) => SAMPLE_CALLS.some((c) => l.includes(`"${c.transcriptId}"`))));
  assert.is(bare.expected.size, bare.lines.length);
});

Generated.run();

// ---------------------------------------------------------------------------------------

const Synthetic = suite('demo-transcripts: syntheticTranscripts');

Synthetic('N calls of about the requested size, deterministic, alternating layouts, with their turns', () => {
  const started = performance.now();
  const calls = [...syntheticTranscripts(3, 400, { averageBytes: 25_000 })];
  const ms = performance.now() - started;
  assert.is(calls.length, 400);
  const total = calls.reduce((n, c) => n + c.text.length, 0);
  assert.ok(total > 0.85 * 400 * 25_000 && total < 1.15 * 400 * 25_000, `${total} characters`);
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
  assert.is(new Set(calls.map((c) => c.transcriptId)).size, 400);
  calls.forEach((c, i) => {
    assert.is(c.layout, i % 2 === 0 ? 'fool' : 'sa');
    assert.is(c.sid, `B${String(i + 1).padStart(6, '0')}`);
    parseLine(transcriptJson(c), c.transcriptId);
    assertExpected(c.transcriptId, c.turns, c.text);
  });
  const fewer = [...syntheticTranscripts(3, 10, { averageBytes: 25_000 })];
  assert.equal(fewer, calls.slice(0, 10));
  assert.not.equal([...syntheticTranscripts(4, 10, { averageBytes: 25_000 })].map((c) => c.text), fewer.map((c) => c.text));
  assert.equal([...syntheticTranscripts(3, 0)], []);
  assert.throws(() => [...syntheticTranscripts(3, 1, { averageBytes: 0 })], /averageBytes/);
});

Synthetic('countWords counts whitespace-separated words', () => {
  assert.is(countWords(''), 0);
  assert.is(countWords('  [Operator Instructions]  Go\tahead.\nThanks. '), 5);
});

Synthetic.run();
