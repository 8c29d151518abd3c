/** A column's type in a vendor file (`duckdbType` gives DuckDB's). */
export type ColumnType = 'varchar' | 'date' | 'double' | 'integer' | 'timestamp' | 'instant_or_date';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  required?: boolean;
  /** Allowed values, when the column is an enumeration. */
  oneOf?: readonly string[];
}

export interface DatasetSpec {
  name: string;
  columns: readonly ColumnSpec[];
  /** Rows with the same key: the one with the latest `recorded_at` (≤ asOf) wins. */
  key: readonly string[];
  format: 'table' | 'jsonl';
}

/** DuckDB type of each column type. `instant_or_date` keeps the vendor's text: a date-only value means "end of that day" (§7.2). */
export const duckdbType: Record<ColumnType, string> = {
  varchar: 'VARCHAR',
  date: 'DATE',
  double: 'DOUBLE',
  integer: 'INTEGER',
  timestamp: 'TIMESTAMPTZ',
  instant_or_date: 'VARCHAR',
};

/**
 * The input datasets of DESIGN §5: their columns, which are required, their types, and the
 * natural key under which a later-recorded row replaces an earlier one (a vendor correction).
 */
export const datasets: Record<string, DatasetSpec> = {
  securities: {
    name: 'securities',
    format: 'table',
    key: ['sid'],
    columns: [
      { name: 'sid', type: 'varchar', required: true },
      { name: 'ticker', type: 'varchar' },
      { name: 'name', type: 'varchar' },
      { name: 'exchange', type: 'varchar', required: true },
      { name: 'listed_on', type: 'date', required: true },
      { name: 'delisted_on', type: 'date' },
      { name: 'delist_code', type: 'integer' },
      { name: 'delist_return', type: 'double' },
    ],
  },
  prices: {
    name: 'prices',
    format: 'table',
    key: ['sid', 'date'],
    columns: [
      { name: 'sid', type: 'varchar', required: true },
      { name: 'date', type: 'date', required: true },
      { name: 'close', type: 'double' },
      { name: 'ret', type: 'double' },
      { name: 'volume', type: 'double' },
    ],
  },
  symbols: {
    name: 'symbols',
    format: 'table',
    key: ['sid', 'valid_from'],
    columns: [
      { name: 'sid', type: 'varchar', required: true },
      { name: 'ticker', type: 'varchar', required: true },
      { name: 'valid_from', type: 'date', required: true },
      { name: 'valid_to', type: 'date' },
    ],
  },
  memberships: {
    name: 'memberships',
    format: 'table',
    key: ['index_name', 'sid', 'added_on'],
    columns: [
      { name: 'index_name', type: 'varchar', required: true },
      { name: 'sid', type: 'varchar', required: true },
      { name: 'added_on', type: 'date', required: true },
      { name: 'removed_on', type: 'date' },
    ],
  },
  fundamentals: {
    name: 'fundamentals',
    format: 'table',
    key: ['sid', 'field', 'period_end', 'published_at'],
    columns: [
      { name: 'sid', type: 'varchar', required: true },
      { name: 'field', type: 'varchar', required: true },
      { name: 'period_end', type: 'date', required: true },
      { name: 'value', type: 'double', required: true },
      { name: 'published_at', type: 'instant_or_date', required: true },
    ],
  },
  macro: {
    name: 'macro',
    format: 'table',
    key: ['series', 'period', 'realtime_start'],
    columns: [
      { name: 'series', type: 'varchar', required: true },
      { name: 'period', type: 'date', required: true },
      { name: 'value', type: 'double', required: true },
      { name: 'realtime_start', type: 'instant_or_date', required: true },
    ],
  },
  transcripts: {
    name: 'transcripts',
    format: 'jsonl',
    key: ['transcript_id'],
    columns: [
      { name: 'transcript_id', type: 'varchar', required: true },
      { name: 'sid', type: 'varchar', required: true },
      { name: 'call_start', type: 'timestamp', required: true },
      { name: 'published_at', type: 'timestamp', required: true },
      { name: 'text', type: 'varchar', required: true },
    ],
  },
};

export function datasetSpec(name: string): DatasetSpec | undefined {
  return Object.hasOwn(datasets, name) ? datasets[name] : undefined;
}
