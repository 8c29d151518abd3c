import { execFile } from 'node:child_process';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const venv = join(root, '.cache', 'pyenv');

/** Python packages the interoperability tests read Hippo's results with, and the benchmark's baselines (pandas, polars). */
export const PYTHON_PACKAGES = ['pyarrow==21.0.0', 'polars==1.35.2', 'pandas==2.3.3'];

/**
 * A Python with PYTHON_PACKAGES, for checks that readers Hippo did not write read its
 * results. Built on first use in `.cache/pyenv` (pip, from PyPI) and rebuilt when the list
 * changes. Built aside and renamed into place, so two test processes never install into one
 * half-made environment.
 */
export async function pythonWithPyarrow(): Promise<string> {
  const python = join(venv, 'bin', 'python');
  const stamp = PYTHON_PACKAGES.join(' ');
  const ready = async (dir: string) => (await readFile(join(dir, '.ready'), 'utf8').catch(() => '')) === stamp;
  if (await ready(venv)) return python;
  const aside = `${venv}.${process.pid}.${Date.now()}`;
  try {
    await run('python3', ['-m', 'venv', aside]);
    await run(join(aside, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PYTHON_PACKAGES], { maxBuffer: 1 << 24 });
    await writeFile(join(aside, '.ready'), stamp);
    if (!(await ready(venv))) {
      await rm(venv, { recursive: true, force: true });
      await rename(aside, venv).catch(async (err) => {
        if (!(await ready(venv))) throw err; // another process won the race with the same packages
      });
    }
  } finally {
    await rm(aside, { recursive: true, force: true });
  }
  return python;
}

/** Runs a Python snippet (pyarrow and polars importable); resolves to its stdout. */
export async function pyarrow(code: string, args: string[] = []): Promise<string> {
  const python = await pythonWithPyarrow();
  const { stdout } = await run(python, ['-c', code, ...args], { maxBuffer: 1 << 28 });
  return stdout;
}
