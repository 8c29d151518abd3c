// The zod pieces several steps' params are made of, one rule each (the strictest that was
// written anywhere): a date is a real calendar date, a time zone is one the runtime knows.
import { z } from 'zod';

/** `YYYY-MM-DD`, and a day the calendar has (`2021-02-30` is refused). */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString().startsWith(s), 'is not a real calendar date');

/** An IANA time zone the runtime knows (`America/New_York`); the default of DESIGN §6.1. */
export const ianaZone = z
  .string()
  .default('America/New_York')
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'is not an IANA time zone (e.g. America/New_York)');

/** The refinement of a `start`/`end` window: `.refine(...windowInOrder)`. */
export const windowInOrder: [(p: { start: string; end: string }) => boolean, { message: string; path: string[] }] = [
  (p) => p.start <= p.end,
  { message: 'start must not be after end', path: ['start'] },
];

/**
 * Which partition of a fanned-out step this invocation is (DESIGN §14): rows are assigned by a
 * hash of their key (`sid`, `transcript_id`) modulo `count`, the same in every partition of a run.
 */
export const partitionParam = z
  .strictObject({ index: z.number().int().min(0), count: z.number().int().min(2).max(1024) })
  .refine((p) => p.index < p.count, { message: 'index must be below count', path: ['index'] });

export type Partition = z.output<typeof partitionParam>;

/** Distinct names that can become output columns (no `__`: the steps' working and audit columns use it). */
export const columnNames = (what: string) =>
  z
    .array(z.string().min(1).max(64))
    .refine((xs) => new Set(xs).size === xs.length, `${what} must not repeat a name`)
    .refine((xs) => xs.every((x) => !x.includes('__')), `${what} may not contain "__"`);
