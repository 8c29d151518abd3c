import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cgroupMemoryLimit, effectiveMemoryLimit } from './cgroup.ts';

async function fakeCgroup(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'hippo-cgroup-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

test('cgroup v2 memory.max: a number is the limit, "max" is none', async () => {
  const limited = await fakeCgroup({ 'memory.max': '4294967296\n' });
  const open = await fakeCgroup({ 'memory.max': 'max\n' });
  try {
    assert.is(cgroupMemoryLimit(limited), 4 * 1024 ** 3);
    assert.is(cgroupMemoryLimit(open), undefined);
  } finally {
    await Promise.all([rm(limited, { recursive: true }), rm(open, { recursive: true })]);
  }
});

test('cgroup v1 memory.limit_in_bytes, and its "unlimited"; no cgroup at all', async () => {
  const v1 = await fakeCgroup({ 'memory/memory.limit_in_bytes': '1073741824\n' });
  const unlimited = await fakeCgroup({ 'memory/memory.limit_in_bytes': '9223372036854771712\n' });
  try {
    assert.is(cgroupMemoryLimit(v1), 1024 ** 3);
    assert.is(cgroupMemoryLimit(unlimited), undefined);
    assert.is(cgroupMemoryLimit(join(v1, 'nowhere')), undefined);
  } finally {
    await Promise.all([rm(v1, { recursive: true }), rm(unlimited, { recursive: true })]);
  }
});

test('the step plans with its tier, never more than its container allows', () => {
  assert.is(effectiveMemoryLimit(4 * 1024 ** 3, 1024 ** 3), 1024 ** 3);
  assert.is(effectiveMemoryLimit(512 * 1024 ** 2, 24 * 1024 ** 3), 512 * 1024 ** 2);
  assert.is(effectiveMemoryLimit(512 * 1024 ** 2, undefined), 512 * 1024 ** 2);
});

test.run();
