// One wiring per function (DESIGN §11–12): the environment a function gets follows from what
// its spec says it needs — the store, the broker (`sink`), Pub/Sub, the configuration it
// reads — by this one derivation, for the local runner (local/dev.ts) and the Knative
// manifests (knative/generate.ts) alike. A platform only supplies its values; what one
// platform leaves out, and why, is listed once (`LEFT_OUT`).
//
// ```ts
// envNames(retrySpec); // ['HIPPO_HOST', 'PORT', 'HIPPO_LOG_LEVEL', 'HIPPO_TIERS', 'NODE_OPTIONS']
// functionEnv(svc, 'knative', knativeValues(settings)); // { HIPPO_STORE: 's3://hippo/prod', … }
// ```
import type { Config } from '../shared/config.ts';
import type { FunctionSpec, ServiceSpec } from './specs.ts';

/** Every variable a function may be given (its Config's, and Node's heap limit), in the order a Service lists them. */
export const ENV_NAMES = [
  'HIPPO_STORE', 'S3_ENDPOINT', 'HIPPO_HOST', 'PORT', 'HIPPO_LOG_LEVEL', 'HIPPO_TIERS', 'HIPPO_MEMORY_LIMIT', 'NODE_OPTIONS', 'HIPPO_TIER',
  'HIPPO_STEP_TIMEOUT', 'HIPPO_STEP_TIMEOUTS', 'HIPPO_WATCH_DEBOUNCE_SECONDS', 'HIPPO_TOKEN', 'HIPPO_MAX_BODY_BYTES', 'HIPPO_WORKERS_URL',
  'HIPPO_PARTITION_ROWS', 'HIPPO_PARTITION_BYTES',
  'HIPPO_BACKUP_STORE', 'HIPPO_BACKUP_KEEP', 'HIPPO_CHAOS', 'K_SINK',
  'PUBSUB_EMULATOR_HOST', 'PUBSUB_PROJECT_ID', 'HIPPO_PUBSUB_SUBSCRIPTION', 'HIPPO_PUBSUB_DEAD_LETTER_TOPIC',
  'HIPPO_PUBSUB_MAX_ATTEMPTS', 'HIPPO_PUBSUB_BACKOFF_SECONDS', 'HIPPO_PUBSUB_MAX_MESSAGES',
] as const satisfies readonly (keyof Config | 'NODE_OPTIONS')[];

export type EnvName = (typeof ENV_NAMES)[number];

/** What every function reads: where to listen, how much to log; and Node's heap limit. */
const EVERY_FUNCTION: readonly EnvName[] = ['HIPPO_HOST', 'PORT', 'HIPPO_LOG_LEVEL', 'NODE_OPTIONS'];

/** What each need of a spec brings. */
const NEEDS = {
  store: ['HIPPO_STORE', 'S3_ENDPOINT'],
  sink: ['K_SINK'],
  pubsub: [
    'PUBSUB_EMULATOR_HOST', 'PUBSUB_PROJECT_ID', 'HIPPO_PUBSUB_SUBSCRIPTION', 'HIPPO_PUBSUB_DEAD_LETTER_TOPIC',
    'HIPPO_PUBSUB_MAX_ATTEMPTS', 'HIPPO_PUBSUB_BACKOFF_SECONDS', 'HIPPO_PUBSUB_MAX_MESSAGES',
  ],
} as const satisfies Record<string, readonly EnvName[]>;

/**
 * The variables the clients of a need read themselves (the AWS SDK's credentials and region,
 * Google's), by prefix: not Hippo's to name one by one. Locally they pass through from
 * `hippo dev`'s own environment; in a cluster they are in the env Secret.
 */
const CLIENT_ENV: Partial<Record<keyof typeof NEEDS, RegExp>> = { store: /^(S3_|AWS_)/, pubsub: /^(GOOGLE_|CLOUDSDK_)/ };

/** The variables `fn` reads, in `ENV_NAMES` order: every function's, its needs', the configuration its spec lists. */
export function envNames(fn: FunctionSpec): EnvName[] {
  const wanted = new Set<EnvName>([...EVERY_FUNCTION, ...(fn.config ?? [])]);
  for (const need of needsOf(fn)) for (const name of NEEDS[need]) wanted.add(name);
  return ENV_NAMES.filter((name) => wanted.has(name));
}

/** The prefixes of the client variables `fn` reads (see CLIENT_ENV); empty when it opens no client. */
export function clientEnv(fn: FunctionSpec): RegExp[] {
  return needsOf(fn).flatMap((need) => CLIENT_ENV[need] ?? []);
}

