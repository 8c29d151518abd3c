import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const venv = join(root, '.cache', 'pyenv');

/** Python packages the interoperability tests read Hippo's results with. */
export const PYTHON_PACKAGES = ['pyarrow==21.0.0'];

/**
 * A Python with pyarrow, for tests that check a reader Hippo did not write can read its
 * results. Created on first use in `.cache/pyenv` (pip, from PyPI), then reused.
 */
export async function pythonWithPyarrow(): Promise<string> {
  const python = join(venv, 'bin', 'python');
  if (!existsSync(join(venv, '.ready'))) {
    await run('python3', ['-m', 'venv', venv]);
    await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PYTHON_PACKAGES], { maxBuffer: 1 << 24 });
    await run('touch', [join(venv, '.ready')]);
  }
  return python;
}

/** Runs a Python snippet with pyarrow; resolves to its stdout. */
export async function pyarrow(code: string, args: string[] = []): Promise<string> {
  const python = await pythonWithPyarrow();
  const { stdout } = await run(python, ['-c', code, ...args], { maxBuffer: 1 << 24 });
  return stdout;
}
