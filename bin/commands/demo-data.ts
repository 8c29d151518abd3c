import { stat } from 'node:fs/promises';
import { writeDemoData } from '../../demo/demo-data.ts';
import { ValidationError } from '../../shared/errors.ts';

export async function demoDataCommand(dir: string, opts: { scale: string; seed?: string }): Promise<void> {
  const scale = Number(opts.scale);
  const seed = opts.seed === undefined ? undefined : Number(opts.seed);
  if (!(scale > 0)) throw new ValidationError(`--scale must be a positive number, got "${opts.scale}"`, [{ field: 'scale', message: 'positive number' }]);
  const files = await writeDemoData(dir, { scale, ...(seed === undefined ? {} : { seed }) });
  const entries = Object.entries(files).map(([dataset, p]) => [dataset, [p].flat() as string[]] as const);
  for (const [dataset, paths] of entries) {
    for (const path of paths) process.stdout.write(`${dataset.padEnd(12)} ${path} (${(await stat(path)).size} bytes)\n`);
  }
  process.stdout.write(`\nIngest them with:\n${entries.map(([d, p]) => `  npx hippo ingest ${d} ${p.join(' ')}`).join('\n')}\n`);
}
