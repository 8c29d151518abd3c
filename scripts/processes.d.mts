// Types for processes.mjs (plain Node ESM, so scripts run without a build step).
export declare const seconds: (ms: number) => string;
export declare function portFromEnv(name: string, fallback: number): number;
export declare function isAlive(pid: number): boolean;
export declare function runsCommand(pid: number, test: (argv: string[]) => boolean): boolean;
export declare function readPidFile(file: string): { pid: number; [k: string]: unknown } | null;
export declare function withLock<T>(lockDir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T>;
export declare function freePort(): Promise<number>;
export declare function logTail(file: string, opts?: { from?: number; lines?: number }): string;
export declare function spawnDetached(cmd: string, args: string[], opts: { cwd: string; out: number; hint?: string; env?: NodeJS.ProcessEnv }): Promise<{ pid: number; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> }>;
