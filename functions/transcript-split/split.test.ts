// The rules of DESIGN §7.3, one at a time, on small texts with exact expected turns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countWords, splitTranscript, type Turn } from './split.ts';

const who = (turns: Turn[]) => turns.map((t) => [t.section, t.turn, t.speaker, t.role, t.title, t.firm]);

test('Operator starts an operator turn; [Operator Instructions] stays in its text', () => {
  const turns = splitTranscript('Operator\nGood day and welcome. [Operator Instructions] Please go ahead.');
  assert.equal(who(turns), [['prepared', 0, 'Operator', 'operator', null, null]]);
  assert.is(turns[0]!.text, 'Good day and welcome. [Operator Instructions] Please go ahead.');
});

test('Name -- Firm -- Analyst is an analyst with that firm; Name -- Chief Financial Officer an executive with that title', () => {
  const turns = splitTranscript([
    'Questions and Answers:',
    'Jane Roe -- Morgan Stanley -- Analyst',
    'How are margins?',
    'John Smith -- Chief Financial Officer',
    'Up, thanks.',
  ].join('\n'));
  assert.equal(who(turns), [
    ['qa', 0, 'Jane Roe', 'analyst', 'Analyst', 'Morgan Stanley'],
    ['qa', 1, 'John Smith', 'executive', 'Chief Financial Officer', null],
  ]);
});

test('Unidentified Analyst is an analyst; the other placeholders are unknown', () => {
  const turns = splitTranscript('Unidentified Analyst\nOne question.\nUnidentified Company Representative\nAn answer.\nUnknown Speaker\nHello?');
  assert.equal(who(turns), [
    ['prepared', 0, 'Unidentified Analyst', 'analyst', null, null],
    ['prepared', 1, 'Unidentified Company Representative', 'unknown', null, null],
    ['prepared', 2, 'Unknown Speaker', 'unknown', null, null],
  ]);
});

test('a bare name from the Conference Call list is an analyst with its firm; from the Company list an executive with its title', () => {
  const turns = splitTranscript([
    'Company Participants',
    '',
    'Tim Baker - President, Chief Executive Officer and Director',
    'Conference Call Participants',
    'Ann Lee - Goldman Sachs',
    '',
    'Operator',
    'Welcome.',
    'Tim Baker',
    'Thank you.',
    'Question-and-Answer Session',
    'Ann Lee',
    'A question.',
  ].join('\n'));
  assert.equal(who(turns), [
    ['prepared', 0, 'Operator', 'operator', null, null],
    ['prepared', 1, 'Tim Baker', 'executive', 'President, Chief Executive Officer and Director', null],
    ['qa', 2, 'Ann Lee', 'analyst', null, 'Goldman Sachs'],
  ]);
});

test('the label on the speaker line wins over the name the operator announced', () => {
  const turns = splitTranscript([
    'Operator',
    'Our next question comes from Jane Roe with Morgan Stanley.',
    'Bob Stone -- Goldman Sachs -- Analyst',
    'Hi, Bob here for Jane.',
  ].join('\n'));
  assert.equal(who(turns)[1], ['prepared', 1, 'Bob Stone', 'analyst', 'Analyst', 'Goldman Sachs']);
});

test('Duration and a participant list at the end produce no turns; listed names resolve before the list is reached', () => {
  const text = [
    'Prepared Remarks:',
    'Operator',
    'Welcome.',
    'Mary Major',
    'Results were strong.',
    'Duration: 58 minutes',
    'Call participants:',
    'Mary Major -- Chief Executive Officer',
    'Sam Quant -- Acme Research -- Analyst',
  ].join('\n');
  const turns = splitTranscript(text);
  assert.equal(who(turns), [
    ['prepared', 0, 'Operator', 'operator', null, null],
    ['prepared', 1, 'Mary Major', 'executive', 'Chief Executive Officer', null],
  ]);
  assert.is(turns[1]!.text, 'Results were strong.');
});

test('a call with no Q&A header has only prepared turns; text before any speaker is an unknown turn', () => {
  const turns = splitTranscript('Acme Corp. (ACME) Q3 2020 Earnings Call\nOperator\nWelcome.\nJo Park -- CEO\nThanks all.');
  assert.equal(turns.map((t) => t.section), ['prepared', 'prepared', 'prepared']);
  assert.equal(who(turns)[0], ['prepared', 0, null, 'unknown', null, null]);
});

test('text is the trimmed non-blank lines joined with \\n; words count whitespace-separated words', () => {
  const turns = splitTranscript('Operator\r\n  First  paragraph here. \r\n\r\n\tSecond one.\r\nJo Park -- CEO\r\n');
  assert.is(turns.length, 1, 'a speaker line with no text makes no turn');
  assert.is(turns[0]!.text, 'First  paragraph here.\nSecond one.');
  assert.is(turns[0]!.words, 5);
  assert.is(countWords(' a\tb\n c  '), 3);
  assert.is(countWords(''), 0);
});

test('prose with a double dash is not a speaker line', () => {
  const turns = splitTranscript('Operator\nWe grew revenue -- and margins -- strongly.\nThe Board -- after review -- agreed.');
  assert.is(turns.length, 1);
  assert.is(turns[0]!.words, 15);
});

test('a section header ends a turn; text right after it continues the same speaker in the new section', () => {
  const turns = splitTranscript('Jo Park -- CEO\nPrepared words.\nQuestions & Answers:\nMore words.');
  assert.equal(who(turns), [
    ['prepared', 0, 'Jo Park', 'executive', 'CEO', null],
    ['qa', 1, 'Jo Park', 'executive', 'CEO', null],
  ]);
});

test('a 5 MB transcript splits whole, every word accounted for', () => {
  const paragraph = 'We continue to see strong demand across all of our segments and regions this quarter. '.repeat(6);
  const lines: string[] = ['Prepared Remarks:'];
  for (let size = 0; size < 5_000_000; size += 3 * paragraph.length) {
    lines.push('Operator', 'Next question please.', 'Jane Roe -- Morgan Stanley -- Analyst', paragraph, 'John Smith -- Chief Financial Officer', paragraph, paragraph);
  }
  const text = lines.join('\n');
  const started = performance.now();
  const turns = splitTranscript(text);
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds < 5, `5 MB took ${seconds.toFixed(1)} s`);
  assert.is(turns.length, 3 * ((lines.length - 1) / 7));
  assert.is(turns.reduce((n, t) => n + t.words, 0), countWords(text) - countWords(lines.filter((l) => /^(Prepared Remarks:|Operator|Jane Roe -- .*|John Smith -- .*)$/.test(l)).join(' ')));
});

test.run();
