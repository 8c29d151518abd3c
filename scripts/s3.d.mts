// Types for s3.mjs (plain Node ESM, so scripts run without a build step).

export interface S3Options {
  /** Port on 127.0.0.1; default S3_PORT or 5000. */
  port?: number;
  /** Where the pid file, log and lock go; default .cache/. */
  dir?: string;
  /** Start-up limit, spawn → answering; default 30 s. */
  readyTimeoutMs?: number;
  /** SIGTERM → exit limit before SIGKILL; default 5 s. */
  stopTimeoutMs?: number;
  /** No progress lines on stderr. */
  quiet?: boolean;
}

export interface S3UpResult {
  /** e.g. 'http://127.0.0.1:5000': the S3_ENDPOINT to use. */
  endpoint: string;
  pid: number;
  log: string;
  alreadyRunning: boolean;
  /** spawn → answering. */
  startMs?: number;
  /** When alreadyRunning: how long it waited for the running server to answer. */
  readyMs?: number;
}

export interface S3DownResult {
  stopped: boolean;
  killed: boolean;
  stopMs: number;
}

export interface S3Status {
  running: boolean;
  serving: boolean;
  pid: number | null;
  endpoint: string;
  log: string;
}

export declare const s3CacheDir: string;
export declare const s3Defaults: Readonly<{ port: number; readyTimeoutMs: number; stopTimeoutMs: number }>;
export declare function probeS3(endpoint: string, timeoutMs?: number): Promise<boolean>;
export declare function s3Status(opts?: S3Options): Promise<S3Status>;
export declare function s3Up(opts?: S3Options): Promise<S3UpResult>;
export declare function s3Down(opts?: S3Options): Promise<S3DownResult>;
