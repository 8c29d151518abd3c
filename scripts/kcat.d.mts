// Types for kcat.mjs (plain Node ESM, so scripts run without a build step).

export declare const kcatCacheDir: string;
/** The absolute path of a runnable kcat: the one on PATH, else .cache/kcat/kcat. */
export declare function ensureKcat(opts?: { quiet?: boolean }): Promise<string>;
