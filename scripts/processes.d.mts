// Types for processes.mjs (plain Node ESM, so scripts run without a build step).
export declare const seconds: (ms: number) => string;
export declare function portFromEnv(name: string, fallback: number): number;
export declare function isAlive(pid: number): boolean;
export declare function runsCommand(pid: number, test: (argv: string[]) => boolean): boolean;
export declare function readPidFile(file: string): { pid: number; [k: string]: unknown } | null;
export declare function withLock<T>(lockDir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T>;
export declare function portTaken(port: number): Promise<boolean>;
export declare function freePort(): Promise<number>;
export declare function logTail(file: string, opts?: { from?: number; lines?: number }): string;
export declare function spawnDetached(cmd: string, args: string[], opts: { cwd: string; out: number; hint?: string; env?: NodeJS.ProcessEnv }): Promise<{ pid: number; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> }>;
export declare function stopGroup(pid: number, signal: NodeJS.Signals): void;
export declare function waitUntilReady(opts: {
  pid: number; what: string; probe: () => Promise<boolean>; timeoutMs: number; log: string; logOffset?: number;
  exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null;
}): Promise<{ ms: number }>;
export declare function stopServer(pid: number, opts: { stopTimeoutMs: number; say?: (line: string) => void }): Promise<{ killed: boolean; stopMs: number }>;
