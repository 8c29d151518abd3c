import { z } from 'zod';
import { ConfigError } from './errors.ts';

/** A size (`512MiB`, `2GiB`, `1073741824`) as a number of bytes. */
const bytes = z.string().transform((s, ctx) => {
  const n = parseBytes(s);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a size like 512MiB, 2GiB or 1073741824` });
    return z.NEVER;
  }
  return n;
});

/**
 * How much one partition of a fanned-out step reads unless HIPPO_PARTITION_ROWS/_BYTES say
 * otherwise, from the default-scale benchmark (BENCHMARKS.md): the steps peak at ~0.4 KiB of
 * RSS per panel row (delisting-adjust 2,077 MiB at 4.75 M rows) over a ~200 MiB process, and run
 * at ~0.9 M rows/s, so 1 M rows is ~600 MiB and seconds — well inside tier 0 (1 GiB) and a
 * minute; transcript-split peaked at 813 MiB on 57 MB of text at 18 MB/s, so 64 MiB of text a
 * partition stays within its 1 GiB tier and a few seconds.
 */
export const DEFAULT_PARTITION = { rows: 1_000_000, bytes: 64 * 1024 ** 2 } as const;

/** HIPPO_MAX_BODY_BYTES unless set: 1 MiB, far above any run request or CloudEvent. */
export const DEFAULT_MAX_BODY_BYTES = 1024 ** 2;

/** A store URL (DESIGN §12): `file://<dir>` or `s3://<bucket>[/<prefix>]`. */
const storeUrl = z.string().regex(/^(file:\/\/.+|s3:\/\/[^/]+(\/.*)?)$/, 'must be file://<dir> or s3://<bucket>[/<prefix>]');

const schema = z.object({
  HIPPO_STORE: storeUrl.default('file://.hippo'),
  S3_ENDPOINT: z.url().optional(),
  KAFKA_BROKERS: z.string().min(1).optional(),
  HIPPO_TOPIC: z.string().min(1).default('hippo.events'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** The address functions listen on: loopback locally; `0.0.0.0` in a pod (the kubelet probes the pod IP). */
  HIPPO_HOST: z.string().min(1).default('127.0.0.1'),
  K_SINK: z.url().optional(),
  HIPPO_TIER: z.coerce.number().int().min(0).max(9).default(0),
  HIPPO_MEMORY_LIMIT: bytes.optional(),
  HIPPO_TIERS: z
    .string()
    .default('1GiB,4GiB,16GiB')
    .transform((s, ctx) => {
      const parts = s.split(',').map((p) => parseBytes(p.trim()));
      if (parts.some((p) => p === undefined)) {
        ctx.addIssue({ code: 'custom', message: `"${s}" must be comma-separated sizes like 512MiB,2GiB,8GiB` });
        return z.NEVER;
      }
      return parts as number[];
    }),
  /** Checked as RFC 6750's bearer token (Hono's bearerAuth refuses any other header value). */
  HIPPO_TOKEN: z.string().regex(/^[A-Za-z0-9._~+/-]+=*$/, 'must be a bearer token: letters, digits and . _ ~ + / -, then any = (RFC 6750)').optional(),
  /** The largest request body the runs function reads (DESIGN §14); over it: 413. */
  HIPPO_MAX_BODY_BYTES: bytes.pipe(z.number().int().positive()).default(DEFAULT_MAX_BODY_BYTES),
  /** Fan-out (DESIGN §14): the planner splits a run so each partition reads about this many rows (equity-panel: price rows in the window). */
  HIPPO_PARTITION_ROWS: z.coerce.number().int().positive().default(DEFAULT_PARTITION.rows),
  /** …and, for transcripts, about this much text (a size like 64MiB). */
  HIPPO_PARTITION_BYTES: bytes.pipe(z.number().int().positive()).default(DEFAULT_PARTITION.bytes),
  /** Seconds per step attempt; within Knative's default 600 s request limit (DESIGN §11). */
  HIPPO_STEP_TIMEOUT: z.coerce.number().positive().default(540),
  /** Per-step exceptions to HIPPO_STEP_TIMEOUT: `pit-join=1200,export=120`. */
  HIPPO_STEP_TIMEOUTS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      const out: Record<string, number> = {};
      for (const item of s.split(',').map((x) => x.trim()).filter(Boolean)) {
        const m = /^([a-z0-9-]+)=(\d+(?:\.\d+)?)$/.exec(item);
        if (!m || Number(m[2]) <= 0) {
          ctx.addIssue({ code: 'custom', message: `"${item}" is not <step>=<seconds>, e.g. pit-join=1200` });
          return z.NEVER;
        }
        out[m[1]!] = Number(m[2]);
      }
      return out;
    }),
  /** A standing run waits this long after a data change, for more changes, before it re-runs. */
  HIPPO_WATCH_DEBOUNCE_SECONDS: z.coerce.number().min(0).default(10),
  /** How often the watchdog sweeps deadlines (locally; a cluster's PingSource ticks every minute). */
  HIPPO_WATCHDOG_SECONDS: z.coerce.number().positive().default(60),
  HIPPO_CHAOS: z.string().optional(),
  /** Where backups go (functions/backup/): a store URL like HIPPO_STORE's, at the same S3_ENDPOINT. */
  HIPPO_BACKUP_STORE: storeUrl.optional(),
  /** Complete backups kept; older ones are deleted after a new one completes. */
  HIPPO_BACKUP_KEEP: z.coerce.number().int().min(1).default(7),
  /** How often `hippo dev` backs up (when HIPPO_BACKUP_STORE is set); a cluster's PingSource is hourly. */
  HIPPO_BACKUP_SECONDS: z.coerce.number().positive().default(3600),
  /** Local runner only: where `runs` reads worker status from (the runner's own endpoint). */
  HIPPO_WORKERS_URL: z.url().optional(),
  HIPPO_IDLE_SECONDS: z.coerce.number().positive().default(60),
  HIPPO_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** `host:port` of Google's Pub/Sub emulator; unset = Google Cloud. */
  PUBSUB_EMULATOR_HOST: z.string().regex(/^[^\s/]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:8085').optional(),
  PUBSUB_PROJECT_ID: z.string().min(1).optional(),
  /** The Pub/Sub bridge's subscription (short, or `projects/<p>/subscriptions/<s>`); locally, set = `hippo dev` runs the bridge. */
  HIPPO_PUBSUB_SUBSCRIPTION: z.string().min(3).optional(),
  /** Where the bridge publishes messages it gives up on, with a `reason` attribute; default `<subscription>-dead-letter`. */
  HIPPO_PUBSUB_DEAD_LETTER_TOPIC: z.string().min(3).optional(),
  /** Deliveries of one message before the bridge dead-letters it. */
  HIPPO_PUBSUB_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  /** The bridge's first wait before a failed message goes back (doubling per attempt, at most 60 s). */
  HIPPO_PUBSUB_BACKOFF_SECONDS: z.coerce.number().min(0).default(1),
  /** Messages the bridge holds at once (flow control). */
  HIPPO_PUBSUB_MAX_MESSAGES: z.coerce.number().int().min(1).default(10),
});

/**
 * Hippo's configuration, read once from the environment (DESIGN §12) and validated at
 * start-up: a bad value fails with the variable's name. Only entry points (`main.ts`, the
 * CLI) call `loadConfig`; everything below takes the typed `Config`.
 */
export type Config = z.output<typeof schema>;

/** Reads and validates the configuration from `env`; a bad value is a ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable counts as unset, as in a shell `FOO= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = i.path.join('.');
      return `${name}=${JSON.stringify(cleaned[name] ?? '')}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return parsed.data;
}

const units: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3,
};

/** `512MiB` → 536870912; also Kubernetes-style `1Gi`. Undefined when not a size. */
export function parseBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s.trim());
  if (!m) return undefined;
  const unit = units[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit);
}

export function formatBytes(n: number): string {
  for (const [u, f] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= f && n % f === 0) return `${n / f}${u}`;
  }
  return `${n}B`;
}
