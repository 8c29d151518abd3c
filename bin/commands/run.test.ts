import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseParams } from './run.ts';

test('--param: list and boolean params are read off the pipeline schema', () => {
  assert.equal(parseParams('{"end":"2020-12-31"}', ['fields=eps, revenue', 'audit=true', 'start=2020-01-01', 'macro=GDP'], 'equity-panel'), {
    end: '2020-12-31', fields: ['eps', 'revenue'], audit: true, start: '2020-01-01', macro: ['GDP'],
  });
  assert.equal(parseParams(undefined, ['sids=S1,S2', 'timezone=Europe/London'], 'transcripts'), { sids: ['S1', 'S2'], timezone: 'Europe/London' });
  // Another pipeline's list param is a string here; an unknown pipeline's values all stay strings.
  assert.equal(parseParams(undefined, ['fields=a,b'], 'transcripts'), { fields: 'a,b' });
  assert.equal(parseParams(undefined, ['fields=a,b'], 'no-such-pipeline'), { fields: 'a,b' });
});

test('--param without "=" is a usage error naming it', () => {
  assert.throws(() => parseParams(undefined, ['fields'], 'equity-panel'), /--param "fields" must look like key=value/);
});

test.run();
