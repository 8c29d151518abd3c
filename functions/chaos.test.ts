import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../shared/errors.ts';
import { faultFor, parseChaos } from './chaos.ts';

const req = (step: string, attempt: number, runId = 'r1', stepId = step) => ({ step, runId, stepId, attempt });

test('rules: a step and an attempt, or any of either', () => {
  const rules = parseChaos('oom:pit-join:1, kill:export:*,hang:*:3');
  assert.is(faultFor(rules, req('pit-join', 1)), 'oom');
  assert.is(faultFor(rules, req('pit-join', 2)), undefined);
  assert.is(faultFor(rules, req('export', 7)), 'kill');
  assert.is(faultFor(rules, req('delisting-adjust', 3)), 'hang');
  assert.is(faultFor(rules, req('delisting-adjust', 1)), undefined);
  assert.equal(parseChaos(''), []);
  assert.equal(parseChaos(undefined), []);
});

test('a partition: pit-join#3 hits only partition 3 of pit-join, never an unpartitioned pit-join', () => {
  const rules = parseChaos('oom:pit-join#3:1');
  assert.is(faultFor(rules, { ...req('pit-join', 1), partition: 3 }), 'oom');
  assert.is(faultFor(rules, { ...req('pit-join', 1), partition: 2 }), undefined);
  assert.is(faultFor(rules, req('pit-join', 1)), undefined);
  assert.is(faultFor(rules, { ...req('delisting-adjust', 1), partition: 3 }), undefined);
  assert.is(faultFor(parseChaos('oom:pit-join:1'), { ...req('pit-join', 1), partition: 3 }), 'oom', 'a rule without a partition hits every partition');
});

test('a share draws the same way for the same run, step and attempt, and about that often', () => {
  const rules = parseChaos('kill:*:1:10%');
  const hits = Array.from({ length: 4000 }, (_, i) => faultFor(rules, req('export', 1, `run-${i}`))).filter(Boolean).length;
  assert.ok(hits > 320 && hits < 480, `10 % of 4000 ≈ 400, got ${hits}`);
  for (let i = 0; i < 50; i++) assert.is(faultFor(rules, req('export', 1, `run-${i}`)), faultFor(rules, req('export', 1, `run-${i}`)));
  assert.is(faultFor(rules, req('export', 2, 'run-1')), undefined, 'attempt 2 is not covered by the rule');
});

test('a bad rule names itself and the grammar', () => {
  for (const bad of ['oom:pit-join', 'oom:*#2:1', 'oom:pit-join#x:1', 'melt:pit-join:1', 'oom:pit-join:0', 'kill:export:1:150%', 'kill:export:1:5', 'kill:export:1:5%:x']) {
    try {
      parseChaos(bad);
      assert.unreachable(bad);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.match((err as Error).message, `"${bad}"`);
      assert.match((err as Error).message, '<oom|kill|hang>:<step[#partition]|*>:<attempt|*>[:<percent>%]');
    }
  }
});

test.run();
