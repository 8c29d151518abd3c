import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { Hippo } from '../../sdk/client.ts';

/**
 * `hippo watch <id> --url …`: follows a standing run — one line per run of its chain as it
 * ends (the first, then each re-run a data change starts), each result written to `--out-dir`
 * when given — until Ctrl-C or the chain is unwatched.
 */
export async function watchCommand(id: string, opts: { url: string; outDir?: string; poll: string }): Promise<void> {
  const hippo = new Hippo({ url: opts.url, token: process.env.HIPPO_TOKEN });
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  if (opts.outDir) await mkdir(opts.outDir, { recursive: true });
  process.stderr.write(`watching ${id} (Ctrl-C stops)\n`);
  const last = await hippo.watch(
    id,
    async (table, run) => {
      let where = '';
      if (opts.outDir) {
        where = join(opts.outDir, `${run.id}.arrow`);
        await writeFile(where, tableToIPC(table, 'stream'));
      }
      const after = run.previousRunId ? ` (re-run of ${run.previousRunId})` : '';
      process.stdout.write(`${run.id} asOf ${run.asOf} succeeded${after}: ${table.numRows} rows, sha256 ${run.result?.sha256}${where ? ` → ${where}` : ''}\n`);
    },
    {
      signal: stop.signal,
      pollMs: Number(opts.poll) * 1000,
      onFailure: (err, run) => void process.stdout.write(`${run.id} asOf ${run.asOf} ${run.status}: ${err.code ?? ''} ${err.reason}\n`),
    },
  );
  process.stderr.write(stop.signal.aborted ? `stopped; last run ${last}\n` : `${last} is no longer watched\n`);
}
