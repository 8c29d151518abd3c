import { stat } from 'node:fs/promises';
import { writeDemoData } from '../../demo/demo-data.ts';
import { ValidationError } from '../../shared/errors.ts';

export async function demoDataCommand(dir: string, opts: { scale: string; seed?: string }): Promise<void> {
  const scale = Number(opts.scale);
  const seed = opts.seed === undefined ? undefined : Number(opts.seed);
  if (!(scale > 0)) throw new ValidationError(`--scale must be a positive number, got "${opts.scale}"`, [{ field: 'scale', message: 'positive number' }]);
  const files = await writeDemoData(dir, { scale, ...(seed === undefined ? {} : { seed }) });
  for (const [dataset, path] of Object.entries(files) as [string, string][]) {
    process.stdout.write(`${dataset.padEnd(12)} ${path} (${(await stat(path)).size} bytes)\n`);
  }
  process.stdout.write(`\nIngest them with:\n${Object.entries(files).map(([d, p]) => `  npx hippo ingest ${d} ${p}`).join('\n')}\n`);
}
