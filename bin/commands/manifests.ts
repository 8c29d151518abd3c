import { join, relative, resolve } from 'node:path';
import { compareManifests, writeManifests } from '../../knative/generate.ts';
import { settings } from '../../knative/settings.ts';
import { ROOT } from './context.ts';

/**
 * `hippo manifests` (`npm run manifests`): writes the Knative manifests of `knative/` from
 * the trigger table, the function specs and `knative/settings.ts`. `--check` writes nothing
 * and fails (exit 1) when the committed files differ from what it would write.
 */
export async function manifestsCommand(opts: { out?: string; check?: boolean }): Promise<void> {
  const dir = opts.out ? resolve(opts.out) : join(ROOT, 'knative');
  const shown = relative(process.cwd(), dir) || '.';
  if (opts.check) {
    const drift = await compareManifests(dir, settings);
    if (drift.length === 0) {
      process.stderr.write(`${shown}/ is up to date\n`);
      return;
    }
    for (const d of drift) {
      process.stderr.write(`${shown}/${d.file}: ${d.problem}${d.line ? ` at line ${d.line}\n  expected: ${d.expected}\n  actual:   ${d.actual}` : ''}\n`);
    }
    process.stderr.write('run `npm run manifests` and commit the result\n');
    process.exitCode = 1;
    return;
  }
  const files = await writeManifests(dir, settings);
  process.stderr.write(`wrote ${files.length} files to ${shown}/: ${files.join(', ')}\n`);
}
