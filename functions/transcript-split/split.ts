// Splitting an earnings-call transcript into turns (DESIGN §7.3): who spoke, in which role,
// in prepared remarks or in Q&A. Plain text in, turns out; one pass to read the participant
// lists (they may stand at the end), one pass to split — linear in the text's size.

export type Section = 'prepared' | 'qa';
export type Role = 'operator' | 'executive' | 'analyst' | 'unknown';

export interface Turn {
  section: Section;
  /** 0-based over the whole call. */
  turn: number;
  /** Null for text before the first speaker line (a title line, say). */
  speaker: string | null;
  role: Role;
  title: string | null;
  firm: string | null;
  /** The turn's non-blank lines, trimmed, joined with `\n`. */
  text: string;
  /** Whitespace-separated words of `text`. */
  words: number;
}

interface Participant {
  name: string;
  role: Role;
  title: string | null;
  firm: string | null;
  list: ListKind;
}

type ListKind = 'company' | 'conference' | 'call';
type Speaker = Pick<Turn, 'speaker' | 'role' | 'title' | 'firm'>;

/** `Prepared Remarks:`, `Question-and-Answer Session`, … (case-insensitive, colon optional). */
const SECTION_HEADERS = new Map<string, Section>([
  ['prepared remarks', 'prepared'],
  ['presentation', 'prepared'],
  ['questions and answers', 'qa'],
  ['questions & answers', 'qa'],
  ['question-and-answer session', 'qa'],
]);

const LIST_HEADERS = new Map<string, ListKind>([
  ['call participants', 'call'],
  ['company participants', 'company'],
  ['corporate participants', 'company'],
  ['conference call participants', 'conference'],
]);

const PLACEHOLDERS = new Map<string, Role>([
  ['unidentified analyst', 'analyst'],
  ['unidentified company representative', 'unknown'],
  ['unidentified participant', 'unknown'],
  ['unknown speaker', 'unknown'],
]);

/** ` -- `, ` - `, ` – `, ` — ` between the parts of a participant entry. */
const ENTRY_SEPARATOR = /\s+(?:--|[-–—])\s+/;
/** A speaker line's separator: the double dash (or an em dash). */
const SPEAKER_SEPARATOR = /\s+(?:--|—)\s+/;
const DURATION = /^duration:\s*\d+\s*min(ute)?s?\.?$/i;
const ANALYST = /\banalyst\b/i;
/** A person's name: 1–6 words, each capitalised or a particle (de, van, O'Neil, Jr.), no digits. */
const NAME_WORD = /^(?:\p{Lu}[\p{L}'’.-]*|de|da|di|du|del|della|der|den|van|von|la|le|bin|al|y|e)$/u;

/** The header a line is, if it is one (trimmed line in, lower-cased key out). */
function headerKey(line: string): string {
  return line.replace(/:\s*$/, '').trim().toLowerCase();
}

function looksLikeName(s: string): boolean {
  if (s.length === 0 || s.length > 60 || /\d/.test(s)) return false;
  const words = s.split(/\s+/);
  return words.length <= 6 && words.every((w) => NAME_WORD.test(w)) && /^\p{Lu}/u.test(words[0]!);
}

/** A title or firm: starts like a proper noun and does not end a sentence ("Co." and "Inc." do not). */
function looksLikeLabel(s: string): boolean {
  return /^[\p{Lu}\d]/u.test(s) && s.length <= 120 && !/[?!]$/.test(s) && !/\b\p{Ll}+\.$/u.test(s);
}

function entryParts(line: string): string[] | undefined {
  const parts = line.split(ENTRY_SEPARATOR).map((p) => p.trim());
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length === 0)) return undefined;
  return looksLikeName(parts[0]!) ? parts : undefined;
}

function participantOf(parts: string[], list: ListKind): Participant {
  const [name, second, third] = parts as [string, string, string | undefined];
  if (list === 'conference') {
    return { name, list, role: 'analyst', firm: second, title: third ?? null };
  }
  const title = third ?? second;
  const firm = third === undefined ? null : second;
  const role: Role = list === 'company' ? 'executive' : ANALYST.test(title) ? 'analyst' : 'executive';
  return { name, list, role, title, firm };
}

