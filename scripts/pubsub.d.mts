// Types for pubsub.mjs (plain Node ESM, so scripts run without a build step).

export interface PubSubOptions {
  /** Port on 127.0.0.1; default PUBSUB_PORT or 8085. */
  port?: number;
  /** Where the pid file, log and lock go; default .cache/. */
  dir?: string;
  /** Start-up limit, spawn → answering; default 60 s. */
  readyTimeoutMs?: number;
  /** SIGTERM → exit limit before SIGKILL; default 5 s. */
  stopTimeoutMs?: number;
  /** No progress lines on stderr. */
  quiet?: boolean;
}

export interface PubSubUpResult {
  /** e.g. '127.0.0.1:8085': the PUBSUB_EMULATOR_HOST to use. */
  host: string;
  pid: number;
  log: string;
  alreadyRunning: boolean;
  /** spawn → answering. */
  startMs?: number;
  /** When alreadyRunning: how long it waited for the running emulator to answer. */
  readyMs?: number;
}

export interface PubSubDownResult {
  stopped: boolean;
  killed: boolean;
  stopMs: number;
}

export interface PubSubStatus {
  running: boolean;
  serving: boolean;
  pid: number | null;
  host: string;
  log: string;
}

export declare const pubsubCacheDir: string;
export declare const pubsubDefaults: Readonly<{ port: number; project: string; readyTimeoutMs: number; stopTimeoutMs: number }>;
export declare function emulatorCommand(): string;
export declare function probePubSub(host: string, timeoutMs?: number): Promise<boolean>;
export declare function pubsubStatus(opts?: PubSubOptions): Promise<PubSubStatus>;
export declare function pubsubUp(opts?: PubSubOptions): Promise<PubSubUpResult>;
export declare function pubsubDown(opts?: PubSubOptions): Promise<PubSubDownResult>;
export declare function pubsubSetup(opts: { host: string; project?: string; topic: string; subscription: string; maxDeliveryAttempts?: number }): Promise<{ topic: string; subscription: string; deadLetterTopic: string }>;
