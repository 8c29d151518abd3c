import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunView } from '../../sdk/index.ts';
import { parseParams, progressLine } from './run.ts';

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

test('progress: a fanned-out step is one step with its partitions done; an unpartitioned one shows tier and attempt', () => {
  const step = (id: string, status: string, partition?: { index: number; count: number }): [string, RunView['steps'][string]] =>
    [id, { step: id.replace(/-p\d+$/, '').replace(/-fundamentals$/, ''), status, attempt: 1, tier: 0, attempts: [], ...(partition ? { partition } : {}) }];
  const run = (steps: [string, RunView['steps'][string]][]): RunView =>
    ({ id: 'r', pipeline: 'equity-panel', status: 'running', asOf: '2026-01-01T00:00:00Z', params: {}, steps: Object.fromEntries(steps) });
  const fanned = run([
    step('delisting-adjust-p0', 'succeeded', { index: 0, count: 3 }), step('delisting-adjust-p1', 'succeeded', { index: 1, count: 3 }), step('delisting-adjust-p2', 'succeeded', { index: 2, count: 3 }),
    step('pit-join-fundamentals-p0', 'succeeded', { index: 0, count: 3 }), step('pit-join-fundamentals-p1', 'dispatched', { index: 1, count: 3 }), step('pit-join-fundamentals-p2', 'dispatched', { index: 2, count: 3 }),
    step('export', 'pending'),
  ]);
  assert.is(progressLine(fanned, 4200), 'running · 1/3 steps · pit-join-fundamentals 1/3 partitions · 4.2 s');
  assert.is(progressLine(run([step('delisting-adjust', 'succeeded'), step('export', 'dispatched')]), 1000), 'running · 1/2 steps · export (tier 0, attempt 1) · 1.0 s');
});

test.run();
