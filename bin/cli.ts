import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { HippoError } from '../shared/errors.ts';
import { RunFailedError, HippoHttpError, WaitTimeoutError } from '../sdk/errors.ts';

/** Exit codes of DESIGN §9b. */
const EXIT = { ok: 0, runFailed: 1, usage: 2 } as const;

const program = new Command()
  .name('hippo')
  .description('Bias-free research data: survivorship-free, point-in-time panels as serverless steps.')
  .showHelpAfterError()
  .exitOverride();

/** `--partitions`: a whole number from 1 to 1024 (the server checks it too). */
function partitionCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError('must be a whole number from 1 to 1024');
  return n;
}

program
  .command('dev')
  .description('run the local platform: broker, runs API on :8080, each function as its own process')
  .option('--demo', 'ingest the synthetic demo dataset first if the lake has no prices')
  .option('--port <port>', 'port of the runs API', '8080')
  .option('--broker-port <port>', 'port of the broker ingress', '8081')
  .option('--idle <seconds>', 'scale a function to zero after this many idle seconds (default HIPPO_IDLE_SECONDS or 60)')
  .action(async (o) => (await import('./commands/dev.ts')).devCommand(o));

program
  .command('demo-data <dir>')
  .description('write the synthetic vendor dataset (securities, prices, symbols, memberships) as CSV files')
  .option('--scale <n>', 'multiply the number of securities (1 = 300)', '1')
  .option('--seed <n>', 'random seed (default 42)')
  .action(async (dir, o) => (await import('./commands/demo-data.ts')).demoDataCommand(dir, o));

program
  .command('ingest <dataset> <files...>')
  .description('validate files (CSV, Parquet or JSON Lines) and append them to the lake in HIPPO_STORE')
  .option('--recorded-at <iso>', 'recorded_at of rows whose file has no recorded_at column (default: now)')
  .action(async (ds, files, o) => (await import('./commands/ingest.ts')).ingestCommand(ds, files, o));

program
  .command('run <pipeline>')
  .description('run a pipeline: in-process on the embedded default, or on a server with --url')
  .option('--params <json>', 'params as a JSON object')
  .option('--param <k=v>', 'one param (repeatable); comma-separated values become lists for list params', collect, [])
  .option('--as-of <iso>', 'only data recorded by this instant (default: now)')
  .option('--id <id>', 'run id (idempotent submit)')
  .option('--watch', 'a standing run (with --url): re-run whenever a dataset it read changes; follow it with hippo watch')
  .option('--partitions <n>', 'fan-out: split each partitionable step into n invocations (1-1024; the result is the same)', partitionCount)
  .option('--no-reuse', "always compute: never take or join another run's result for the same request and data")
  .option('--out <file>', 'write the result here (default: no output file)')
  .addOption(new Option('--format <format>', 'result format').choices(['arrow', 'parquet', 'csv']).default('arrow'))
  .option('--url <url>', 'a Hippo server (e.g. http://localhost:8080); submits and waits with progress')
  .option('--timeout <seconds>', 'give up waiting after this long', '3600')
  .action(async (p, o) => (await import('./commands/run.ts')).runCommand(p, o));

program
  .command('status <id>')
  .description('show a run')
  .requiredOption('--url <url>', 'the Hippo server')
  .action(async (id, o) => (await import('./commands/run.ts')).statusCommand(id, o));

program
  .command('fetch <id>')
  .description('download a run\'s result')
  .requiredOption('--url <url>', 'the Hippo server')
  .requiredOption('--out <file>', 'where to write it')
  .addOption(new Option('--format <format>', 'result format').choices(['arrow', 'parquet', 'csv']).default('arrow'))
  .action(async (id, o) => (await import('./commands/run.ts')).fetchCommand(id, o));

program
  .command('watch <id>')
  .description('follow a standing run (submitted with "watch": true): each run of its chain as it ends')
  .requiredOption('--url <url>', 'the Hippo server')
  .option('--out-dir <dir>', 'write each result here as <run id>.arrow')
  .option('--poll <seconds>', 'how often to look for the next run', '1')
  .action(async (id, o) => (await import('./commands/watch.ts')).watchCommand(id, o));

program
  .command('backup')
  .description('back the ledger, results and lake of HIPPO_STORE up (sha256 manifest); keeps the newest HIPPO_BACKUP_KEEP')
  .option('--to <store-url>', 'the backup store: file://<dir> or s3://<bucket>[/<prefix>] (default HIPPO_BACKUP_STORE)')
  .option('--keep <n>', 'complete backups to keep (default HIPPO_BACKUP_KEEP or 7)')
  .action(async (o) => (await import('./commands/backup.ts')).backupCommand(o));

program
  .command('restore [backupId]')
  .description('verify every sha256 of a backup (default: the latest), then restore it into HIPPO_STORE')
  .option('--from <store-url>', 'the backup store (default HIPPO_BACKUP_STORE)')
  .option('--force', 'restore into a store that is not empty (its objects of the same keys are overwritten)')
  .action(async (id, o) => (await import('./commands/backup.ts')).restoreCommand(id, o));

program
  .command('backups')
  .description('list the complete backups, oldest first')
  .option('--from <store-url>', 'the backup store (default HIPPO_BACKUP_STORE)')
  .action(async (o) => (await import('./commands/backup.ts')).backupsCommand(o));

program
  .command('manifests')
  .description('generate the Knative manifests (knative/) from the trigger table, the function specs and knative/settings.ts')
  .option('--out <dir>', 'write them here instead of knative/')
  .option('--check', 'write nothing; exit 1 when the files differ from what would be generated')
  .action(async (o) => (await import('./commands/manifests.ts')).manifestsCommand(o));

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err);
}

function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof RunFailedError) {
    process.stderr.write(`hippo: ${err.message}\n`);
    return EXIT.runFailed;
  }
  if (err instanceof WaitTimeoutError) {
    process.stderr.write(`hippo: ${err.message}\n`);
    return EXIT.runFailed;
  }
  if (err instanceof HippoError || err instanceof HippoHttpError) {
    process.stderr.write(`hippo: ${err.message}\n`);
    for (const d of ((err.problems ?? []) as { message: string; field?: string }[]).slice(1)) {
      process.stderr.write(`  ${d.field ? d.field + ': ' : ''}${d.message}\n`);
    }
    // Bad config is a usage error; a server-side failure is not the caller's input.
    return err.status >= 500 && err.code !== 'invalid_config' ? EXIT.runFailed : EXIT.usage; // 0 = unreachable: usage
  }
  process.stderr.write(`hippo: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.runFailed;
}
