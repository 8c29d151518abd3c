import { DuckDBConnection, DuckDBInstance, quotedString } from '@duckdb/node-api';
import { InputError, OutOfMemoryError } from './errors.ts';

export interface DuckDBOptions {
  /** Bytes DuckDB may use before spilling to `tempDirectory` (≈ 60 % of the tier, DESIGN §10). */
  memoryLimitBytes?: number;
  tempDirectory?: string;
  threads?: number;
}

/** Share of a tier's memory that DuckDB gets; the rest is Node's heap and Arrow buffers. */
export const DUCKDB_MEMORY_SHARE = 0.6;

/**
 * The Node heap limit, MiB, of a DuckDB process with `memoryBytes`: what DuckDB's share
 * leaves, less a fifth for Arrow buffers and native memory. The local runner and the Knative
 * manifests size the heap with it, so a step outgrows its tier the same way in both.
 */
export function duckdbProcessHeapMiB(memoryBytes: number): number {
  return Math.max(64, Math.floor((memoryBytes * (1 - DUCKDB_MEMORY_SHARE) * 0.8) / 1024 ** 2));
}

/** An in-memory DuckDB with Hippo's limits applied. Close it with `closeSync()` when done. */
export async function openDuckDB(options: DuckDBOptions = {}): Promise<DuckDBInstance> {
  const settings: Record<string, string> = {};
  if (options.memoryLimitBytes) settings.memory_limit = `${Math.floor(options.memoryLimitBytes / 1024 / 1024)}MiB`;
  if (options.tempDirectory) settings.temp_directory = options.tempDirectory;
  if (options.threads) settings.threads = String(options.threads);
  return DuckDBInstance.create(':memory:', settings);
}

/** Runs `fn` on a fresh connection and always closes it (STYLE 10). */
export async function withConnection<T>(db: DuckDBInstance, fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const connection = await db.connect();
  try {
    return await fn(connection);
  } catch (err) {
    throw classifyDuckDBError(err);
  } finally {
    connection.closeSync();
  }
}

/**
 * Opens a database, runs `fn`, closes everything: the lifecycle of one step invocation.
 * `fn` also gets the instance, for a second connection (a streaming read on one connection
 * is cut short by any other statement on it, an appender's flush included).
 */
export async function withDuckDB<T>(options: DuckDBOptions, fn: (c: DuckDBConnection, db: DuckDBInstance) => Promise<T>): Promise<T> {
  const db = await openDuckDB(options);
  try {
    return await withConnection(db, (c) => fn(c, db));
  } finally {
    db.closeSync();
  }
}

/** DuckDB's out-of-memory error becomes `OutOfMemoryError` (507) so the retry function moves up a tier. */
export function classifyDuckDBError(err: unknown): unknown {
  if (err instanceof Error && /out of memory/i.test(err.message)) return new OutOfMemoryError(err.message, err);
  if (err instanceof Error && /^(Conversion|Invalid Input) Error/i.test(err.message)) {
    return new InputError(err.message, [], err);
  }
  return err;
}

/**
 * `['a.parquet', 'b.parquet']` as a DuckDB list literal, each string quoted by DuckDB's own
 * `quotedString`: for the few places DuckDB takes no bound parameter (file lists in views).
 * Identifiers and single strings use `quotedIdentifier` and `quotedString` from
 * `@duckdb/node-api` directly (STYLE 9).
 * @example c.run(`SELECT * FROM read_parquet(${literalList(paths)})`)
 */
export function literalList(values: readonly string[]): string {
  return `[${values.map(quotedString).join(', ')}]`;
}