function needsOf(fn: FunctionSpec): (keyof typeof NEEDS)[] {
  return (Object.keys(NEEDS) as (keyof typeof NEEDS)[]).filter((need) => fn[need]);
}

export type Platform = 'local' | 'knative';

/**
 * Where a value comes from when a platform leaves the variable out of the env: the function's
 * default, the env Secret (a cluster's credentials), the platform itself (Knative injects
 * `K_SINK`), or a node argument (the local runner's heap limit).
 */
export type Instead = 'default' | 'secret' | 'injected' | 'node argument';

/**
 * The variables one platform leaves out of every function's env, and what gives the value
 * instead: the one list of how the two platforms' variable names differ. Beyond it a value
 * may leave a variable unset for one Service (a Knative Service's PORT is Serving's to set;
 * in a cluster the watchdog asks the Kubernetes API, not HIPPO_WORKERS_URL).
 */
export const LEFT_OUT = {
  local: {
    HIPPO_HOST: 'default', // loopback: nothing outside this machine calls a function
    HIPPO_MEMORY_LIMIT: 'default', // a step's memory is its tier's (HIPPO_TIERS[HIPPO_TIER]); ingest's the smallest tier's
    NODE_OPTIONS: 'node argument', // a tier's heap limit (local/dev.ts nodeArgs)
  },
  knative: {
    K_SINK: 'injected', // by the SinkBinding (functions with `sink`) or the ContainerSource (event sources)
    S3_ENDPOINT: 'secret', // with the AWS credentials
    HIPPO_TOKEN: 'secret',
    HIPPO_MAX_BODY_BYTES: 'default',
    HIPPO_LOG_LEVEL: 'default',
    HIPPO_WATCH_DEBOUNCE_SECONDS: 'default',
    HIPPO_PARTITION_ROWS: 'default',
    HIPPO_PARTITION_BYTES: 'default',
    HIPPO_BACKUP_KEEP: 'default',
    HIPPO_CHAOS: 'default', // fault drills are for the local platform; never in production
    PUBSUB_EMULATOR_HOST: 'default', // Google's Pub/Sub, not the emulator
    HIPPO_PUBSUB_MAX_ATTEMPTS: 'default',
    HIPPO_PUBSUB_BACKOFF_SECONDS: 'default',
    HIPPO_PUBSUB_MAX_MESSAGES: 'default',
  },
} as const satisfies Record<Platform, Partial<Record<EnvName, Instead>>>;

/** What gives `name` on `platform` instead of the env, when the platform leaves it out. */
export function leftOut(platform: Platform, name: EnvName): Instead | undefined {
  return (LEFT_OUT[platform] as Partial<Record<EnvName, Instead>>)[name];
}

/** A variable's value on a platform: fixed, or per Service; undefined leaves it unset for that Service. */
export type EnvValue = string | undefined | ((svc: ServiceSpec) => string | undefined);

/** What follows from the Service alone, the same on every platform. */
const SERVICE_VALUES = {
  HIPPO_TIER: (svc: ServiceSpec) => (svc.tier === undefined ? undefined : String(svc.tier)),
} satisfies Partial<Record<EnvName, EnvValue>>;

/** A platform's values: one for every variable it does not leave out (the compiler asks for each). */
export type PlatformValues<P extends Platform> = {
  readonly [name in Exclude<EnvName, keyof (typeof LEFT_OUT)[P] | keyof typeof SERVICE_VALUES>]: EnvValue;
};

/**
 * The environment of one Service on `platform`: every variable its function reads that the
 * platform does not leave out, with the platform's value (undefined: unset for this Service).
 */
export function functionEnv<P extends Platform>(svc: ServiceSpec, platform: P, values: PlatformValues<P>): Record<string, string | undefined> {
  const all: Partial<Record<EnvName, EnvValue>> = { ...values, ...SERVICE_VALUES };
  const env: Record<string, string | undefined> = {};
  for (const name of envNames(svc.fn)) {
    if (leftOut(platform, name)) continue;
    const value = all[name];
    env[name] = typeof value === 'function' ? value(svc) : value;
  }
  return env;
}

/** HIPPO_STEP_TIMEOUTS from per-step deadlines: `pit-join=1200,export=120`; undefined when there are none. */
export function stepTimeoutsValue(stepTimeouts: Record<string, number>): string | undefined {
  return Object.entries(stepTimeouts).map(([step, seconds]) => `${step}=${seconds}`).join(',') || undefined;
}
