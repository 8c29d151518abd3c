import { z } from 'zod';
import { columnNames, ianaZone, partitionParam } from '../../shared/params.ts';

/** The point-in-time rule's settings, for pipelines that take them as their own (equity-panel). */
export const pitRuleFields = {
  /** Local time of day, `HH:MM`, at which a panel date's information set closes. */
  cutoff: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM').default('16:00'),
  /** IANA time zone of `cutoff` and of the "end of day" of a date-only publication. */
  timezone: ianaZone,
  /** Oldest `period_end` still used, in days before the panel date: `540d`. */
  maxAge: z.string().regex(/^\d+d$/, 'must be a number of days like 540d').optional(),
  /** Also write `<name>__period_end` DATE and `<name>__published_at` TIMESTAMPTZ of the chosen row. */
  audit: z.boolean().default(false),
};

/** `pit-join`'s params (DESIGN §7.2): defined once, composed by the equity-panel pipeline. */
export const pitJoinParams = z.strictObject({
  kind: z.enum(['fundamentals', 'macro']),
  /** fundamentals: field names; macro: series names. One output column per name, named exactly as given. */
  names: columnNames('names').refine((xs) => xs.length > 0, 'names must name at least one field or series'),
  ...pitRuleFields,
  /** Which partition of the panel this is (its input is that partition of the panel; nothing else changes). */
  partition: partitionParam.optional(),
});

/** The rule's defaults (DESIGN §6.1), read off the schema. */
export const PIT_DEFAULTS = z.strictObject(pitRuleFields).parse({});

export type PitParams = z.output<typeof pitJoinParams>;