/**
 * Reads every participant list (DESIGN §7.3: "read all lists before splitting"). Returns the
 * participants by lower-cased name and the indexes of the lines the lists take up.
 */
function readParticipants(lines: readonly string[]): { people: Map<string, Participant>; listLines: Set<number> } {
  const people = new Map<string, Participant>();
  const listLines = new Set<number>();
  let list: ListKind | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const key = headerKey(line);
    const kind = LIST_HEADERS.get(key);
    if (kind) {
      list = kind;
      listLines.add(i);
      continue;
    }
    if (!list) continue;
    const parts = SECTION_HEADERS.has(key) ? undefined : entryParts(line);
    if (!parts) {
      list = undefined;
      continue;
    }
    listLines.add(i);
    const p = participantOf(parts, list);
    // The first listing of a name wins (a name repeated in a later list adds nothing).
    if (!people.has(p.name.toLowerCase())) people.set(p.name.toLowerCase(), p);
  }
  return { people, listLines };
}

/** The speaker a line introduces, or undefined when it is text. */
function speakerOf(line: string, people: ReadonlyMap<string, Participant>): Speaker | undefined {
  const key = headerKey(line);
  if (key === 'operator') return { speaker: 'Operator', role: 'operator', title: null, firm: null };
  const placeholder = PLACEHOLDERS.get(key);
  if (placeholder) return { speaker: line.replace(/:\s*$/, '').trim(), role: placeholder, title: null, firm: null };
  const listed = people.get(key);
  if (listed) return { speaker: listed.name, role: listed.role, title: listed.title, firm: listed.firm };

  const parts = line.split(SPEAKER_SEPARATOR).map((p) => p.trim());
  if (parts.length < 2 || parts.length > 3 || !looksLikeName(parts[0]!) || !parts.slice(1).every(looksLikeLabel)) return undefined;
  const [name, second, third] = parts as [string, string, string | undefined];
  const known = people.get(name.toLowerCase());
  if (third !== undefined) {
    return { speaker: name, role: ANALYST.test(third) ? 'analyst' : 'executive', title: third, firm: second };
  }
  const role: Role = ANALYST.test(second) || known?.role === 'analyst' ? 'analyst' : 'executive';
  return { speaker: name, role, title: second, firm: known?.firm ?? null };
}

/**
 * Splits one transcript into turns by the rules of DESIGN §7.3.
 *
 * @example
 * splitTranscript('Prepared Remarks:\nOperator\nGood day.\nJane Doe -- Chief Financial Officer\nThanks.')
 * // [{ section: 'prepared', turn: 0, speaker: 'Operator', role: 'operator', …, text: 'Good day.', words: 2 },
 * //  { section: 'prepared', turn: 1, speaker: 'Jane Doe', role: 'executive', title: 'Chief Financial Officer', … }]
 */
export function splitTranscript(text: string): Turn[] {
  const lines = text.split(/\r\n|\n|\r/).map((l) => l.trim());
  const { people, listLines } = readParticipants(lines);
  const turns: Turn[] = [];
  let section: Section = 'prepared';
  let speaker: Speaker = { speaker: null, role: 'unknown', title: null, firm: null };
  let body: string[] = [];

  const close = () => {
    if (body.length === 0) return;
    const joined = body.join('\n');
    turns.push({ section, turn: turns.length, ...speaker, text: joined, words: countWords(joined) });
    body = [];
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0 || listLines.has(i) || DURATION.test(line)) continue;
    const next = SECTION_HEADERS.get(headerKey(line));
    if (next) {
      close();
      section = next;
      continue;
    }
    const who = speakerOf(line, people);
    if (who) {
      close();
      speaker = who;
      continue;
    }
    body.push(line);
  }
  close();
  return turns;
}

/** Whitespace-separated words. */
export function countWords(text: string): number {
  let n = 0;
  for (const _ of text.matchAll(/\S+/g)) n++;
  return n;
}
