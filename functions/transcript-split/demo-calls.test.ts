import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SAMPLE_CALLS, syntheticTranscripts } from '../../demo/demo-transcripts.ts';
import { splitTranscript } from './split.ts';

/**
 * The splitter against turns derived by hand from DESIGN §7.3 for the demo's sample calls
 * (both layouts, every hard case), and against the generator's own record of the turns it
 * wrote for thousands of synthetic calls.
 */
for (const call of SAMPLE_CALLS) {
  test(`sample call ${call.transcriptId} (${call.layout}, ${call.case}): exact turns and texts`, () => {
    const turns = splitTranscript(call.text);
    assert.equal(
      turns.map(({ section, turn, speaker, role, title, firm }) => ({ section, turn, speaker, role, title, firm })),
      call.turns.map(({ section, turn, speaker, role, title, firm }) => ({ section, turn, speaker, role, title, firm })),
    );
    assert.ok(call.expectedTexts.length >= 2);
    for (const { turn, text } of call.expectedTexts) assert.is(turns[turn]!.text, text, `turn ${turn}`);
    for (const t of turns) assert.is(t.words, t.text.split(/\s+/).filter(Boolean).length);
  });
}

test('the hard cases are in the samples', () => {
  const all = SAMPLE_CALLS.flatMap((c) => c.turns);
  const texts = SAMPLE_CALLS.map((c) => c.text).join('\n');
  assert.ok(all.some((t) => t.speaker === 'Unidentified Analyst' && t.role === 'analyst'));
  assert.ok(all.some((t) => t.role === 'executive' && t.title === 'Chief Financial Officer'));
  assert.ok(new Set(all.filter((t) => t.role === 'analyst' && t.firm).map((t) => t.firm)).size >= 3, 'analysts from several firms');
  assert.ok(SAMPLE_CALLS.some((c) => c.turns.every((t) => t.section === 'prepared')), 'a call without Q&A');
  assert.match(texts, /\[Operator Instructions\]/);
  assert.match(texts, /Duration: 58 minutes/);
  assert.match(texts, /webcast/i);
});

test('3,000 synthetic calls in both layouts: the turns the generator wrote, word counts included', () => {
  let calls = 0;
  let turns = 0;
  for (const call of syntheticTranscripts(11, 3000, { averageBytes: 6000 })) {
    const got = splitTranscript(call.text).map(({ section, turn, speaker, role, title, firm, words }) => ({ section, turn, speaker, role, title, firm, words }));
    assert.equal(got, call.turns.map(({ section, turn, speaker, role, title, firm, words }) => ({ section, turn, speaker, role, title, firm, words })), call.transcriptId);
    calls++;
    turns += got.length;
  }
  assert.is(calls, 3000);
  assert.ok(turns > 30_000);
});

test.run();
