// The cluster's side of the Knative manifests: what `npm run manifests` cannot learn from the
// trigger table (`eventing/triggers.ts`) and the function specs (`functions/specs.ts`). Edit
// here, run `npm run manifests`, commit both: CI fails when `knative/` differs from what this
// file and those two generate.

/** The containers of the DuckDB steps at one memory tier. */
export interface TierSettings {
  /** Memory of the tier's containers (request = limit), in HIPPO_TIERS notation: `4GiB`. */
  memory: string;
  /** CPU the tier's containers request (Kubernetes quantity). No CPU limit: DuckDB may burst. */
  cpu: string;
  /** Most instances of one step at this tier (Knative `max-scale`): a fanned-out run's partitions run this many at once. */
  maxScale: number;
  /**
   * DuckDB's spill directory (`/tmp`) is an `emptyDir` of at most this size (Kubernetes quantity):
   * on the node's disk, so a spill counts against ephemeral storage, not the container's memory
   * (a `medium: Memory` emptyDir would count against the memory limit). A pod that writes more is evicted.
   */
  spill: string;
}

export interface ManifestSettings {
  /** The spill `emptyDir` of a DuckDB function that is not tiered (ingest); tiered steps take their tier's. */
  duckdbSpill: string;
  /** Namespace of every object (also the kustomization's `namespace`). */
  namespace: string;
  /**
   * The image every Service runs. The manifests name it `hippo`; the kustomization's `images`
   * entry points that name at `name:tag` (Skaffold replaces it with what it built).
   */
  image: { name: string; tag: string };
  /** Registry of the Skaffold `dev` profile's overlay (`knative/overlays/dev`). */
  devRegistry: string;
  /** HIPPO_STORE of every function: `s3://bucket/prefix` in a cluster. */
  store: string;
  /** HIPPO_BACKUP_STORE of the backup function: another bucket (or another S3) than `store`'s. */
  backupStore: string;
  /**
   * Secret every function takes its environment from when it exists (optional): the `AWS_*`
   * credentials and region, `S3_ENDPOINT`, `HIPPO_TOKEN`.
   */
  envSecret: string;
  /**
   * The Pub/Sub bridge (a ContainerSource posting to the broker): the subscription it pulls
   * (HIPPO_PUBSUB_SUBSCRIPTION) in `projectId`, and where messages it gives up on go
   * (default `<subscription>-dead-letter`; create both, and give the topic a subscription so
   * dead letters are kept). Credentials: GKE Workload Identity, or whatever `envSecret` provides.
   */
  pubsub: { projectId: string; subscription: string; deadLetterTopic?: string };
  broker: {
    name: string;
    /** `bootstrap.servers` of the Kafka broker's config. */
    bootstrapServers: string;
    /** `default.topic.partitions`: the broker's topic is keyed by run id (`partitionkey`). */
    partitions: number;
    /** `default.topic.replication.factor`. */
    replicationFactor: number;
  };
  /** Memory tiers, smallest first: one Service and one Trigger per step and tier. */
  tiers: TierSettings[];
  /** A step attempt's deadline and its delivery timeout, seconds (HIPPO_STEP_TIMEOUT). */
  stepTimeoutSeconds: number;
  /** Per-step exceptions (HIPPO_STEP_TIMEOUTS), e.g. `{ 'pit-join': 590 }`. */
  stepTimeouts: Record<string, number>;
  /** `timeoutSeconds` of every Service: the longest a request may take. */
  timeoutSeconds: number;
  /**
   * The cluster's `max-revision-timeout-seconds` (ConfigMap `config-defaults` in
   * `knative-serving`; 600 unless raised). No Service may ask for more.
   */
  maxRevisionTimeoutSeconds: number;
  /**
   * Services of the tiers above 0 start with no instance (`initial-scale: 0`), so deploying
   * does not need room for a 16 GiB pod of every step. Needs `allow-zero-initial-scale: "true"`
   * in `config-autoscaler`; false gives every Service Knative's default first instance.
   */
  zeroInitialScale: boolean;
}

export const settings: ManifestSettings = {
  namespace: 'hippo',
  image: { name: 'registry.example.com/hippo', tag: '0.1.0' },
  devRegistry: 'localhost:5001',
  store: 's3://hippo/prod',
  backupStore: 's3://hippo-backups/prod',
  envSecret: 'hippo-env',
  pubsub: { projectId: 'my-gcp-project', subscription: 'hippo-vendor' },
  broker: {
    name: 'hippo',
    bootstrapServers: 'my-cluster-kafka-bootstrap.kafka:9092',
    partitions: 12,
    replicationFactor: 3,
  },
  tiers: [
    // Tier 0 is where fan-out runs (a partition reads ~1 M rows, HIPPO_PARTITION_ROWS): 32 pods of
    // 1 GiB at once; the rest of a run's partitions wait in the broker. Higher tiers take the
    // partitions that outgrew tier 0, and the unpartitioned steps.
    { memory: '1GiB', cpu: '500m', maxScale: 32, spill: '4Gi' },
    { memory: '4GiB', cpu: '1', maxScale: 8, spill: '16Gi' },
    { memory: '16GiB', cpu: '2', maxScale: 2, spill: '64Gi' },
  ],
  duckdbSpill: '16Gi',
  stepTimeoutSeconds: 540,
  stepTimeouts: {},
  timeoutSeconds: 600,
  maxRevisionTimeoutSeconds: 600,
  zeroInitialScale: true,
};
