import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const MiB = 1024 ** 2;
const exec = promisify(execFile);

// A child started while this process holds 400 MiB: a step process under `hippo dev`.
const child = `
  const { peakRssSince } = await import(${JSON.stringify(new URL('./peak-rss.ts', import.meta.url).pathname)});
  const atStart = peakRssSince()();
  const lifetime = process.resourceUsage().maxRSS * 1024;
  const during = peakRssSince();
  let big = Buffer.alloc(300 * 1024 ** 2, 1);
  const held = during();
  big = undefined;
  globalThis.gc();
  const after = peakRssSince()();
  console.log(JSON.stringify({ atStart, lifetime, held, after }));
`;

test("each measurement's own peak: not the parent's memory, a 300 MiB buffer while held, not after it is freed", async () => {
  const parent = Buffer.alloc(400 * MiB, 1);
  const { stdout } = await exec(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', child]);
  assert.ok(parent.length > 0);
  const m = JSON.parse(stdout) as Record<'atStart' | 'lifetime' | 'held' | 'after', number>;
  const mib = JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v / MiB)])));
  assert.ok(m.atStart < 200 * MiB, `the child's own peak at start, MiB: ${mib}`);
  assert.ok(m.held >= 300 * MiB, mib);
  assert.ok(m.after < m.held - 200 * MiB, mib);
  // What resourceUsage() reports in the same child: the parent's memory (why it is not used).
  assert.ok(m.lifetime >= 400 * MiB, mib);
});

test.run();
