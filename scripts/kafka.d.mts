// Types for kafka.mjs (plain Node ESM, so scripts run without a build step).

export interface KafkaOptions {
  /** Client port on 127.0.0.1; default KAFKA_PORT or 9092. */
  port?: number;
  /** KRaft controller port; default KAFKA_CONTROLLER_PORT, or port + 1. */
  controllerPort?: number;
  /** The broker's directory (properties, data, log, pid file); default .cache/kafka/data-<port>. */
  dir?: string;
  /** Start-up limit, java start → ready; default 90 s. */
  readyTimeoutMs?: number;
  /** SIGTERM → exit limit before SIGKILL; default 30 s. */
  stopTimeoutMs?: number;
  /** No progress lines on stderr. */
  quiet?: boolean;
}

export interface KafkaUpResult {
  /** bootstrap servers, e.g. '127.0.0.1:9092' */
  brokers: string;
  pid: number;
  dir: string;
  log: string;
  alreadyRunning: boolean;
  /** Jar fetch time (0 when cached). */
  fetchMs?: number;
  /** KRaft storage format time (0 when the directory was formatted before). */
  formatMs?: number;
  /** java start → ready. */
  startMs?: number;
  /** When alreadyRunning: how long it waited for the running broker to serve. */
  readyMs?: number;
}

export interface KafkaDownResult {
  stopped: boolean;
  killed: boolean;
  stopMs: number;
}

export interface KafkaStatus {
  running: boolean;
  serving: boolean;
  pid: number | null;
  brokers: string;
  dir: string;
  log: string;
}

export declare const kafkaCacheDir: string;
export declare const kafkaDefaults: Readonly<{ port: number; controllerPort: number; readyTimeoutMs: number; stopTimeoutMs: number }>;
export declare function ensureKafkaJars(opts?: { quiet?: boolean }): Promise<{ libDir: string; fetchMs: number }>;
export declare function probeKafka(port: number, timeoutMs?: number): Promise<Array<{ nodeId: number; host: string; port: number }>>;
export declare function kafkaStatus(opts?: KafkaOptions): Promise<KafkaStatus>;
export declare function kafkaUp(opts?: KafkaOptions): Promise<KafkaUpResult>;
export declare function kafkaDown(opts?: KafkaOptions): Promise<KafkaDownResult>;
export declare function createTopic(opts: { brokers: string; topic: string; partitions?: number }): Promise<void>;
